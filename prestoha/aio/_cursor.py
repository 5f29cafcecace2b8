"""``AsyncCursor``: the cursor of ``prestoha.dbapi``, its waits awaited.

Every method that talks to a coordinator runs the synchronous cursor's own steps
(``execute_steps``, ``fetchmany_steps`` ...) with :func:`prestoha.execution.run_async`:
binding, classification, failover, verified replay and paging are the same code. A
cancelled task (``asyncio.CancelledError``, ``asyncio.timeout``) cancels the query on
its coordinator before the cancellation goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any, Protocol, TypeVar

import trino.dbapi

from prestoha import errors
from prestoha.dbapi import DEFAULT_ROWS_PER_BATCH, Cursor, execution_of, need
from prestoha.execution import (
    AttemptRunner,
    Execution,
    Prefetched,
    Steps,
    read_as_arrow,
    run_async,
    settle,
    take_batches_steps,
)
from prestoha.protocol import arrow_decoding

__all__ = ["AsyncCursor", "RecordBatchStream"]

T = TypeVar("T")

#: Seconds a cancelled task waits for its query's cancel to be sent and answered.
CANCEL_WAIT = 2.0


class _Owner(Protocol):
    """What a cursor needs of its ``AsyncConnection``."""

    @property
    def runners(self) -> list[AttemptRunner]: ...


class AsyncCursor:
    """A cursor for asyncio: ``await cur.execute(sql)``, ``await cur.fetchmany()``,
    ``async for row in cur``. Its attributes are those of :class:`prestoha.Cursor`."""

    def __init__(self, connection: _Owner, cursor: Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    # -- the synchronous cursor's attributes ------------------------------------------

    @property
    def connection(self) -> Any:
        """The :class:`~prestoha.aio.AsyncConnection` this cursor belongs to."""
        return self._connection

    @property
    def description(self) -> list[trino.dbapi.ColumnDescription] | None:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    @property
    def query_id(self) -> str | None:
        return self._cursor.query_id

    @property
    def query(self) -> str | None:
        return self._cursor.query

    @property
    def stats(self) -> dict[str, Any] | None:
        return self._cursor.stats

    @property
    def warnings(self) -> list[Any] | None:
        return self._cursor.warnings

    @property
    def update_type(self) -> str | None:
        return self._cursor.update_type

    @property
    def info_uri(self) -> str | None:
        return self._cursor.info_uri

    @property
    def coordinator(self) -> str | None:
        return self._cursor.coordinator

    @property
    def trace_token(self) -> str | None:
        return self._cursor.trace_token

    @property
    def attempts(self) -> tuple[errors.Attempt, ...]:
        return self._cursor.attempts

    @property
    def prefetched(self) -> Prefetched:
        return self._cursor.prefetched

    # -- statements ---------------------------------------------------------------------

    async def execute(
        self, operation: str, params: Sequence[Any] | None = None, *, idempotent: bool | None = None
    ) -> AsyncCursor:
        """Run ``operation`` (as :meth:`prestoha.Cursor.execute`)."""
        await self._drive(self._cursor.execute_steps(operation, params, idempotent=idempotent))
        return self

    async def executemany(
        self,
        operation: str,
        seq_of_params: Sequence[Sequence[Any]],
        *,
        idempotent: bool | None = None,
    ) -> AsyncCursor:
        """Run ``operation`` once per parameter sequence."""
        steps = self._cursor.executemany_steps(operation, seq_of_params, idempotent=idempotent)
        await self._drive(steps)
        return self

    async def describe(self, sql: str) -> list[trino.dbapi.DescribeOutput]:
        """The output columns of ``sql``, without running it."""
        return await self._drive(self._cursor.describe_steps(sql))

    # -- rows ---------------------------------------------------------------------------

    async def fetchone(self) -> list[Any] | None:
        ex = execution_of(self._cursor)
        if ex.ready():  # no wait: no coroutine machinery for a row already here
            row: list[Any] = ex.take_one()
            return row
        return await self._drive(ex.fetchone_steps())

    async def fetchmany(self, size: int | None = None) -> list[list[Any]]:
        ex = execution_of(self._cursor)
        return await self._drive(ex.fetchmany_steps(self.arraysize if size is None else size))

    async def fetchall(self) -> list[list[Any]]:
        return await self._drive(execution_of(self._cursor).fetchall_steps())

    def __aiter__(self) -> AsyncIterator[list[Any]]:
        return self._rows()

    async def _rows(self) -> AsyncIterator[list[Any]]:
        while batch := await self.fetchmany(max(self.arraysize, 1024)):
            for row in batch:
                yield row

    # -- columns ------------------------------------------------------------------------

    async def fetch_arrow_table(self) -> Any:
        """The rows not fetched yet as one ``pyarrow.Table`` (needs ``prestoha[arrow]``)."""
        pa = need("pyarrow", "fetch_arrow_table", "arrow")
        ex = execution_of(self._cursor)
        decoder = arrow_decoding().BatchDecoder(ex.columns or [])
        read_as_arrow(ex, None)
        batches = await self._drive(take_batches_steps(ex, None, decoder))
        return pa.Table.from_batches(batches, schema=decoder.schema)

    def fetch_record_batch(self, rows_per_batch: int = DEFAULT_ROWS_PER_BATCH) -> RecordBatchStream:
        """The rows not fetched yet as an asynchronous stream of ``pyarrow.RecordBatch``
        of ``rows_per_batch`` rows (``async for batch in cur.fetch_record_batch()``),
        read as they arrive; closing it before its end cancels the query."""
        need("pyarrow", "fetch_record_batch", "arrow")
        if rows_per_batch < 1:
            raise errors.ProgrammingError(
                f"rows_per_batch must be at least 1, not {rows_per_batch}"
            )
        ex = execution_of(self._cursor)
        decoder = arrow_decoding().BatchDecoder(ex.columns or [])
        read_as_arrow(ex, rows_per_batch)
        return RecordBatchStream(self, ex, rows_per_batch, decoder)

    async def fetch_df(self, *, types_mapper: Any = None) -> Any:
        """The rows not fetched yet as a pandas DataFrame built from Arrow columns."""
        need("pandas", "fetch_df", "arrow,pandas")
        return (await self.fetch_arrow_table()).to_pandas(types_mapper=types_mapper)

    async def fetch_polars(self) -> Any:
        """The rows not fetched yet as a ``polars.DataFrame``."""
        pl = need("polars", "fetch_polars", "polars")
        return pl.from_arrow(await self.fetch_arrow_table())

    # -- the end ------------------------------------------------------------------------

    async def cancel(self) -> None:
        """Cancel the running query on its coordinator."""
        runners = self._runners()
        self._cursor.cancel()
        await settle(runners, CANCEL_WAIT)

    async def close(self) -> None:
        """Close the cursor; a query still running is cancelled on its coordinator."""
        runners = self._runners()
        self._cursor.close()
        await settle(runners, CANCEL_WAIT)

    async def __aenter__(self) -> AsyncCursor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _runners(self) -> list[AttemptRunner]:
        """The attempts of the cursor's query (whose cancels a close waits for)."""
        try:
            return execution_of(self._cursor).runners
        except errors.Error:  # no query yet, or the cursor is closed
            return []

    async def _drive(self, steps: Steps[T]) -> T:
        try:
            return await run_async(steps)
        except asyncio.CancelledError:
            # The caller gave up (a cancelled task, a timeout): the query must not keep
            # running for nobody. The cancel goes out before the cancellation goes on.
            runners = self._runners()
            self._cursor.cancel()
            await settle(runners, CANCEL_WAIT)
            raise


