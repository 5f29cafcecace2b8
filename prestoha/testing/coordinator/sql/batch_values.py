"""A result's JSON rows built a column at a time from DuckDB's Arrow batches.

The row path (:func:`.values.row_encoder`) has DuckDB make a Python object per value and then
encodes each value in Python: at about 300,000 rows a second, that, not the client, sets the
pace of a large read. For results whose every column is of a type whose JSON value is the
Python value itself (integers, booleans, varchar, finite doubles) or a slice of Arrow's own
text (``timestamp(p)``), the rows are built here from Arrow columns instead, a batch at a
time, with the very values the row path sends: the same Python ``int``, ``str`` and ``float``
objects, and timestamp text checked to need no rounding and to lie in years 1 to 9999.
Anything else in a batch (a ``NaN``, a timestamp that must be rounded or that Python cannot
hold) goes through the row path's own encoder, so the two paths cannot disagree. A result
with any other column type is read by the row path alone.

pyarrow is optional for the emulator: without it every result takes the row path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prestoha.testing.coordinator.sql.types import TrinoType
from prestoha.testing.coordinator.sql.values import encoder

__all__ = ["BatchEncoder", "batch_encoder", "next_batch"]

BatchEncoder = Callable[[Any], list[Any]]
"""Turns one ``pyarrow.RecordBatch`` of a result into its JSON rows."""

ColumnEncoder = Callable[[Any], list[Any]]

#: Trino types whose JSON value is DuckDB's Python value, and the DuckDB types that give it.
_IDENTITY = {
    "bigint": {"BIGINT", "INTEGER", "SMALLINT", "TINYINT"},
    "integer": {"INTEGER", "SMALLINT", "TINYINT"},
    "smallint": {"SMALLINT", "TINYINT"},
    "tinyint": {"TINYINT"},
    "boolean": {"BOOLEAN"},
    "varchar": {"VARCHAR"},
}
# Python's datetime holds 0001-01-01 to 9999-12-31 (in microseconds since the epoch); DuckDB
# hands values outside it to Python as text, which only the row path's encoder reads.
_FIRST_US = -62_135_596_800_000_000
_LAST_US = 253_402_300_799_999_999


def batch_encoder(
    types: Sequence[TrinoType],
    duck_types: Sequence[str],
    zone: str = "UTC",
    parametric_datetime: bool = True,
    as_text: Sequence[bool] | None = None,
) -> BatchEncoder | None:
    """The encoder of a result's Arrow batches, or None when the row path must read it.

    ``duck_types`` are the names DuckDB gives the result's columns (``BIGINT``, ``VARCHAR``).
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    if not types or any(as_text or ()):
        return None
    columns: list[ColumnEncoder] = []
    for t, duck in zip(types, duck_types, strict=True):
        column = _column(t, duck, zone, parametric_datetime)
        if column is None:
            return None
        columns.append(column)

    def encode(batch: Any) -> list[Any]:
        values = [column(array) for column, array in zip(columns, batch.columns, strict=True)]
        return list(map(list, zip(*values, strict=True)))

    return encode


def _column(t: TrinoType, duck: str, zone: str, parametric: bool) -> ColumnEncoder | None:
    if duck in _IDENTITY.get(t.base, ()):
        return _plain
    if t.base == "double" and duck == "DOUBLE":
        return _doubles(_per_value(encoder(t, zone, parametric)))
    if t.base == "timestamp" and duck == "TIMESTAMP":
        precision = t.precision if parametric else 3
        return _timestamps(precision, _per_value(encoder(t, zone, parametric)))
    return None


def _plain(array: Any) -> list[Any]:
    values: list[Any] = array.to_pylist()
    return values


def _per_value(enc: Callable[[Any], Any] | None) -> ColumnEncoder:
    assert enc is not None

    def column(values: Any) -> list[Any]:
        return [None if v is None else enc(v) for v in values]

    return column


def _doubles(slow: ColumnEncoder) -> ColumnEncoder:
    import pyarrow.compute as pc

    def column(array: Any) -> list[Any]:
        values = array.to_pylist()
        if array.null_count == len(array) or pc.all(pc.is_finite(array)).as_py():
            return list(values)
        return slow(values)  # NaN and the infinities travel as text

    return column


def _timestamps(precision: int, slow: ColumnEncoder) -> ColumnEncoder:
    import pyarrow as pa
    import pyarrow.compute as pc

    keep = min(precision, 6)
    cut = 19 + (keep + 1 if keep else 0)
    pad = "0" * (precision - keep)
    step = 10 ** (6 - keep)

    def column(array: Any) -> list[Any]:
        if array.null_count == len(array):
            return [None] * len(array)
        if array.type != pa.timestamp("us"):
            return slow(_duckdb_values(array))
        micros = array.cast(pa.int64())
        low, high = (v.as_py() for v in pc.min_max(micros).values())
        held = low >= _FIRST_US and high <= _LAST_US  # by Python's datetime
        exact = held
        if held and step > 1:
            whole = pc.multiply(pc.divide(micros, step), step)
            exact = not pc.any(pc.not_equal(micros, whole)).as_py()
        if not exact:
            if held:
                return slow(array.to_pylist())  # datetimes, as DuckDB hands them out
            return slow(_duckdb_values(array))
        # Arrow writes every value with six fraction digits, as isoformat(" ", "microseconds").
        text = pc.utf8_slice_codeunits(array.cast(pa.string()), 0, cut)
        if pad:
            text = pc.binary_join_element_wise(text, pa.scalar(pad), "")
        return list(text.to_pylist())

    return column


def _duckdb_values(array: Any) -> list[Any]:
    """The column's values as DuckDB hands them to Python (text for years Python lacks)."""
    import duckdb
    import pyarrow as pa

    with duckdb.connect() as con:
        return [row[0] for row in con.from_arrow(pa.table({"v": array})).fetchall()]


#: DuckDB's error kinds by the words its messages start with, for errors that reach Python
#: through Arrow's reader (as an ``OSError`` with DuckDB's message) instead of from DuckDB.
_DUCKDB_ERRORS = {
    "Conversion Error": "ConversionException",
    "Out of Range Error": "OutOfRangeException",
    "Invalid Input Error": "InvalidInputException",
    "INTERRUPT Error": "InterruptException",
    "Out of Memory Error": "OutOfMemoryException",
    "Not implemented Error": "NotImplementedException",
    "Binder Error": "BinderException",
    "Catalog Error": "CatalogException",
    "Constraint Error": "ConstraintException",
    "IO Error": "IOException",
}


def next_batch(reader: Any) -> Any:
    """The reader's next batch with rows; None at the end. A DuckDB failure raises as
    DuckDB's error."""
    import duckdb
    import pyarrow as pa

    try:
        while True:
            batch = reader.read_next_batch()
            if batch.num_rows:
                return batch
    except StopIteration:
        return None
    except duckdb.Error:
        raise
    except (OSError, pa.ArrowException) as err:  # the stream failed inside DuckDB
        message = str(err)
        kind = next((k for p, k in _DUCKDB_ERRORS.items() if message.startswith(p + ":")), None)
        raise getattr(duckdb, kind or "Error")(message) from None
