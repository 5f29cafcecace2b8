"""The cursor's columnar reads: Arrow, pandas and polars with no Python object per value.

The method names are ADBC's (``fetch_arrow_table``, ``fetch_record_batch``, ``fetch_df``,
``fetch_polars``), so tools that look for them find them. Each one reads the rows the
cursor has not handed out yet, as pages decoded straight into Arrow columns
(``prestoha.protocol.arrow_decoding``); failover, verified replay and cancelling on an
early stop are the row path's (``prestoha.execution.take_batches``).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from prestoha import errors
from prestoha.execution import read_as_arrow, take_batches
from prestoha.protocol import arrow_decoding

if TYPE_CHECKING:
    from prestoha.execution import Execution

__all__ = ["DEFAULT_ROWS_PER_BATCH", "ColumnarReads", "have_pyarrow", "need"]

#: Rows per batch of ``fetch_record_batch`` when none is given (as DuckDB's).
DEFAULT_ROWS_PER_BATCH = 1_000_000


def have_pyarrow() -> bool:
    """Whether pyarrow can be imported (the ``arrow`` extra)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def need(module: str, method: str, extra: str) -> Any:
    """``module`` imported, or ``NotSupportedError`` naming the extra that installs it."""
    try:
        return __import__(module)
    except ImportError:
        raise errors.NotSupportedError(
            f"{method} needs {module}: pip install 'prestoha[{extra}]'"
        ) from None


class ColumnarReads:
    """The columnar fetch methods of :class:`~prestoha.dbapi.Cursor`."""

    def _require(self) -> Execution:
        raise NotImplementedError

    def fetch_arrow_table(self) -> Any:
        """The rows not fetched yet as one ``pyarrow.Table`` (needs ``prestoha[arrow]``).

        Every value is decoded from the coordinator's JSON straight into Arrow columns;
        the type of each column is in docs/large-results.md.
        """
        pa = need("pyarrow", "fetch_arrow_table", "arrow")
        ex = self._require()
        decoder = _decoder(ex)
        read_as_arrow(ex, None)
        return pa.Table.from_batches(take_batches(ex, None, decoder), schema=decoder.schema)

    def fetch_record_batch(self, rows_per_batch: int = DEFAULT_ROWS_PER_BATCH) -> Any:
        """The rows not fetched yet as a ``pyarrow.RecordBatchReader`` of batches of
        ``rows_per_batch`` rows (the last one shorter), read as they arrive: memory stays
        bounded by the batch and the ``prefetch`` option, whatever the result's size.

        Closing the reader (or the cursor) before its end cancels the query.
        """
        pa = need("pyarrow", "fetch_record_batch", "arrow")
        if rows_per_batch < 1:
            raise errors.ProgrammingError(
                f"rows_per_batch must be at least 1, not {rows_per_batch}"
            )
        ex = self._require()
        decoder = _decoder(ex)
        read_as_arrow(ex, rows_per_batch)
        return pa.RecordBatchReader.from_batches(
            decoder.schema, _batches(self, ex, rows_per_batch, decoder)
        )

    def fetch_df(self, *, types_mapper: Any = None) -> Any:
        """The rows not fetched yet as a pandas DataFrame, built from Arrow columns (needs
        ``prestoha[arrow,pandas]``). ``types_mapper=pandas.ArrowDtype`` keeps Arrow-backed
        columns (no copy, exact decimals and nanoseconds, nullable integers)."""
        need("pandas", "fetch_df", "arrow,pandas")
        need("pyarrow", "fetch_df", "arrow,pandas")
        return self.fetch_arrow_table().to_pandas(types_mapper=types_mapper)

    def fetch_polars(self) -> Any:
        """The rows not fetched yet as a ``polars.DataFrame``, which takes the Arrow
        columns without copying them (needs ``prestoha[polars]``)."""
        pl = need("polars", "fetch_polars", "polars")
        need("pyarrow", "fetch_polars", "polars")
        return pl.from_arrow(self.fetch_arrow_table())

    def _df_chunks_via_arrow(self, size: int) -> Generator[Any, None, None]:
        """``fetch_df_chunks`` through Arrow: each chunk is built column by column."""
        reader = self.fetch_record_batch(size)
        try:
            for batch in reader:
                frame = batch.to_pandas()
                del batch
                yield frame
        finally:
            reader.close()


def _decoder(ex: Execution) -> Any:
    return arrow_decoding().BatchDecoder(ex.columns or [])


def _batches(
    cursor: ColumnarReads, ex: Execution, size: int, decoder: Any
) -> Generator[Any, None, None]:
    # ``cursor`` is held so that the reader keeps it open: a cursor dropped by its caller
    # (``conn.cursor().execute(sql).fetch_record_batch()``) would cancel the query.
    concat = arrow_decoding().concat_batches
    finished = False
    try:
        while parts := take_batches(ex, size, decoder):
            batch = parts[0] if len(parts) == 1 else concat(parts)
            del parts
            yield batch
            del batch  # not held while the next one is built
        finished = True
    finally:
        if not finished:  # the reader was closed or dropped before the end
            ex.close()