class RecordBatchStream:
    """Record batches of one query, read as they arrive (``async for``); ``schema`` is
    the Arrow schema of every batch."""

    def __init__(self, cursor: AsyncCursor, ex: Execution, size: int, decoder: Any) -> None:
        # The cursor is held so that the stream keeps it (and its query) open.
        self._cursor = cursor
        self._ex = ex
        self._size = size
        self._decoder = decoder
        self._finished = False
        self.schema: Any = decoder.schema

    def __aiter__(self) -> RecordBatchStream:
        return self

    async def __anext__(self) -> Any:
        if self._finished:
            raise StopAsyncIteration
        parts = await self._cursor._drive(take_batches_steps(self._ex, self._size, self._decoder))
        if not parts:
            self._finished = True
            raise StopAsyncIteration
        if len(parts) == 1:
            return parts[0]
        import pyarrow as pa

        return pa.concat_batches(parts)

    async def read_all(self) -> Any:
        """The rest of the stream as one ``pyarrow.Table``."""
        import pyarrow as pa

        return pa.Table.from_batches([b async for b in self], schema=self.schema)

    async def close(self) -> None:
        """Stop reading: a query not read to its end is cancelled on its coordinator."""
        if not self._finished:
            self._finished = True
            self._ex.close()
            await settle(self._ex.runners, CANCEL_WAIT)

    async def __aenter__(self) -> RecordBatchStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
