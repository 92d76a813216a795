"""Generator statements for benchmarks, serialised once to a cache file (not timed)."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import orjson

from lrs.generator import GeneratorConfig, batches, generate

CACHE = Path(tempfile.gettempdir()) / "lrs-bench-cache"


def statements(count: int, *, seed: int = 7) -> Iterator[dict[str, object]]:
    """``count`` statements from enough generated learners (about 150 statements each)."""
    learners = max(10, count // 120)
    config = GeneratorConfig(seed=seed, learners=learners)
    return itertools.islice(generate(config), count)


def batch_file(count: int, size: int, *, seed: int = 7) -> Path:
    """A file of JSON arrays, one request body per line, generated on first use."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"statements-{seed}-{count}-{size}.jsonl"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    written = 0
    with tmp.open("wb") as out:
        for batch in batches(statements(count, seed=seed), size):
            out.write(orjson.dumps(batch) + b"\n")
            written += len(batch)
    if written < count:
        raise RuntimeError(f"the generator gave {written} statements, fewer than {count}")
    tmp.rename(path)
    return path


def read_batches(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        for line in handle:
            yield line.rstrip(b"\n")
