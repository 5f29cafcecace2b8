"""Results read as Arrow columns: the execution's side of ``fetch_arrow_table`` and friends.

A query's rows are decoded by its attempt's thread, before the caller says how it will read
them. The first page with rows keeps its JSON rows beside the Python ones
(:class:`UndecidedRows`), so a caller that asks for Arrow right away gets every row decoded
from the wire. Once the caller asks for Arrow, the pages that follow are decoded straight
into record batches (:class:`ColumnarRows`), cut where the caller's batches will end, so a
batch handed out always ends where the running digest is known.

Verified replay sees the same digest either way. Rows decoded before the switch (the first
``start`` rows) are digested as Python rows, as the row path does; rows from ``start`` on
are digested as the JSON the coordinator sent, before they become columns. A new attempt
gets the same plan and digests each row the same way, so the digest of the rows handed out
does not depend on whether they went out as tuples or as batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prestoha import errors
from prestoha.execution._replay import row_digest_update
from prestoha.execution._steps import Steps, run
from prestoha.protocol import RowDecoder, arrow_decoding, estimated_size

__all__ = ["ColumnarPlan", "ColumnarRows", "UndecidedRows", "decode", "switch", "take_batches"]


@dataclass(frozen=True)
class ColumnarPlan:
    """How an attempt decodes rows once the caller reads them as Arrow."""

    #: The first row decoded into Arrow (rows before it were decoded as Python rows).
    start: int
    #: Batches are cut at ``origin + k * step`` (no cuts when ``step`` is None).
    origin: int = 0
    step: int | None = None

    def pieces(self, first: int, count: int) -> list[int]:
        """Lengths of the pieces rows ``first .. first + count`` are cut into."""
        if self.step is None:
            return [count] if count else []
        out = []
        at, end = first, first + count
        while at < end:
            behind = (at - self.origin) % self.step
            size = min(end - at, self.step - behind)
            out.append(size)
            at += size
        return out


class UndecidedRows(list[Any]):
    """Python rows that keep the JSON rows they came from, for a caller who asks for Arrow."""

    raw: list[Any] | None = None


class ColumnarRows:
    """A page decoded for a caller reading Arrow: the rows before the plan's ``start`` as
    Python rows (with their JSON), then record batches cut where the caller's batches end,
    each with the running digest after it."""

    __slots__ = ("digests", "ends", "head", "head_raw", "nbytes", "pieces")

    def __init__(self, head: list[Any], head_raw: list[Any]) -> None:
        self.head = head
        self.head_raw = head_raw
        self.pieces: list[Any] = []
        self.ends: list[int] = []  # where each piece ends, counted from the page's start
        self.digests: list[Any] = []
        self.nbytes = estimated_size(head)

    def add(self, batch: Any, digest_after: Any) -> None:
        self.pieces.append(batch)
        self.ends.append(len(self) + int(batch.num_rows))
        self.digests.append(digest_after)
        self.nbytes += int(batch.nbytes)

    def __len__(self) -> int:
        return self.ends[-1] if self.ends else len(self.head)

    def __getitem__(self, index: Any) -> Any:
        # A caller reading rows after reading batches gets Arrow's own Python values.
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _ = index.indices(len(self))
        out = list(self.head[start:stop])
        for batch in self.batches(max(start, len(self.head)), stop, None):
            out.extend(list(r) for r in zip(*(c.to_pylist() for c in batch.columns), strict=True))
        return out

    def batches(self, start: int, stop: int, decoder: Any) -> list[Any]:
        """Rows ``start .. stop`` of the page as record batches."""
        out = []
        head = len(self.head)
        if start < head and decoder is not None:
            out.append(decoder.batch(self.head_raw[start : min(stop, head)]))
        begin = head
        for batch, end in zip(self.pieces, self.ends, strict=True):
            lo, hi = max(start, begin), min(stop, end)
            if lo < hi:
                out.append(batch.slice(lo - begin, hi - lo))
            begin = end
        return out

    def digest_at(self, before: Any, pos: int) -> Any:
        """The running digest after the first ``pos`` rows of the page."""
        if pos <= len(self.head):
            d = before.copy()
            row_digest_update(d, self.head[:pos])
            return d
        if pos in self.ends:
            return self.digests[self.ends.index(pos)].copy()
        raise errors.ResultDivergedError(
            f"cannot verify the rows handed out up to row {pos} of a page: the batch size "
            "changed while the result was read",
            rows_compared=pos,
        )


def decode(
    raw: list[Any],
    *,
    first: int,
    plan: ColumnarPlan | None,
    keep_raw: bool,
    rows: RowDecoder,
    batches: Any,
    digest: Any,
) -> tuple[Any, Any]:
    """``raw`` (rows ``first ..``) decoded as the plan says: (the page's rows, the running
    digest before them). Without a plan the rows are Python rows, as the row path makes."""
    before = _copy(digest)
    head = len(raw) if plan is None else max(0, min(len(raw), plan.start - first))
    part = raw[:head] if head < len(raw) else raw
    kept = list(part) if keep_raw or plan is not None else None
    mapped = rows.rows(part) if head else []
    if digest is not None and mapped:
        row_digest_update(digest, mapped)
    if plan is None:
        if kept is None:
            return mapped, before
        undecided = UndecidedRows(mapped)
        undecided.raw = kept
        return undecided, before
    page = ColumnarRows(mapped, kept or [])
    at = head
    for size in plan.pieces(first + head, len(raw) - head):
        piece = raw[at : at + size]
        if digest is not None:
            row_digest_update(digest, piece)
        page.add(batches.batch(piece), _copy(digest))
        at += size
    return page, before


def _copy(digest: Any) -> Any:
    return None if digest is None else digest.copy()


def switch(ex: Any, step: int | None) -> None:
    """From now on the rows of ``ex`` (an ``Execution``; typed loosely, as it imports this
    module) are read as Arrow batches of ``step`` rows (None: at once)."""
    dispatch = ex._dispatch
    runner = dispatch.runner
    if runner is not None:
        dispatch.columnar = runner.declare(ColumnarPlan(0, ex._handed, step))
    # Batches are worked on by the caller: fetch the next pages meanwhile (after the plan is
    # declared, so the background fetcher decodes them as Arrow).
    ex.read_ahead()


def take_batches(ex: Any, size: int | None, batches: Any) -> list[Any]:
    """The next ``size`` rows (all of them when None) as record batches."""
    return run(take_batches_steps(ex, size, batches))


def take_batches_steps(ex: Any, size: int | None, batches: Any) -> Steps[list[Any]]:
    """The next ``size`` rows (all of them when None) as record batches.

    The same bookkeeping as ``Execution.fetchmany``: rows taken by a call that a failover
    interrupts are taken again from the new attempt, and with a ``size``, rows already in
    the batch are handed out before an error is raised (on the next call).
    """
    out: list[Any] = []
    count = 0
    start = ex._handed
    ex._mark = (start, ex._page, ex._pos)
    try:
        while size is None or count < size:
            more = ex._has_rows() if size is None else ex._more(out)
            if not (yield from more):
                break
            if ex._handed < start + count:  # a failover went back to ``start``
                out.clear()
                count = 0
            page = ex._page
            assert page is not None
            left = len(page.rows) - ex._pos
            n = left if size is None else min(left, size - count)
            out.extend(_batches(page.rows, ex._pos, n, batches))
            ex._pos += n
            ex._handed += n
            count += n
    finally:
        ex._mark = None
    return out


def _batches(rows: Any, pos: int, n: int, batches: Any) -> list[Any]:
    if isinstance(rows, ColumnarRows):
        return rows.batches(pos, pos + n, batches)
    raw = getattr(rows, "raw", None)
    if raw is not None:
        return [batches.batch(raw[pos : pos + n])]
    # Rows decoded before the caller asked for Arrow: only their Python values are left.
    return [arrow_decoding().python_batch(rows[pos : pos + n], batches.schema)]
