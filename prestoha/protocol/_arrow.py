"""Trino's JSON values straight into Arrow columns, with no Python object per row.

A page's rows arrive as JSON arrays (``[[1, "a"], [2, "b"]]``). :class:`BatchDecoder` turns
them column by column into a ``pyarrow.RecordBatch``: the rows are transposed once (in C, by
``zip``), then each column becomes one Arrow array in one call, with Arrow's own kernels
parsing the text of decimals, dates and timestamps. Only the types Arrow cannot parse in
bulk (base64 binaries, intervals, floats written as ``"NaN"``) take a step per value, and
nested values (``array``, ``map``, ``row``) are flattened level by level into their children.

Measured on (bigint, varchar, double, timestamp(3)) pages, this is about five times faster
than mapping rows to Python values; rewriting the page for ``pyarrow.json`` (which wants an
object per line) costs more than it saves.

The mapping of every Trino type is in docs/large-results.md; :func:`arrow_type` is its code.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from prestoha.protocol._presto_values import column_fixers, normalize_columns

__all__ = ["POOL", "BatchDecoder", "arrow_schema", "arrow_type", "concat_batches", "python_batch"]

#: Where every array prestoha builds lives: the C library's allocator. pyarrow's default pool
#: (mimalloc or jemalloc) keeps the pages it freed for reuse, per thread, and here the arrays
#: are built on the fetching thread and freed on the caller's: streaming 10M rows through
#: ``fetch_record_batch`` held about 10 MiB more, and more the longer it ran (B4c).
POOL = pa.system_memory_pool()

Signature = dict[str, Any]
Convert = Callable[[Sequence[Any]], pa.Array]

_INTEGERS = {"tinyint": pa.int8(), "smallint": pa.int16(), "integer": pa.int32()}
_INTEGERS["bigint"] = pa.int64()
#: Types that travel as base64 text (VarbinaryEncoder, and the sketches as SqlVarbinary).
_BINARY = {"varbinary", "HyperLogLog", "P4HyperLogLog", "SetDigest", "tdigest", "qdigest"}
_BINARY |= {"KllSketch"}
_FLOAT_TEXT = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _args(signature: Signature) -> list[dict[str, Any]]:
    args: list[dict[str, Any]] = signature.get("arguments") or []
    return args


def _precision(signature: Signature, default: int = 3) -> int:
    args = _args(signature)
    return int(args[0]["value"]) if args and args[0].get("kind") == "LONG" else default


def _unit(precision: int) -> str:
    """The Arrow unit a Trino precision needs: digits past nine are cut (Arrow stops at ns)."""
    return "s" if precision == 0 else "ms" if precision <= 3 else "us" if precision <= 6 else "ns"


def _fields(signature: Signature) -> list[tuple[str, Signature]]:
    fields = []
    for i, arg in enumerate(_args(signature)):
        value = arg["value"]
        name = (value.get("fieldName") or {}).get("name") or f"field{i}"
        fields.append((name, value["typeSignature"]))
    return fields


def arrow_type(signature: Signature) -> pa.DataType:
    """The Arrow type of a Trino column type (its ``typeSignature``)."""
    raw = signature["rawType"]
    if raw == "boolean":
        return pa.bool_()
    if raw in _INTEGERS:
        return _INTEGERS[raw]
    if raw == "real":
        return pa.float32()
    if raw == "double":
        return pa.float64()
    if raw == "decimal":
        precision, scale = (int(a["value"]) for a in _args(signature))
        return (
            pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)
        )
    if raw in _BINARY:
        return pa.binary()
    if raw == "date":
        return pa.date32()
    if raw == "time":
        unit = _unit(_precision(signature))
        return pa.time32(unit) if unit in ("s", "ms") else pa.time64(unit)
    if raw == "timestamp":
        return pa.timestamp(_unit(_precision(signature)))
    if raw == "timestamp with time zone":
        return pa.timestamp(_unit(_precision(signature)), tz="UTC")
    if raw == "interval year to month":
        return pa.month_day_nano_interval()
    if raw == "interval day to second":
        return pa.duration("ms")
    if raw == "array":
        return pa.list_(arrow_type(_args(signature)[0]["value"]))
    if raw == "map":
        key, value = (arrow_type(a["value"]) for a in _args(signature))
        return pa.map_(key, value)
    if raw == "row":
        return pa.struct([pa.field(n, arrow_type(s)) for n, s in _fields(signature)])
    if raw == "unknown":
        return pa.null()
    # varchar, char, json, ipaddress, uuid, time with time zone, geometry...: their text
    return pa.string()


def arrow_schema(columns: list[dict[str, Any]]) -> pa.Schema:
    """The schema of a result with these columns (Trino's ``columns``)."""
    normalized = normalize_columns(columns)
    return pa.schema([pa.field(c["name"], arrow_type(c["typeSignature"])) for c in normalized])


class BatchDecoder:
    """Builds a ``RecordBatch`` from a page of JSON rows, one column at a time."""

    def __init__(self, columns: list[dict[str, Any]]) -> None:
        normalized = normalize_columns(columns)
        self.schema = arrow_schema(columns)
        self._converters = [converter(c["typeSignature"]) for c in normalized]
        self._fixers = column_fixers(normalized)

    def batch(self, rows: list[Any]) -> pa.RecordBatch:
        """``rows`` (JSON arrays as parsed) as one record batch of this schema."""
        if not rows:
            return pa.RecordBatch.from_pylist([], schema=self.schema)
        arrays = []
        for column, convert, fix in zip(
            zip(*rows, strict=True), self._converters, self._fixers, strict=True
        ):
            values: Sequence[Any] = column
            if fix is not None:
                values = [None if v is None else fix(v) for v in column]
            arrays.append(convert(values))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


# -- one converter per type: a sequence of JSON values to an Arrow array --------------------


def converter(signature: Signature) -> Convert:
    """The function turning a column's JSON values into an Arrow array of its type."""
    raw = signature["rawType"]
    target = arrow_type(signature)
    if raw in ("real", "double"):
        return lambda values: _floats(values, target)
    if raw == "decimal" or raw == "date":
        return lambda values: _array(values, pa.string()).cast(target, memory_pool=POOL)
    if raw in _BINARY:
        return lambda values: _array([_b64(v) for v in values], pa.binary())
    if raw == "timestamp":
        return lambda values: _timestamps(values, target)
    if raw == "time":
        return lambda values: _times(values, target)
    if raw == "timestamp with time zone":
        return lambda values: _zoned(values, target)
    if raw == "interval year to month":
        return lambda values: _array([_months(v) for v in values], target)
    if raw == "interval day to second":
        return lambda values: _array([_millis(v) for v in values], target)
    if raw == "array":
        return _list_converter(_args(signature)[0]["value"])
    if raw == "map":
        return _map_converter(*(a["value"] for a in _args(signature)))
    if raw == "row":
        return _row_converter(signature)
    if target == pa.string():
        return lambda values: _array(values, pa.string())
    return lambda values: _array(values, target)


def _array(values: Any, target: pa.DataType) -> pa.Array:
    return pa.array(values, target, memory_pool=POOL)


def concat_batches(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """``batches`` (of one schema) as one record batch."""
    return pa.concat_batches(batches, memory_pool=POOL)


def _floats(values: Sequence[Any], target: pa.DataType) -> pa.Array:
    try:
        return _array(values, target)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # NaN and infinities travel as text
        return _array([_FLOAT_TEXT.get(v, v) if isinstance(v, str) else v for v in values], target)


def _b64(value: Any) -> bytes | None:
    return None if value is None else binascii.a2b_base64(value)


def _cut(values: pa.Array, target: pa.DataType, width: int) -> pa.Array:
    """Text past nine fraction digits cut to nine, the most Arrow holds (ns)."""
    return (
        pc.utf8_slice_codeunits(values, 0, width, memory_pool=POOL)
        if target.unit == "ns"
        else values
    )


def _timestamps(values: Sequence[Any] | pa.Array, target: pa.DataType) -> pa.Array:
    text = values if isinstance(values, pa.Array) else _array(values, pa.string())
    try:
        return _cut(text, target, 29).cast(target, memory_pool=POOL)
    except pa.ArrowInvalid:  # years outside 0000-9999: parse them one by one
        pass
    try:
        return _array([_epoch(v, target.unit) for v in text.to_pylist()], target)
    except OverflowError:  # 64 bits of nanoseconds reach from 1677 to 2262
        raise ValueError(
            f"a {target} value is out of Arrow's range for its unit; cast the column to a "
            "lower precision in SQL (timestamp(6) reaches year 294,000)"
        ) from None


def _times(values: Sequence[Any], target: pa.DataType) -> pa.Array:
    text = pc.binary_join_element_wise(
        "1970-01-01 ", _array(values, pa.string()), "", memory_pool=POOL
    )
    stamp = _cut(text, target, 29).cast(pa.timestamp(target.unit), memory_pool=POOL)
    return stamp.cast(target, memory_pool=POOL)


_ZONED = re.compile(r"^(?P<local>\S+ \S+) (?P<zone>\S+)$")


def _zoned(values: Sequence[Any], target: pa.DataType) -> pa.Array:
    """Each value's instant, in UTC: Arrow keeps one zone per column, Trino one per value."""
    parts = pc.extract_regex(_array(values, pa.string()), _ZONED.pattern, memory_pool=POOL)
    local = _timestamps(pc.struct_field(parts, "local"), pa.timestamp(target.unit))
    zones = pc.struct_field(parts, "zone")
    instants = pa.nulls(len(values), pa.int64(), memory_pool=POOL)
    for zone in pc.unique(zones.drop_null()).to_pylist():
        here = pc.fill_null(pc.equal(zones, zone, memory_pool=POOL), False)
        stamped = pc.assume_timezone(
            local, timezone=zone, ambiguous="earliest", nonexistent="earliest", memory_pool=POOL
        )
        instants = pc.if_else(
            here, stamped.cast(pa.int64(), memory_pool=POOL), instants, memory_pool=POOL
        )
    return instants.cast(target, memory_pool=POOL)


_DATE_TIME = re.compile(r"^([+-]?\d+)-(\d\d)-(\d\d)(?: (\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?$")
_PER_SECOND = {"s": 1, "ms": 1000, "us": 1_000_000, "ns": 1_000_000_000}


def _days(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 in the proleptic Gregorian calendar (any year)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _epoch(text: str | None, unit: str) -> int | None:
    if text is None:
        return None
    match = _DATE_TIME.match(text)
    if match is None:
        raise ValueError(f"not a Trino timestamp: {text!r}")
    y, mo, d, h, mi, s, frac = match.groups()
    seconds = _days(int(y), int(mo), int(d)) * 86400 + int(h or 0) * 3600
    seconds += int(mi or 0) * 60 + int(s or 0)
    per = _PER_SECOND[unit]
    digits = len(str(per)) - 1
    return seconds * per + int(((frac or "") + "0" * digits)[:digits] or 0)


def _months(text: str | None) -> pa.MonthDayNano | None:
    if text is None:
        return None
    sign = -1 if text.startswith("-") else 1
    years, months = text.lstrip("-").split("-")
    return pa.MonthDayNano([sign * (int(years) * 12 + int(months)), 0, 0])


def _millis(text: str | None) -> int | None:
    if text is None:
        return None
    sign = -1 if text.startswith("-") else 1
    days, clock = text.lstrip("-").split(" ")
    h, m, s = clock.split(":")
    seconds, _, frac = s.partition(".")
    total = ((int(days) * 24 + int(h)) * 60 + int(m)) * 60 + int(seconds)
    return sign * (total * 1000 + int((frac + "000")[:3]))


def _mask(values: Sequence[Any]) -> pa.Array | None:
    if None not in values:
        return None
    return _array([v is None for v in values], pa.bool_())


def _offsets(values: Sequence[Any]) -> pa.Array:
    ends = [0]
    total = 0
    for v in values:
        total += 0 if v is None else len(v)
        ends.append(total)
    return _array(ends, pa.int32())


def _list_converter(element: Signature) -> Convert:
    child = converter(element)
    target = pa.list_(arrow_type(element))

    def convert(values: Sequence[Any]) -> pa.Array:
        flat = list(chain.from_iterable(v for v in values if v is not None))
        return pa.ListArray.from_arrays(
            _offsets(values), child(flat), type=target, pool=POOL, mask=_mask(values)
        )

    return convert


def _key_text(signature: Signature) -> Callable[[str], Any]:
    """Map keys travel as JSON object keys, always text: back to the key's JSON value."""
    raw = signature["rawType"]
    if raw in _INTEGERS:
        return int
    if raw in ("real", "double"):
        return float  # float() reads "NaN" and "Infinity" too
    if raw == "boolean":
        return lambda k: k == "true"
    return lambda k: k


def _map_converter(key: Signature, value: Signature) -> Convert:
    keys, items, key_of = converter(key), converter(value), _key_text(key)
    target = pa.map_(arrow_type(key), arrow_type(value))

    def convert(values: Sequence[Any]) -> pa.Array:
        present = [v for v in values if v is not None]
        flat_keys = [key_of(k) for m in present for k in m]
        flat_items = [x for m in present for x in m.values()]
        return pa.MapArray.from_arrays(
            _offsets(values),
            keys(flat_keys),
            items(flat_items),
            type=target,
            pool=POOL,
            mask=_mask(values),
        )

    return convert


def _row_converter(signature: Signature) -> Convert:
    fields = _fields(signature)
    children = [converter(s) for _, s in fields]
    arrow_fields = [pa.field(n, arrow_type(s)) for n, s in fields]

    def convert(values: Sequence[Any]) -> pa.Array:
        arrays = [
            child([None if v is None else v[i] for v in values]) for i, child in enumerate(children)
        ]
        return pa.StructArray.from_arrays(arrays, fields=arrow_fields, mask=_mask(values))

    return convert


# -- rows already mapped to Python values ---------------------------------------------------


def python_batch(rows: list[Any], schema: pa.Schema) -> pa.RecordBatch:
    """Rows the row path already mapped (as ``trino.dbapi`` does), as a record batch.

    Only for rows decoded after a caller read rows and before it asked for Arrow: their JSON
    is gone. Values the client maps to types Arrow does not take are brought back to what
    the wire said (a ``uuid.UUID`` to its text, a ``relativedelta`` to months).
    """
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = [
        _array([_plain(v, field.type) for v in column], field.type)
        for column, field in zip(columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _plain(value: Any, target: pa.DataType) -> Any:
    if value is None:
        return None
    if target == pa.string() and not isinstance(value, str):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if target == pa.binary() and isinstance(value, str):
        return binascii.a2b_base64(value)
    if target == pa.month_day_nano_interval() and hasattr(value, "months"):
        return pa.MonthDayNano([value.years * 12 + value.months, 0, 0])
    return value
