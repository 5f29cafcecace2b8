"""Every Trino type into Arrow, through the emulator, in the direct protocol and spooled.

Each case is a SQL expression, the JSON value Trino sends for it (as the type tests of the
emulator establish, each citing its source in Trino), the Arrow type prestoha gives the column
(docs/large-results.md) and the value Arrow then holds. The wire value is asserted too, so a
case checks the decoding of what Trino sends, not of whatever the emulator answered.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import math
import struct
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import prestoha
from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration

_spec = importlib.util.spec_from_file_location(
    "roundtrip", Path(__file__).parents[1] / "emulator" / "roundtrip.py"
)
assert _spec is not None and _spec.loader is not None
roundtrip = sys.modules.setdefault("roundtrip", importlib.util.module_from_spec(_spec))
if not hasattr(roundtrip, "wire"):
    _spec.loader.exec_module(roundtrip)

UTC = dt.timezone.utc
NAN = float("nan")
NS = "as int64"  # Arrow keeps nanoseconds Python's datetime cannot: compare the integers


def _f32(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


# (SQL expression, JSON wire value, Arrow type, Arrow value)
CASES: list[tuple[str, Any, pa.DataType, Any]] = [
    ("true", True, pa.bool_(), True),
    ("TINYINT '-128'", -128, pa.int8(), -128),
    ("SMALLINT '32767'", 32767, pa.int16(), 32767),
    ("2147483647", 2147483647, pa.int32(), 2147483647),
    ("9223372036854775807", 9223372036854775807, pa.int64(), 9223372036854775807),
    # RealEncoder writes Float.toString; Arrow holds the same float32.
    ("REAL '0.1'", 0.1, pa.float32(), _f32(0.1)),
    # NaN and the infinities travel as text (JsonEncodingUtils, WRITE_NAN_AS_STRINGS).
    ("CAST(nan() AS real)", "NaN", pa.float32(), NAN),
    ("1E0 / 0", "Infinity", pa.float64(), math.inf),
    ("1.5E0", 1.5, pa.float64(), 1.5),
    # SqlDecimal goes out as its text.
    ("DECIMAL '1.0'", "1.0", pa.decimal128(2, 1), Decimal("1.0")),
    ("DECIMAL '12345678901234567890123456789012345678'",
     "12345678901234567890123456789012345678", pa.decimal128(38, 0),
     Decimal("12345678901234567890123456789012345678")),
    ("CAST(NULL AS decimal(10,2))", None, pa.decimal128(10, 2), None),
    ("'abc'", "abc", pa.string(), "abc"),
    ("CAST('c' AS char(3))", "c  ", pa.string(), "c  "),  # CharEncoder pads
    ("X'00ff'", "AP8=", pa.binary(), b"\x00\xff"),  # VarbinaryEncoder: base64
    ("JSON '{\"b\": 1, \"a\": [1, 2]}'", '{"a":[1,2],"b":1}', pa.string(), '{"a":[1,2],"b":1}'),
    ("IPADDRESS '2001:DB8:0:0:0:0:0:1'", "2001:db8::1", pa.string(), "2001:db8::1"),
    ("UUID '12151fd2-7586-11e9-8f9e-2a86e4085a59'", "12151fd2-7586-11e9-8f9e-2a86e4085a59",
     pa.string(), "12151fd2-7586-11e9-8f9e-2a86e4085a59"),
    # Sketches go out as base64 under their own type name (SqlVarbinary).
    ("approx_set(1)", str, pa.binary(), bytes),
    ("qdigest_agg(BIGINT '1')", str, pa.binary(), bytes),
    ("tdigest_agg(1E0)", str, pa.binary(), bytes),
    # Temporal values: SqlDate, SqlTime, SqlTimestamp, SqlTimestampWithTimeZone text.
    ("DATE '2001-08-22'", "2001-08-22", pa.date32(), dt.date(2001, 8, 22)),
    ("TIME '01:02:03'", "01:02:03", pa.time32("s"), dt.time(1, 2, 3)),
    ("TIME '01:02:03.456'", "01:02:03.456", pa.time32("ms"), dt.time(1, 2, 3, 456000)),
    ("TIME '01:02:03.456789'", "01:02:03.456789", pa.time64("us"), dt.time(1, 2, 3, 456789)),
    ("TIME '01:02:03.456 +05:30'", "01:02:03.456+05:30", pa.string(), "01:02:03.456+05:30"),
    ("TIMESTAMP '2001-08-22 12:34:56'", "2001-08-22 12:34:56", pa.timestamp("s"),
     dt.datetime(2001, 8, 22, 12, 34, 56)),
    ("TIMESTAMP '2001-08-22 12:34:56.123'", "2001-08-22 12:34:56.123", pa.timestamp("ms"),
     dt.datetime(2001, 8, 22, 12, 34, 56, 123000)),
    ("TIMESTAMP '2001-08-22 12:34:56.123456'", "2001-08-22 12:34:56.123456",
     pa.timestamp("us"), dt.datetime(2001, 8, 22, 12, 34, 56, 123456)),
    # The emulator keeps microseconds (DuckDB): the digits past six are zeros on its wire.
    ("CAST(TIMESTAMP '2001-08-22 12:34:56.123456' AS timestamp(9))",
     "2001-08-22 12:34:56.123456000", pa.timestamp("ns"), (NS, 998483696123456000)),
    ("CAST(TIMESTAMP '2001-08-22 12:34:56.123456' AS timestamp(12))",
     "2001-08-22 12:34:56.123456000000", pa.timestamp("ns"), (NS, 998483696123456000)),
    # With a zone: the instant, in UTC (Arrow keeps one zone per column).
    ("TIMESTAMP '2001-08-22 12:34:56.123456 US/Eastern'",
     "2001-08-22 12:34:56.123456 US/Eastern", pa.timestamp("us", tz="UTC"),
     dt.datetime(2001, 8, 22, 16, 34, 56, 123456, tzinfo=UTC)),
    ("TIMESTAMP '2001-08-22 12:34:56 -08:00'", "2001-08-22 12:34:56 -08:00",
     pa.timestamp("s", tz="UTC"), dt.datetime(2001, 8, 22, 20, 34, 56, tzinfo=UTC)),
    ("TIMESTAMP '2001-08-22 12:34:56.123 UTC'", "2001-08-22 12:34:56.123 UTC",
     pa.timestamp("ms", tz="UTC"), dt.datetime(2001, 8, 22, 12, 34, 56, 123000, tzinfo=UTC)),
    # Intervals: "years-months" and "days hh:mm:ss.fff" (SqlIntervalYearMonth, ...DayTime).
    ("INTERVAL '-1-2' YEAR TO MONTH", "-1-2", pa.month_day_nano_interval(),
     pa.MonthDayNano([-14, 0, 0])),
    ("INTERVAL '-1 02:03:04.5' DAY TO SECOND", "-1 02:03:04.500", pa.duration("ms"),
     -dt.timedelta(days=1, hours=2, minutes=3, seconds=4.5)),
    # Nested: ArrayEncoder, MapEncoder (keys as text), RowEncoder (rows as arrays).
    ("ARRAY[1, NULL, 3]", [1, None, 3], pa.list_(pa.int32()), [1, None, 3]),
    ("ARRAY[NULL]", [None], pa.list_(pa.null()), [None]),
    ("MAP(ARRAY['b', 'a'], ARRAY[1, NULL])", {"b": 1, "a": None},
     pa.map_(pa.string(), pa.int32()), [("b", 1), ("a", None)]),
    ("MAP(ARRAY[1.5E0], ARRAY[true])", {"1.5": True}, pa.map_(pa.float64(), pa.bool_()),
     [(1.5, True)]),
    ("ROW(1, 'a')", [1, "a"],
     pa.struct([("field0", pa.int32()), ("field1", pa.string())]), {"field0": 1, "field1": "a"}),
    ("CAST(ROW(1, 'a') AS ROW(x bigint, y varchar))", [1, "a"],
     pa.struct([("x", pa.int64()), ("y", pa.string())]), {"x": 1, "y": "a"}),
    ("CAST(NULL AS ROW(a integer))", None, pa.struct([("a", pa.int32())]), None),
    ("ARRAY[CAST(ROW(REAL '0.1', X'00') AS ROW(r real, b varbinary))]", [[0.1, "AA=="]],
     pa.list_(pa.struct([("r", pa.float32()), ("b", pa.binary())])),
     [{"r": _f32(0.1), "b": b"\x00"}]),
    ("ARRAY[TIMESTAMP '2001-08-22 12:34:56 Europe/Berlin']",
     ["2001-08-22 12:34:56 Europe/Berlin"], pa.list_(pa.timestamp("s", tz="UTC")),
     [dt.datetime(2001, 8, 22, 10, 34, 56, tzinfo=UTC)]),
]  # fmt: skip


@pytest.fixture(scope="module")
def uri() -> Iterator[str]:
    with Coordinator(node_id="types-arrow", port=0, admin=False, spooling=True) as c:
        yield c.uri


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    return bool(got == want) and type(got) is type(want)


@pytest.mark.parametrize("encoding", roundtrip.ENCODINGS, ids=roundtrip.ENCODING_IDS)
@pytest.mark.parametrize(("expression", "wire", "arrow_type", "value"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_type_into_arrow(
    uri: str, encoding: str | None, expression: str, wire: Any, arrow_type: Any, value: Any
) -> None:
    sql = f"SELECT {expression}"
    _, rows = roundtrip.wire(uri, sql, encoding)
    sent = rows[0][0]
    if wire is str:  # a sketch: base64 of bytes that are the emulator's, not Trino's
        assert isinstance(sent, str)
    else:
        assert _same(sent, wire) or sent == wire, sent
    kwargs: dict[str, Any] = {"user": "types", "timezone": "UTC"}
    if encoding is not None:
        kwargs["encoding"] = encoding
    with prestoha.connect(hosts=[uri], **kwargs) as conn:
        table = conn.cursor().execute(sql).fetch_arrow_table()
    column = table.column(0)
    assert column.type == arrow_type
    if value is bytes:
        assert column.to_pylist() == [base64.b64decode(sent)]
    elif isinstance(value, tuple) and value[0] == NS:
        assert column.cast(pa.int64()).to_pylist() == [value[1]]
    else:
        got = column.to_pylist()[0]
        assert _same(got, value) or got == value, got


def test_a_struct_keeps_repeated_field_names(uri: str) -> None:
    with prestoha.connect(hosts=[uri], user="types") as conn:
        table = (
            conn.cursor()
            .execute("SELECT CAST(ROW(1, 2) AS ROW(x bigint, x bigint))")
            .fetch_arrow_table()
        )
    column = table.column(0).combine_chunks()
    assert [f.name for f in column.type] == ["x", "x"]
    assert [column.field(i).to_pylist() for i in range(2)] == [[1], [2]]


def test_a_column_with_several_zones_holds_instants_in_utc(uri: str) -> None:
    sql = (
        "SELECT ts FROM (VALUES (1, TIMESTAMP '2001-08-22 12:00:00 Europe/Berlin'), "
        "(2, TIMESTAMP '2001-08-22 12:00:00 -08:00'), (3, TIMESTAMP '2001-08-22 12:00:00 UTC')) "
        "AS t(k, ts) ORDER BY k"
    )
    with prestoha.connect(hosts=[uri], user="types") as conn:
        table = conn.cursor().execute(sql).fetch_arrow_table()
    assert table.column(0).type == pa.timestamp("s", tz="UTC")
    assert table.column(0).to_pylist() == [
        dt.datetime(2001, 8, 22, 10, 0, tzinfo=UTC),
        dt.datetime(2001, 8, 22, 20, 0, tzinfo=UTC),
        dt.datetime(2001, 8, 22, 12, 0, tzinfo=UTC),
    ]
