"""Bound parameters of every Python type, as the unmodified ``trino.dbapi`` and prestoha send them.

``trino.dbapi`` renders each parameter as a SQL literal (``Cursor._format_prepared_param`` in
trino/dbapi.py) and sends ``EXECUTE IMMEDIATE '<sql>' USING <literals>`` or, with
``legacy_prepared_statements=True``, ``PREPARE`` + ``EXECUTE <name> USING <literals>`` with the
statement in the ``X-Trino-Prepared-Statement`` header; prestoha renders with the same function
and always uses ``EXECUTE IMMEDIATE``. The emulator must accept each literal, type it as Trino
types it, and send back what the client maps to the value that was bound.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import trino.dbapi
from roundtrip import wire

import prestoha
from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration

SAME = object()
"""The value comes back equal to what was bound."""

# (id, bound value, type code Trino gives the literal the client renders, value back)
CASES: list[tuple[str, Any, str, Any]] = [
    # "NULL" is the unknown-typed NULL literal (io.trino.type.UnknownType).
    ("none", None, "unknown", SAME),
    # "true"/"false": BooleanLiteral.
    ("bool", True, "boolean", SAME),
    # "%d": a LongLiteral is integer when it fits in 32 bits, else bigint
    # (io.trino.sql.analyzer.ExpressionAnalyzer.visitLongLiteral).
    ("int", 7, "integer", SAME),
    ("bigint", 2**63 - 1, "bigint", SAME),
    # "DOUBLE '1.5'", "infinity()", "-infinity()", "nan()": double (trino/dbapi.py).
    ("float", 1.5, "double", SAME),
    ("inf", math.inf, "double", SAME),
    ("-inf", -math.inf, "double", SAME),
    # A string literal is varchar(length) (io.trino.sql.tree.StringLiteral, VarcharType).
    ("str", "it's", "varchar(4)", SAME),
    ("empty str", "", "varchar(0)", SAME),
    ("unicode", "héllo ✓", "varchar(7)", SAME),
    # X'..' is a varbinary literal (io.trino.sql.tree.BinaryLiteral).
    ("bytes", b"\x00\x01\xfe\xff", "varbinary", SAME),
    ("bytearray", bytearray(b"ab"), "varbinary", b"ab"),
    # DATE 'y-m-d' (DateTimeUtils.parseDate; the client writes %Y unpadded for years < 1000).
    ("date", date(2024, 2, 29), "date", SAME),
    ("date before 1582", date(1500, 1, 1), "date", SAME),
    ("date year 1", date(1, 1, 1), "date", SAME),
    ("date year 500", date(500, 6, 15), "date", SAME),
    ("date 9999", date(9999, 12, 31), "date", SAME),
    # TIMESTAMP '...%f' has 6 fraction digits: timestamp(6) (TimestampType by literal digits).
    ("timestamp", datetime(2024, 1, 2, 3, 4, 5, 123456), "timestamp(6)", SAME),
    ("timestamp before 1582", datetime(1500, 1, 2, 3, 4, 5), "timestamp(6)", SAME),
    ("timestamp 9999", datetime(9999, 12, 31, 23, 59, 59, 999999), "timestamp(6)", SAME),
    # TIMESTAMP '... <zone id>': timestamp(6) with time zone; an aware datetime compares by
    # instant, which is what Trino keeps (io.trino.spi.type.SqlTimestampWithTimeZone).
    (
        "timestamptz zone",
        datetime(2024, 7, 1, 12, 0, 0, 250000, tzinfo=ZoneInfo("America/New_York")),
        "timestamp(6) with time zone",
        SAME,
    ),
    (
        "timestamptz utc",
        datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
        "timestamp(6) with time zone",
        SAME,
    ),
    (
        "timestamptz negative offset",
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-8))),
        "timestamp(6) with time zone",
        SAME,
    ),
    # TIME '%H:%M:%S.%f': time(6); TIME '... +hh:mm': time(6) with time zone.
    ("time", time(3, 4, 5, 123456), "time(6)", SAME),
    ("time midnight", time(0, 0), "time(6)", SAME),
    (
        "time with offset",
        time(3, 4, 5, tzinfo=timezone(timedelta(hours=-8))),
        "time(6) with time zone",
        SAME,
    ),
    # DECIMAL '<format(d, "f")>': decimal(digits, scale) of the literal text
    # (io.trino.sql.tree.DecimalLiteral, Decimals.parse); scientific notation is expanded.
    ("decimal", Decimal("1.5"), "decimal(2,1)", SAME),
    ("decimal 1E+5", Decimal("1E+5"), "decimal(6,0)", SAME),
    ("decimal 1E-7", Decimal("1E-7"), "decimal(7,7)", SAME),
    ("decimal negative", Decimal("-0.000001"), "decimal(6,6)", SAME),
    ("decimal long", Decimal("12345678901234567890.123"), "decimal(23,3)", SAME),
    ("decimal zero", Decimal("0"), "decimal(1,0)", SAME),
    # UUID '...': io.trino.type.UuidType.
    ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678"), "uuid", SAME),
    # ARRAY[...]: the common supertype of the elements; NULL alone is unknown.
    ("array", [1, 2, None], "array(integer)", SAME),
    ("array of null", [None], "array(unknown)", SAME),
    ("array of nulls", [None, None], "array(unknown)", SAME),
    ("empty array", [], "array(unknown)", SAME),
    ("array of str", ["a", None, "bcd"], "array(varchar(3))", SAME),
    ("nested array", [[1], [2, 3], None], "array(array(integer))", SAME),
    ("array of timestamps", [datetime(2024, 1, 2, 3, 4, 5), None], "array(timestamp(6))", SAME),
    ("array of dates", [date(1500, 1, 1), date(9999, 12, 31)], "array(date)", SAME),
    ("array of decimals", [Decimal("1.5"), Decimal("10.25")], "array(decimal(4,2))", SAME),
    ("array of bytes", [b"a", None], "array(varbinary)", SAME),
    ("array of uuid", [uuid.UUID(int=1)], "array(uuid)", SAME),
    ("array of bool", [True, None], "array(boolean)", SAME),
    ("array of inf", [math.inf, -1.0], "array(double)", SAME),
    # MAP(ARRAY[keys], ARRAY[values]) (trino/dbapi.py): map(key type, value type).
    ("map", {"a": 1, "b": None}, "map(varchar(1), integer)", SAME),
    ("map int keys", {1: "x", 2: "yy"}, "map(integer, varchar(2))", SAME),
    ("map of arrays", {"k": [1.5]}, "map(varchar(1), array(double))", SAME),
    ("nested map", {"a": {"b": 1}}, "map(varchar(1), map(varchar(1), integer))", SAME),
    ("map of dates", {"d": date(1500, 1, 1)}, "map(varchar(1), date)", SAME),
    # ROW(...): anonymous fields; the client maps a row to a tuple (trino/mapper.py).
    ("row", (1, "a", None), "row(integer, varchar(1), unknown)", SAME),
    (
        "row of temporals",
        (date(1500, 1, 1), Decimal("1E+5"), b"x"),
        "row(date, decimal(6,0), varbinary)",
        SAME,
    ),
    ("array of rows", [(1, "a"), (2, "b")], "array(row(integer, varchar(1)))", SAME),
]

WAYS = ["trino immediate", "trino legacy prepared", "prestoha"]


@pytest.fixture(scope="module")
def coordinator() -> Iterator[Coordinator]:
    with Coordinator(node_id="parameters", port=0, admin=False) as c:
        yield c


def _connect(coordinator: Coordinator, way: str) -> Any:
    host, port = coordinator.uri.removeprefix("http://").rsplit(":", 1)
    if way == "prestoha":
        return prestoha.connect(hosts=[coordinator.uri], user="params")
    legacy = way == "trino legacy prepared"
    return trino.dbapi.connect(
        host=host, port=int(port), user="params", legacy_prepared_statements=legacy
    )


@pytest.fixture(scope="module", params=WAYS)
def cursor(request: pytest.FixtureRequest, coordinator: Coordinator) -> Iterator[Any]:
    with _connect(coordinator, request.param) as conn:
        yield conn.cursor()


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    return bool(got == want)


@pytest.mark.parametrize(
    ("value", "type_code", "expected"),
    [pytest.param(v, t, e, id=i) for i, v, t, e in CASES],
)
def test_a_bound_value_comes_back_as_sent(
    cursor: Any, value: Any, type_code: str, expected: Any
) -> None:
    cursor.execute("SELECT ?", [value])
    rows = cursor.fetchall()
    want = value if expected is SAME else expected
    assert len(rows) == 1 and _same(rows[0][0], want), rows
    assert cursor.description[0][1] == type_code


def test_nan_comes_back_as_nan(cursor: Any) -> None:
    # "nan()" is Trino's double NaN; the wire carries the JSON string "NaN"
    # (io.trino.server.protocol.JsonEncodingUtils.DoubleEncoder), the client maps it to float.
    cursor.execute("SELECT ?, ?", [math.nan, [math.nan]])
    [[scalar, array]] = cursor.fetchall()
    assert math.isnan(scalar) and math.isnan(array[0])


def test_several_parameters_bind_in_order_and_filter(cursor: Any) -> None:
    cursor.execute(
        "SELECT name FROM tpch.tiny.nation WHERE regionkey = ? AND name LIKE ? ORDER BY name",
        [1, "%A%"],
    )
    # dbgen's fixed nation list: region 1 (AMERICA) holds these five, PERU has no "A".
    assert [r[0] for r in cursor.fetchall()] == ["ARGENTINA", "BRAZIL", "CANADA", "UNITED STATES"]


def test_a_parameter_inside_a_string_or_comment_is_not_a_marker(cursor: Any) -> None:
    cursor.execute("SELECT '?' AS q, ? /* ? */ AS p -- ?\n", ["x"])
    assert cursor.fetchall() == [["?", "x"]]


def test_a_wrong_number_of_parameters_fails_as_in_trino(cursor: Any) -> None:
    # io.trino.sql.analyzer.StatementAnalyzer / ParameterExtractor: INVALID_PARAMETER_USAGE
    # "Incorrect number of parameters: expected 2 but found 1".
    with pytest.raises(Exception) as raised:
        cursor.execute("SELECT ?, ?", [1])
        cursor.fetchall()
    assert "INVALID_PARAMETER_USAGE" in repr(raised.value)
    assert "Incorrect number of parameters: expected 2 but found 1" in str(raised.value)


# trino.dbapi renders a fixed offset as the zone "UTC+05:30" (tzinfo.tzname), which Trino's
# io.trino.spi.type.TimeZoneKey normalizes to the offset +05:30.
def test_a_fixed_offset_named_utc_plus_comes_back_at_that_instant(cursor: Any) -> None:
    value = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    cursor.execute("SELECT ?", [value])
    assert cursor.fetchall()[0][0] == value


# Dates Python cannot hold, bound as literals: the wire text is java.time.LocalDate.toString()
# (io.trino.spi.type.SqlDate): a "+" beyond year 9999, astronomical years before year 1.
FAR_DATES = [
    ("DATE '10000-01-01'", "+10000-01-01"),
    ("DATE '0001-01-01'", "0001-01-01"),
]


@pytest.mark.parametrize(("literal", "text"), FAR_DATES)
def test_a_date_beyond_python_goes_out_as_trino_writes_it(
    coordinator: Coordinator, literal: str, text: str
) -> None:
    columns, rows = wire(coordinator.uri, f"EXECUTE IMMEDIATE 'SELECT ?' USING {literal}")
    assert (columns[0]["type"], rows) == ("date", [[text]])
