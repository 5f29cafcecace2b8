"""PEP 249 ``Cursor``: thin, each statement is handed to an ``Execution``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator, Iterator, Sequence
from types import TracebackType
from typing import Any, Protocol

import trino.dbapi
import trino.exceptions

from prestoha import errors
from prestoha.dbapi._columnar import ColumnarReads, have_pyarrow
from prestoha.execution import Execution, Prefetched, Steps, run
from prestoha.protocol import Dialect, normalize_columns

__all__ = ["Cursor", "execution_of", "render_parameters"]


class _Statements(Protocol):
    """What a cursor needs of its connection."""

    @property
    def arraysize(self) -> int: ...

    def _check_open(self) -> None: ...

    def _execution(
        self, sql: str, source_sql: str, idempotent: bool | None
    ) -> Steps[Execution]: ...

    @property
    def dialect(self) -> Dialect: ...

    @property
    def legacy_prepared_statements(self) -> bool: ...

    def _forget_prepared(self, name: str) -> None: ...


class _ParamsNotASequence(errors.ProgrammingError, AssertionError):
    """``params`` that are not a list or a tuple: a ProgrammingError, and the
    AssertionError ``trino.dbapi`` raises, so code written for either catches it."""


class _NoQuery(errors.ProgrammingError, AssertionError):
    """A fetch before any ``execute()``: a ProgrammingError (PEP 249), and the
    AssertionError ``trino.dbapi`` raises."""


# The official client renders parameters as SQL literals; its renderer needs no state.
_RENDERER: Any = object.__new__(trino.dbapi.Cursor)


def render_parameters(operation: str, params: Sequence[Any]) -> str:
    """``EXECUTE IMMEDIATE`` text binding ``params`` to ``operation``'s ``?`` marks."""
    return "EXECUTE IMMEDIATE '" + operation.replace("'", "''") + "' USING " + _values(params)


def _values(params: Sequence[Any]) -> str:
    """``params`` as SQL literals, as the official client writes them."""
    try:
        return ",".join(_RENDERER._format_prepared_param(p) for p in params)
    except trino.exceptions.NotSupportedError as exc:
        raise errors.NotSupportedError(str(exc)) from None


