"""Every PrestoDB type through prestoha, through ``prestodb.dbapi`` and, for comparison, Trino's.

Each case is one SQL expression run on the emulator's PrestoDB flavor; the table gives what a
PrestoDB 0.29x coordinator sends for it (``columns[].type`` and the JSON value, which the
unmodified ``presto-python-client`` hands back as is: it maps no types) and the Python value
prestoha maps it to. That value must also be what the ``trino`` client maps the same expression
to on the emulator's Trino flavor: prestoha reads PrestoDB's shapes into the values Trino users
get. The wire shapes, from github.com/prestodb/presto:

- ``columns[].type`` is ``TypeSignature.toString()`` (``com.facebook.presto.common.type``):
  no spaces after commas, an unbounded ``varchar`` without its length, a string literal typed
  ``varchar(n)``, a decimal literal ``decimal(p,s)`` of its digits;
- scalars are what ``Type.getObjectValue`` returns, written by Jackson: numbers for the integer
  and floating types (``NaN``/``Infinity`` as strings), ``SqlDecimal.toString``, ``SqlDate``
  (``uuuu-MM-dd``), ``SqlTime`` and ``SqlTimestamp`` (three digits, ``HH:mm:ss.SSS``),
  ``SqlTimeWithTimeZone`` and ``SqlTimestampWithTimeZone`` (``... VV``: a zone id after a
  space; a zero offset is ``TimeZoneKey.UTC_KEY``), ``SqlIntervalDayTime`` (``d HH:mm:ss.SSS``),
  ``SqlIntervalYearMonth`` (``y-m``), ``SqlVarbinary`` (its bytes, base64), ``json``,
  ``ipaddress`` and ``uuid`` as text;
- ``array``, ``map`` and ``row`` values as pretty-printed JSON text at every nesting level
  (``QueryResourceUtil.parseToJson``, ``nested-data-serialization-enabled`` on by default),
  map entries in ``java.util.HashMap`` order, doubles by ``Double.toString``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import prestodb.dbapi  # type: ignore[import-untyped]
import pytest
import trino.dbapi
from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]

import prestoha
from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration

UUID_TEXT = "12151fd2-7586-11e9-8f9e-2a86e4085a59"
PLUS_0530 = timezone(timedelta(hours=5, minutes=30))
TS = datetime(2024, 1, 2, 3, 4, 5, 123000)

# (SQL expression, PrestoDB's columns[].type, its JSON value, prestoha's Python value)
CASES: list[tuple[str, str, Any, Any]] = [
    ("true", "boolean", True, True),
    ("TINYINT '-7'", "tinyint", -7, -7),
    ("SMALLINT '300'", "smallint", 300, 300),
    ("2000000000", "integer", 2000000000, 2000000000),
    ("BIGINT '4611686018427387904'", "bigint", 2**62, 2**62),
    ("REAL '1.5'", "real", 1.5, 1.5),
    ("REAL '3.4028235E38'", "real", 3.4028235e38, 3.4028235e38),
    ("0.1e0", "double", 0.1, 0.1),
    ("-0e0", "double", -0.0, -0.0),
    # DoubleType.getObjectValue is a Double; Jackson writes the non-finite ones as strings
    ("nan()", "double", "NaN", math.nan),
    ("-infinity()", "double", "-Infinity", -math.inf),
    ("DECIMAL '-12.30'", "decimal(4,2)", "-12.30", Decimal("-12.30")),
    ("DECIMAL '99999999999999999999999999999999999999'", "decimal(38,0)",
     "9" * 38, Decimal("9" * 38)),
    ("'héllo'", "varchar(5)", "héllo", "héllo"),
    ("CAST('abc' AS varchar)", "varchar", "abc", "abc"),
    # CharType pads to its length
    ("CAST('ab' AS char(5))", "char(5)", "ab   ", "ab   "),
    ("X'0001feff'", "varbinary", "AAH+/w==", b"\x00\x01\xfe\xff"),
    ("JSON '{\"a\":[1,2]}'", "json", '{"a":[1,2]}', '{"a":[1,2]}'),
    ("DATE '2024-02-29'", "date", "2024-02-29", date(2024, 2, 29)),
    ("DATE '0001-01-01'", "date", "0001-01-01", date(1, 1, 1)),
    ("TIME '01:02:03.456'", "time", "01:02:03.456", time(1, 2, 3, 456000)),
    ("TIME '01:02:03.456 +05:30'", "time with time zone", "01:02:03.456 +05:30",
     time(1, 2, 3, 456000, tzinfo=PLUS_0530)),
    # No precision argument: SqlTimestamp writes milliseconds, always three digits
    ("TIMESTAMP '2024-01-02 03:04:05.123'", "timestamp", "2024-01-02 03:04:05.123", TS),
    ("TIMESTAMP '1970-01-01 00:00:00'", "timestamp", "1970-01-01 00:00:00.000",
     datetime(1970, 1, 1)),
    ("TIMESTAMP '2024-01-02 03:04:05.123 America/New_York'", "timestamp with time zone",
     "2024-01-02 03:04:05.123 America/New_York",
     TS.replace(tzinfo=ZoneInfo("America/New_York"))),
    ("TIMESTAMP '2024-01-02 03:04:05.123 +05:30'", "timestamp with time zone",
     "2024-01-02 03:04:05.123 +05:30", TS.replace(tzinfo=PLUS_0530)),
    # a zero offset is TimeZoneKey.UTC_KEY, written UTC
    ("TIMESTAMP '2024-01-02 03:04:05.123 -00:00'", "timestamp with time zone",
     "2024-01-02 03:04:05.123 UTC", TS.replace(tzinfo=ZoneInfo("UTC"))),
    ("INTERVAL '2 03:04:05.678' DAY TO SECOND", "interval day to second", "2 03:04:05.678",
     timedelta(days=2, hours=3, minutes=4, seconds=5, milliseconds=678)),
    ("INTERVAL '1-5' YEAR TO MONTH", "interval year to month", "1-5",
     relativedelta(years=1, months=5)),
    ("IPADDRESS '10.0.0.1'", "ipaddress", "10.0.0.1", "10.0.0.1"),
    ("IPADDRESS '2001:db8::1'", "ipaddress", "2001:db8::1", "2001:db8::1"),
    (f"UUID '{UUID_TEXT}'", "uuid", UUID_TEXT, uuid.UUID(UUID_TEXT)),
    ("CAST(NULL AS integer)", "integer", None, None),
    ("NULL", "unknown", None, None),
    # structural values: JSON text at every level
    ("ARRAY[1, NULL, 3]", "array(integer)", "[ 1, null, 3 ]", [1, None, 3]),
    ("ARRAY[]", "array(unknown)", "[ ]", []),
    ("ARRAY[ARRAY[1, 2], NULL]", "array(array(integer))", '[ "[ 1, 2 ]", null ]',
     [[1, 2], None]),
    ("ARRAY[1.5E10, 0.25]", "array(double)", "[ 1.5E10, 0.25 ]", [1.5e10, 0.25]),
    ("ARRAY[nan(), infinity()]", "array(double)", '[ "NaN", "Infinity" ]',
     [math.nan, math.inf]),
    ("ARRAY[DECIMAL '1.20', NULL]", "array(decimal(3,2))", '[ "1.20", null ]',
     [Decimal("1.20"), None]),
    ("ARRAY[X'00ff']", "array(varbinary)", '[ "AP8=" ]', [b"\x00\xff"]),
    # a varchar or json inside a structure that looks like JSON stays text
    ("ARRAY['[1, 2]']", "array(varchar(6))", '[ "[1, 2]" ]', ["[1, 2]"]),
    ("ARRAY[JSON '[1]']", "array(json)", '[ "[1]" ]', ["[1]"]),
    ("ARRAY[TIME '01:02:03.456 +05:30']", "array(time with time zone)",
     '[ "01:02:03.456 +05:30" ]', [time(1, 2, 3, 456000, tzinfo=PLUS_0530)]),
    ("ARRAY[TIMESTAMP '2024-01-02 03:04:05.123 Europe/Paris']",
     "array(timestamp with time zone)", '[ "2024-01-02 03:04:05.123 Europe/Paris" ]',
     [TS.replace(tzinfo=ZoneInfo("Europe/Paris"))]),
    ("ARRAY[INTERVAL '1' DAY]", "array(interval day to second)", '[ "1 00:00:00.000" ]',
     [timedelta(days=1)]),
    (f"ARRAY[UUID '{UUID_TEXT}']", "array(uuid)", f'[ "{UUID_TEXT}" ]', [uuid.UUID(UUID_TEXT)]),
    # HashMap order: "a" (hash 97) before "b" (98), whatever the SQL's order
    ("MAP(ARRAY['b', 'a'], ARRAY[1, NULL])", "map(varchar(1),integer)",
     '{\n  "a" : null,\n  "b" : 1\n}', {"a": None, "b": 1}),
    ("MAP(ARRAY[1.5e0], ARRAY['x'])", "map(double,varchar(1))", '{\n  "1.5" : "x"\n}',
     {1.5: "x"}),
    ("MAP(ARRAY[true], ARRAY[ARRAY['x']])", "map(boolean,array(varchar(1)))",
     '{\n  "true" : "[ \\"x\\" ]"\n}', {True: ["x"]}),
    ("ARRAY[MAP(ARRAY['k'], ARRAY[DATE '2024-01-01'])]", "array(map(varchar(1),date))",
     '[ "{\\n  \\"k\\" : \\"2024-01-01\\"\\n}" ]', [{"k": date(2024, 1, 1)}]),
    # rows: positional JSON arrays; the field names come from the type
    ("CAST(ROW(1, 'x') AS ROW(x integer, y varchar))", "row(x integer,y varchar)",
     '[ 1, "x" ]', (1, "x")),
    ("ROW(1, 2.5e0)", "row(integer,double)", "[ 1, 2.5 ]", (1, 2.5)),
    ("CAST(ROW(ROW(1)) AS ROW(inner ROW(v bigint)))", "row(inner row(v bigint))",
     '[ "[ 1 ]" ]', ((1,),)),
    ("MAP(ARRAY[1], ARRAY[ROW(TIMESTAMP '2024-01-02 03:04:05.123', X'ff')])",
     "map(integer,row(timestamp,varbinary))",
     '{\n  "1" : "[ \\"2024-01-02 03:04:05.123\\", \\"/w==\\" ]"\n}', {1: (TS, b"\xff")}),
]  # fmt: skip

IDS = [case[0] for case in CASES]


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN, looking into lists, tuples and dicts."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (datetime, time)) and (
        not isinstance(b, (datetime, time)) or a.utcoffset() != b.utcoffset()
    ):
        return False  # equal instants in other zones are not the same value
    return (a is None and b is None) or (bool(a == b) and type(a) is type(b))


@pytest.fixture(scope="module")
def presto() -> Iterator[Coordinator]:
    with Coordinator(node_id="presto-types", port=0, admin=False, flavor="prestodb") as c:
        yield c


@pytest.fixture(scope="module")
def trino_coordinator() -> Iterator[Coordinator]:
    with Coordinator(node_id="trino-types", port=0, admin=False) as c:
        yield c


@pytest.mark.parametrize(("expression", "type_text", "wire", "python"), CASES, ids=IDS)
def test_prestodb_dbapi_sees_prestodbs_wire(
    presto: Coordinator, expression: str, type_text: str, wire: Any, python: Any
) -> None:
    cur = prestodb.dbapi.connect(host="127.0.0.1", port=presto.port, user="types").cursor()
    cur.execute(f"SELECT {expression}")
    assert cur.fetchall() == [[wire]]
    assert cur.description[0][1] == type_text


@pytest.mark.parametrize(("expression", "type_text", "wire", "python"), CASES, ids=IDS)
def test_prestoha_maps_it(
    presto: Coordinator, expression: str, type_text: str, wire: Any, python: Any
) -> None:
    with prestoha.connect(hosts=[presto.uri], user="types", protocol="presto") as conn:
        cur = conn.cursor()
        cur.execute(f"SELECT {expression}")
        rows = cur.fetchall()
        assert [tuple(d)[1] for d in cur.description or []] == [type_text]
    assert len(rows) == 1 and len(rows[0]) == 1
    assert same(rows[0][0], python), (rows[0][0], python)


@pytest.mark.parametrize(("expression", "type_text", "wire", "python"), CASES, ids=IDS)
def test_the_trino_client_maps_trinos_answer_alike(
    trino_coordinator: Coordinator, expression: str, type_text: str, wire: Any, python: Any
) -> None:
    conn = trino.dbapi.connect(  # type: ignore[no-untyped-call]
        host="127.0.0.1", port=trino_coordinator.port, user="types"
    )
    cur = conn.cursor()
    cur.execute(f"SELECT {expression}")
    ((value,),) = cur.fetchall()
    conn.close()
    assert same(value, python), (value, python)


def test_row_field_names_are_kept(presto: Coordinator) -> None:
    with prestoha.connect(hosts=[presto.uri], user="types", protocol="presto") as conn:
        cur = conn.cursor()
        cur.execute("SELECT CAST(ROW(1, ROW('x')) AS ROW(a integer, b ROW(c varchar)))")
        ((row,),) = cur.fetchall()
    assert (row.a, row.b.c) == (1, "x")


def test_many_rows_of_nested_values(presto: Coordinator) -> None:
    # Pages of JSON text decoded a slice at a time, every row once.
    sql = (
        "SELECT n, ARRAY[n, n + 1], MAP(ARRAY['k'], ARRAY[ROW(n)]) "
        "FROM UNNEST(sequence(1, 5000)) AS t(n)"
    )
    with prestoha.connect(hosts=[presto.uri], user="types", protocol="presto") as conn:
        cur = conn.cursor()
        cur.execute(sql)
        rows = cur.fetchall()
    assert [r[0] for r in rows] == list(range(1, 5001))
    assert all(r[1] == [r[0], r[0] + 1] and r[2] == {"k": (r[0],)} for r in rows)


def test_description_reads_prestodbs_signatures(presto: Coordinator) -> None:
    # trino.dbapi.ColumnDescription from PrestoDB's columns: the varchar length, the decimal's
    # precision and scale (LONG_LITERAL arguments), and the 3 digits a timestamp has.
    sql = "SELECT CAST('a' AS varchar(7)) v, DECIMAL '1.50' d, TIMESTAMP '2024-01-02 03:04:05' t"
    with prestoha.connect(hosts=[presto.uri], user="types", protocol="presto") as conn:
        cur = conn.cursor()
        cur.execute(sql)
        cur.fetchall()
        described = [tuple(d) for d in cur.description or []]
    assert described == [
        ("v", "varchar(7)", None, 7, None, None, None),
        ("d", "decimal(3,2)", None, None, 3, 2, None),
        ("t", "timestamp", None, None, 3, None, None),
    ]
