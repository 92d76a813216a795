"""Generator statements for benchmarks, serialised once to a cache file (not timed)."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import orjson

from lrs.generator import GeneratorConfig, batches, generate

CACHE = Path(tempfile.gettempdir()) / "lrs-bench-cache"


def config(count: int, *, seed: int = 7, learners: int | None = None) -> GeneratorConfig:
    """The data set: ``learners`` people, by default enough for ``count`` statements (about
    150 statements each); fewer statements than the set holds are its first ``count`` in time."""
    return GeneratorConfig(seed=seed, learners=learners or max(10, count // 120))


def statements(
    count: int, *, seed: int = 7, learners: int | None = None
) -> Iterator[dict[str, object]]:
    """The first ``count`` statements of :func:`config`'s data set."""
    return itertools.islice(generate(config(count, seed=seed, learners=learners)), count)


def batch_file(count: int, size: int, *, seed: int = 7, learners: int | None = None) -> Path:
    """A file of JSON arrays, one request body per line, generated on first use."""
    CACHE.mkdir(parents=True, exist_ok=True)
    people = "" if learners is None else f"-{learners}l"
    path = CACHE / f"statements-{seed}-{count}{people}-{size}.jsonl"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    written = 0
    with tmp.open("wb") as out:
        for batch in batches(statements(count, seed=seed, learners=learners), size):
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