class Cursor(ColumnarReads):
    """A PEP 249 cursor. Rows come as lists, values mapped as the trino client maps them;
    or as Arrow columns (``fetch_arrow_table``, ``fetch_record_batch``, ``fetch_df``...)."""

    def __init__(
        self,
        connection: _Statements,
        *,
        stats_callback: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._connection = connection
        self._stats_callback = stats_callback
        self._execution: Execution | None = None
        self._closed = False
        #: The statement prepared for parameters without EXECUTE IMMEDIATE (PrestoDB):
        #: (name, operation), kept while its execution may still be resubmitted.
        self._prepared: tuple[str, str] | None = None
        #: Rows ``fetchmany()`` returns when no size is given.
        self.arraysize: int = connection.arraysize

    @property
    def connection(self) -> Any:
        """The :class:`~prestoha.Connection` this cursor belongs to (PEP 249)."""
        return self._connection

    @property
    def description(self) -> list[trino.dbapi.ColumnDescription] | None:
        """One 7-item ``ColumnDescription`` (trino's named tuple: ``name``, ``type_code``
        ...) per result column, or None before a query with rows."""
        ex = self._execution
        if ex is None or not ex.columns:
            return None
        # In Trino's shape: PrestoDB's signatures differ (kinds, no timestamp precision).
        return [trino.dbapi.ColumnDescription.from_column(c) for c in normalize_columns(ex.columns)]

    @property
    def rowcount(self) -> int:
        """Rows written by the last statement, or -1 when unknown (PEP 249)."""
        ex = self._execution
        if ex is None or ex.update_count is None:
            return -1
        return int(ex.update_count)

    @property
    def query_id(self) -> str | None:
        return self._execution.query_id if self._execution else None

    @property
    def query(self) -> str | None:
        """The SQL the last :meth:`execute` sent (``EXECUTE IMMEDIATE ...`` with parameters)."""
        return self._execution.sql if self._execution else None

    @property
    def stats(self) -> dict[str, Any] | None:
        """The coordinator's latest statistics for the query (state, progress, rows...);
        None before the first query, as in ``trino.dbapi``."""
        return dict(self._execution.stats) if self._execution else None

    @property
    def warnings(self) -> list[Any] | None:
        """The coordinator's warnings for the query; None before the first query."""
        return list(self._execution.warnings) if self._execution else None

    @property
    def update_type(self) -> str | None:
        return self._execution.update_type if self._execution else None

    @property
    def info_uri(self) -> str | None:
        return self._execution.info_uri if self._execution else None

    @property
    def coordinator(self) -> str | None:
        """The URI of the coordinator that serves (or served) the last query."""
        ex = self._execution
        return ex.coordinator.uri if ex and ex.coordinator else None

    @property
    def trace_token(self) -> str | None:
        """The ``X-Trino-Trace-Token`` every attempt of the last query carried."""
        return self._execution.trace_token if self._execution else None

    @property
    def segment_bytes(self) -> int:
        """Bytes of spooled result segments the last query's rows came in (0 when they
        came inline, with the direct protocol)."""
        return self._execution.segment_bytes if self._execution else 0

    @property
    def prefetched(self) -> Prefetched:
        """What the last query has read ahead of you: estimated bytes and rows waiting,
        and the rows of the page being read (bounded by the ``prefetch`` option)."""
        return self._execution.prefetched if self._execution else Prefetched(0, 0, 0)

    @property
    def attempts(self) -> tuple[errors.Attempt, ...]:
        """Every attempt of the last query, oldest first."""
        return tuple(self._execution.attempts) if self._execution else ()

    def execute(
        self,
        operation: str,
        params: Sequence[Any] | None = None,
        *,
        idempotent: bool | None = None,
    ) -> Cursor:
        """Run ``operation`` (``?`` marks bound to ``params``).

        ``idempotent=True`` lets prestoha run a statement it would treat as a write again
        after a coordinator loss; use it only when running it twice is harmless.
        """
        run(self.execute_steps(operation, params, idempotent=idempotent))
        return self

    def execute_steps(
        self, operation: str, params: Sequence[Any] | None, *, idempotent: bool | None
    ) -> Steps[None]:
        """:meth:`execute` as steps (``prestoha.execution.run``)."""
        self._check_open()
        if not isinstance(operation, str):
            raise errors.ProgrammingError(
                f"operation must be a str, not {type(operation).__name__}"
            )
        if params and not isinstance(params, (list, tuple)):
            raise _ParamsNotASequence("params must be a list or a tuple")
        if self._execution is not None:
            self._execution.close()
            self._execution = None
        if not params:
            self._deallocate()
        sql = (yield from self._bind(operation, params)) if params else operation
        execution = yield from self._connection._execution(sql, operation, idempotent)
        self._execution = execution
        execution.on_stats = self._stats_callback
        yield from execution.start_steps()

    def describe(self, sql: str) -> list[trino.dbapi.DescribeOutput]:
        """The output columns of ``sql``, without running it (as ``trino.dbapi``): name,
        catalog, schema, table, type, type size and whether the column is aliased.

        ``sql`` is prepared, described with ``DESCRIBE OUTPUT`` and deallocated; the
        cursor's last query and its rows are left as they were.
        """
        return run(self.describe_steps(sql))

    def describe_steps(self, sql: str) -> Steps[list[trino.dbapi.DescribeOutput]]:
        """:meth:`describe` as steps."""
        self._check_open()
        name = "st_" + uuid.uuid4().hex
        yield from self._run(f"PREPARE {name} FROM {sql}")
        try:
            rows = yield from self._run(f"DESCRIBE OUTPUT {name}")
        finally:
            yield from self._run(f"DEALLOCATE PREPARE {name}")
        return [trino.dbapi.DescribeOutput.from_row(row) for row in rows]

    def genall(self) -> Iterator[list[Any]]:
        """A generator of the last query's rows not fetched yet (``trino.dbapi``'s name)."""
        return iter(self._require())

    def executemany(
        self,
        operation: str,
        seq_of_params: Sequence[Sequence[Any]],
        *,
        idempotent: bool | None = None,
    ) -> Cursor:
        """Run ``operation`` once per parameter sequence (``idempotent`` as for :meth:`execute`)."""
        run(self.executemany_steps(operation, seq_of_params, idempotent=idempotent))
        return self

    def executemany_steps(
        self,
        operation: str,
        seq_of_params: Sequence[Sequence[Any]],
        *,
        idempotent: bool | None,
    ) -> Steps[None]:
        """:meth:`executemany` as steps."""
        self._check_open()
        total = 0
        counted = True
        for params in seq_of_params:
            yield from self.execute_steps(operation, params, idempotent=idempotent)
            yield from self._require().fetchall_steps()
            if self.rowcount >= 0:
                total += self.rowcount
            else:
                counted = False
        if self._execution is not None and counted:
            self._execution.update_count = total

    def fetchone(self) -> list[Any] | None:
        ex = self._require()
        row: list[Any] | None = ex.fetchone()
        return row

    def fetchmany(self, size: int | None = None) -> list[list[Any]]:
        ex = self._require()
        return ex.fetchmany(self.arraysize if size is None else size)

    def fetchall(self) -> list[list[Any]]:
        return self._require().fetchall()

    def __iter__(self) -> Iterator[list[Any]]:
        return iter(self._require())

    def iter_batches(self, size: int | None = None) -> Generator[list[list[Any]], None, None]:
        """Yield the rows in lists of ``size`` (default ``arraysize``).

        Leaving the loop early (``break``, an exception, dropping the iterator) cancels
        the query on the coordinator: nothing keeps running for rows nobody will read.
        """
        ex = self._require()
        size = self.arraysize if size is None else size
        if size < 1:
            raise errors.ProgrammingError(f"size must be at least 1, not {size}")
        finished = False
        try:
            while batch := ex.fetchmany(size):
                yield batch
                # Not held while the next batch is fetched: a caller that has let go of it
                # (fetch_df_chunks does) keeps one batch of rows in memory, not two.
                del batch
            finished = True
        finally:
            if not finished:
                ex.close()

    def fetch_df_chunks(self, size: int | None = None) -> Generator[Any, None, None]:
        """Yield the rows as pandas DataFrames of ``size`` rows (needs ``prestoha[pandas]``).

        With pyarrow installed (``prestoha[arrow]``) each chunk is built from Arrow columns
        (as :meth:`fetch_df`), else from rows. As with :meth:`iter_batches`, stopping early
        cancels the query.
        """
        try:
            import pandas
        except ImportError:
            raise errors.NotSupportedError(
                "fetch_df_chunks needs pandas: pip install 'prestoha[pandas]'"
            ) from None
        if have_pyarrow():
            yield from self._df_chunks_via_arrow(self.arraysize if size is None else size)
            return
        description = self.description or []
        columns = [d[0] for d in description]
        batches = self.iter_batches(size)
        try:
            for batch in batches:
                frame = pandas.DataFrame(batch, columns=columns)
                del batch  # the frame has the values; the rows need not wait for the next one
                yield frame
        finally:
            batches.close()

    def __next__(self) -> list[Any]:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    def setinputsizes(self, sizes: Any) -> None:
        """PEP 249: accepted and ignored (``trino.dbapi`` raises NotSupportedError, which
        PEP 249 does not ask for: implementations are free to do nothing)."""

    def setoutputsize(self, size: Any, column: int | None = None) -> None:
        """PEP 249: accepted and ignored (as :meth:`setinputsizes`)."""

    def cancel(self) -> None:
        """Cancel the running query on its coordinator."""
        if self._execution is not None:
            self._execution.close()

    def close(self) -> None:
        """Close the cursor; a query still running is cancelled on its coordinator."""
        if self._closed:
            return
        self._closed = True
        if self._execution is not None:
            self._execution.close()
        self._deallocate()

    def _bind(self, operation: str, params: Sequence[Any]) -> Steps[str]:
        """The statement that runs ``operation`` with ``params``: ``EXECUTE IMMEDIATE``,
        or on PrestoDB, which has none, or with ``legacy_prepared_statements=True``,
        ``EXECUTE name USING`` a statement prepared with ``PREPARE`` (reused while the
        operation stays the same, as in ``executemany``).

        The prepared statement travels in the session's prepared-statement header, so an
        attempt resubmitted to another coordinator carries it too.
        """
        values = _values(params)
        connection = self._connection
        if connection.dialect.execute_immediate and not connection.legacy_prepared_statements:
            self._deallocate()
            return render_parameters(operation, params)
        if self._prepared is None or self._prepared[1] != operation:
            self._deallocate()
            name = "st_" + uuid.uuid4().hex
            yield from self._run(f"PREPARE {name} FROM {operation}")
            self._prepared = (name, operation)
        return f"EXECUTE {self._prepared[0]} USING {values}"

    def _deallocate(self) -> None:
        prepared, self._prepared = self._prepared, None
        if prepared is not None:
            self._connection._forget_prepared(prepared[0])

    def __enter__(self) -> Cursor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        ex = getattr(self, "_execution", None)
        if ex is not None:
            ex.close()

    def _check_open(self) -> None:
        if self._closed:
            raise errors.InterfaceError("the cursor is closed")
        self._connection._check_open()

    def _run(self, sql: str) -> Steps[list[list[Any]]]:
        execution = yield from self._connection._execution(sql, sql, None)
        try:
            yield from execution.start_steps()
            return (yield from execution.fetchall_steps())
        finally:
            execution.close()

    def _require(self) -> Execution:
        self._check_open()
        if self._execution is None:
            raise _NoQuery("no query was executed on this cursor")
        return self._execution


def execution_of(cursor: Cursor) -> Execution:
    """The execution of ``cursor``'s last query (``ProgrammingError`` before any): what
    ``prestoha.aio`` drives on an event loop."""
    return cursor._require()
