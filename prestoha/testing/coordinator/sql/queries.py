"""Running queries: translate, execute on DuckDB, type the output, stream encoded rows."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
from sqlglot import exp

from prestoha.testing.coordinator.sql.batch_values import BatchEncoder, batch_encoder, next_batch
from prestoha.testing.coordinator.sql.context import Context
from prestoha.testing.coordinator.sql.duckdb_errors import from_duckdb_error
from prestoha.testing.coordinator.sql.duckdb_types import from_duckdb, is_mapped
from prestoha.testing.coordinator.sql.inference import align
from prestoha.testing.coordinator.sql.session import Column, StatementResult, session_zone
from prestoha.testing.coordinator.sql.translate import ANON_PREFIX, Translation, translate
from prestoha.testing.coordinator.sql.types import TrinoType, merge, parse_type
from prestoha.testing.coordinator.sql.values import row_encoder

__all__ = ["FETCH_ROWS", "OutputColumn", "execute_query", "run_query", "static_result"]

log = logging.getLogger("prestoha.testing.coordinator.sql.queries")

FETCH_ROWS = 4096
"""Rows fetched from DuckDB per batch; small enough to cancel quickly, big enough to be cheap."""


@dataclass
class OutputColumn:
    """One output column of a query with its Trino type."""

    name: str
    type: TrinoType
    as_text: bool = False  # DuckDB type without a Trino counterpart: sent as its text


def to_columns(outputs: Sequence[OutputColumn], parametric_datetime: bool) -> list[Column]:
    """Protocol columns (display type and typeSignature) for output columns."""
    return [
        Column(o.name, o.type.display(parametric_datetime), o.type.signature(parametric_datetime))
        for o in outputs
    ]


def _output_names(tree: exp.Expression, names: list[str]) -> list[str]:
    top = tree
    while isinstance(top, (exp.Subquery, exp.Paren, exp.SetOperation)):
        top = top.this
    if isinstance(top, exp.Values):
        return [f"_col{i}" for i in range(len(names))]
    return [f"_col{i}" if n.startswith(ANON_PREFIX) else n for i, n in enumerate(names)]


def execute_query(
    ctx: Context, tree: exp.Expression
) -> tuple[Any, list[OutputColumn], Translation]:
    """Translate and start a query: the DuckDB result, its typed outputs, the translation."""
    translation = translate(tree, ctx.resolve_table, ctx.session_values())
    try:
        result = ctx.cur.execute(translation.duck_sql)
    except duckdb.Error as err:
        raise from_duckdb_error(err, ctx.sql) from None
    description = result.description or []
    hints = align(translation.hints, len(description))
    names = _output_names(tree, [d[0] for d in description])
    outputs = [
        OutputColumn(name, merge(hint, from_duckdb(d[1])), not is_mapped(d[1]))
        for name, hint, d in zip(names, hints, description, strict=True)
    ]
    return result, outputs, translation


class _Stream:
    """Rows fetched from DuckDB a batch at a time and encoded lazily.

    :meth:`close` may be called from another thread while a consumer is inside ``next()``: it
    never touches the generator, only flags the stop, interrupts DuckDB and releases the
    cursor under the same lock the generator holds while fetching.
    """

    def __init__(
        self,
        cur: Any,
        result: Any,
        encode: Callable[[Sequence[Any]], list[Any]],
        sql: str,
        release: Callable[[], None],
        batches: BatchEncoder | None = None,
    ) -> None:
        self.cur = cur
        self.batches = batches  # encodes whole Arrow batches, when every column allows it
        self.reader: Any = None
        self.result = result
        self.encode = encode
        self.sql = sql
        self.release = release
        self.stopped = False
        self.released = False
        self.lock = threading.Lock()

    def rows(self) -> Iterator[list[Any]]:
        """The encoded rows (a generator)."""
        encode, batches = self.encode, self.batches
        try:
            while True:
                with self.lock:
                    if self.stopped or self.released:
                        return
                    try:
                        raw = self._batch() if batches else self.result.fetchmany(FETCH_ROWS)
                    except duckdb.Error as err:
                        if self.stopped:
                            return
                        raise from_duckdb_error(err, self.sql) from None
                if not raw:
                    return
                yield from map(encode, raw) if batches is None else batches(raw)
        finally:
            with self.lock:
                self._release_locked()

    def _batch(self) -> Any:
        if self.reader is None:
            self.reader = self.result.to_arrow_reader(FETCH_ROWS)
        return next_batch(self.reader)

    def _release_locked(self) -> None:
        if self.released:
            return
        self.released = True
        try:
            self.release()
        except Exception:  # releasing must never fail the statement
            log.debug("releasing a DuckDB cursor failed", exc_info=True)

    def close(self) -> None:
        """Stop producing rows and release the cursor (safe from any thread, repeatable)."""
        self.stopped = True
        try:
            self.cur.interrupt()
        except Exception:
            log.debug("interrupting a DuckDB cursor failed", exc_info=True)
        with self.lock:
            self._release_locked()


def run_query(ctx: Context, tree: exp.Expression, release: Callable[[], None]) -> StatementResult:
    """Start a query and return its streamed result; ``release`` runs when rows are done."""
    result, outputs, _ = execute_query(ctx, tree)
    parametric = ctx.session.parametric_datetime
    encode = row_encoder(
        [o.type for o in outputs],
        session_zone(ctx.session),
        parametric_datetime=parametric,
        as_text=[o.as_text for o in outputs],
    )
    batches = batch_encoder(
        [o.type for o in outputs],
        [str(d[1]) for d in result.description or []],
        session_zone(ctx.session),
        parametric_datetime=parametric,
        as_text=[o.as_text for o in outputs],
    )
    stream = _Stream(ctx.cur, result, encode, ctx.sql, release, batches)
    rows = stream.rows()
    close = stream.close

    return StatementResult(
        columns=to_columns(outputs, parametric),
        rows=rows,
        changes=ctx.changes,
        on_close=close,
    )


def static_result(
    ctx: Context,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    **kwargs: Any,
) -> StatementResult:
    """A result computed in Python: ``columns`` are (name, Trino type text) pairs."""
    types = [parse_type(t) for _, t in columns]
    parametric = ctx.session.parametric_datetime
    encode = row_encoder(types, session_zone(ctx.session), parametric_datetime=parametric)
    outputs = [OutputColumn(n, t) for (n, _), t in zip(columns, types, strict=True)]
    return StatementResult(
        columns=to_columns(outputs, parametric),
        rows=iter([encode(r) for r in rows]),
        changes=ctx.changes,
        **kwargs,
    )
