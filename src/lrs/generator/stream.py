"""Entry points: :class:`Dataset`, :func:`generate`, :func:`roster`, :func:`batches`.

The statement stream is the time-ordered merge of the per-story streams of
:mod:`lrs.generator.journeys`. Memory is bounded by the number of streams (one pending
statement each, roughly learners x programs), not by the number of statements, so a million
statements stream in constant memory per learner.

Order: statements come out in non-decreasing ``timestamp`` order, with one deliberate
exception: a re-sent duplicate (``duplicate_rate``) keeps the ``timestamp`` of its original but
comes out a little later (seconds to half an hour), as a client's retry would.
"""

from __future__ import annotations

import copy
import heapq
import random
from collections.abc import Iterable, Iterator
from typing import Any, cast

from lrs.generator.config import GeneratorConfig
from lrs.generator.journeys import Context, Stream
from lrs.generator.model import Catalogue, Organisation
from lrs.generator.timefmt import MINUTE, SECOND

Statement = dict[str, Any]

# (time, tie-breaker, stream to resume for the statement | None, ready statement | None,
#  whether the ready statement is a re-sent duplicate, which is never duplicated again)
_Entry = tuple[int, int, Stream | None, Statement | None, bool]


class Dataset:
    """One generated data set: its organisation, catalogue, roster and statements.

    Building it draws the organisation and catalogue; :meth:`statements` starts a fresh,
    identical stream each time it is called.
    """

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.organisation = Organisation.build(config)
        self.catalogue = Catalogue.build(config)

    def roster(self) -> list[dict[str, Any]]:
        """The HR roster (see :meth:`Organisation.roster`)."""
        return self.organisation.roster()

    def statements(self) -> Iterator[Statement]:
        """Every statement of the data set, merged in time order (see the module docstring)."""
        ctx = Context(self.config, self.organisation, self.catalogue)
        return _merge(ctx, ctx.streams())


def generate(config: GeneratorConfig) -> Iterator[Statement]:
    """Stream the statements ``config`` describes; same config and seed, same statements.

    Consume it as a stream where you can: ``list(generate(...))`` of hundreds of thousands of
    statements is held back by CPython's cyclic garbage collector re-scanning every retained
    dict (about 3x slower); wrap such a collection in ``gc.disable()``/``gc.enable()`` or
    ``gc.freeze()`` if you really need it all at once.
    """
    return Dataset(config).statements()


def roster(config: GeneratorConfig) -> list[dict[str, Any]]:
    """The roster of ``config``'s organisation, one dict per learner."""
    return Organisation.build(config).roster()


def batches(statements: Iterable[Statement], size: int) -> Iterator[list[Statement]]:
    """Group statements into lists of at most ``size`` for POSTing.

    A batch never holds two statements with the same id: the LRS SHOULD reject such a batch
    with 400 (xAPI 1.0.3 Communication 2.1.2), so a re-sent duplicate starts a new batch.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    batch: list[Statement] = []
    ids: set[object] = set()
    for statement in statements:
        statement_id = statement.get("id")
        if len(batch) >= size or (statement_id is not None and statement_id in ids):
            yield batch
            batch, ids = [], set()
        batch.append(statement)
        if statement_id is not None:
            ids.add(statement_id)
    if batch:
        yield batch


def _merge(ctx: Context, streams: Iterable[Stream]) -> Iterator[Statement]:
    """Merge streams by time; schedule deferred statements and re-sent duplicates.

    The heap holds, per stream, the time it announced for its next statement; the statement is
    built (the stream resumed) only when it is the earliest. Statements a stream defers while
    building are later than the one being built, so the output stays ordered.
    """
    heap: list[_Entry] = []
    seq = 0
    for new_stream in streams:
        first = next(new_stream, None)
        if first is not None:
            heap.append((cast(int, first), seq, new_stream, None, False))
            seq += 1
    heapq.heapify(heap)

    pending = ctx.pending
    duplicate_rate = ctx.config.duplicate_rate
    dup_rng = random.Random(f"lrs-generator/{ctx.config.seed}/duplicates")
    heappop, heappush, heapreplace = heapq.heappop, heapq.heappush, heapq.heapreplace
    while heap:
        ts, _, stream, ready, resent = heap[0]
        if stream is None:
            heappop(heap)
            statement = cast(Statement, ready)
        else:
            statement = cast(Statement, next(stream))
            following = next(stream, None)
            if following is None:
                heappop(heap)
            else:
                heapreplace(heap, (cast(int, following), seq, stream, None, False))
                seq += 1
        if pending:
            for deferred_ts, deferred in pending:
                heappush(heap, (deferred_ts, seq, None, deferred, False))
                seq += 1
            pending.clear()
        if duplicate_rate and not resent and dup_rng.random() < duplicate_rate:
            delay = SECOND + int(dup_rng.random() * 30 * MINUTE)
            heappush(heap, (ts + delay, seq, None, copy.deepcopy(statement), True))
            seq += 1
        yield statement
