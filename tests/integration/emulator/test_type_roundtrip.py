"""Every Trino type through the emulator and the unmodified ``trino.dbapi`` client.

Values go out as the client renders parameters (SQL literals), are stored in a ``memory``
table, come back JSON-encoded by the emulator and are mapped by the client's own mappers; the
Python values and ``cursor.description`` must be what a real Trino gives that client.
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
import trino
from dateutil.relativedelta import relativedelta

from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration

NEW_YORK = ZoneInfo("America/New_York")

# (column, type, value sent as a client parameter or None for a SQL literal, literal, expected)
CASES: list[tuple[str, str, Any, str | None, Any]] = [
    ("c_boolean", "boolean", True, None, True),
    ("c_tinyint", "tinyint", None, "TINYINT '-7'", -7),
    ("c_smallint", "smallint", None, "SMALLINT '300'", 300),
    ("c_integer", "integer", 2_000_000_000, None, 2_000_000_000),
    ("c_bigint", "bigint", 2**62, None, 2**62),
    ("c_real", "real", None, "REAL '1.5'", 1.5),
    ("c_double", "double", 0.1, None, 0.1),
    ("c_decimal", "decimal(10,2)", Decimal("-12.30"), None, Decimal("-12.30")),
    ("c_decimal_long", "decimal(38,10)", Decimal("1234567890123.0000000001"), None,
     Decimal("1234567890123.0000000001")),
    ("c_varchar_n", "varchar(10)", "héllo", None, "héllo"),
    ("c_varchar", "varchar", "x" * 300, None, "x" * 300),
    ("c_char", "char(5)", "ab", None, "ab   "),
    ("c_varbinary", "varbinary", b"\x00\x01\xfe\xff", None, b"\x00\x01\xfe\xff"),
    ("c_json", "json", None, "JSON '{\"a\":[1,2]}'", '{"a":[1,2]}'),
    ("c_date", "date", date(2024, 2, 29), None, date(2024, 2, 29)),
    ("c_time", "time(3)", time(1, 2, 3, 456000), None, time(1, 2, 3, 456000)),
    ("c_timestamp", "timestamp(6)", datetime(2024, 1, 2, 3, 4, 5, 123456), None,
     datetime(2024, 1, 2, 3, 4, 5, 123456)),
    ("c_timestamp_0", "timestamp(0)", None, "TIMESTAMP '2024-01-02 03:04:05'",
     datetime(2024, 1, 2, 3, 4, 5)),
    ("c_timestamptz", "timestamp(3) with time zone",
     datetime(2024, 7, 1, 12, 0, 0, 250000, tzinfo=NEW_YORK), None,
     datetime(2024, 7, 1, 16, 0, 0, 250000, tzinfo=timezone.utc)),
    ("c_interval_ds", "interval day to second", None, "INTERVAL '2 03:04:05.678' DAY TO SECOND",
     timedelta(days=2, hours=3, minutes=4, seconds=5, milliseconds=678)),
    ("c_interval_ym", "interval year to month", None, "INTERVAL '1-5' YEAR TO MONTH",
     relativedelta(years=1, months=5)),
    ("c_array", "array(integer)", [1, None, 3], None, [1, None, 3]),
    ("c_map", "map(varchar, bigint)", {"a": 1, "b": None}, None, {"a": 1, "b": None}),
    ("c_row", "row(x integer, y varchar)", None,
     "CAST(ROW(7, 'seven') AS ROW(x integer, y varchar))", (7, "seven")),
    ("c_nested", "array(row(k varchar, v array(double)))", None,
     "ARRAY[CAST(ROW('a', ARRAY[1.5E0, NULL]) AS ROW(k varchar, v array(double)))]",
     [("a", [1.5, None])]),
    ("c_uuid", "uuid", uuid.UUID("12151fd2-7586-11e9-8f9e-2a86e4085a59"), None,
     uuid.UUID("12151fd2-7586-11e9-8f9e-2a86e4085a59")),
]  # fmt: skip


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coordinator]:
    lake = str(tmp_path_factory.mktemp("lake"))
    with Coordinator(node_id="types", port=0, admin=False, lake_dir=lake) as c:
        yield c


def _connect(emulator: Coordinator, catalog: str = "memory", **kw: Any) -> Any:
    host, port = emulator.uri.removeprefix("http://").rsplit(":", 1)
    return trino.dbapi.connect(
        host=host, port=int(port), user="types", catalog=catalog, schema="default", **kw
    )


@pytest.fixture(scope="module", params=["memory", "lake"])
def stored(emulator: Coordinator, request: pytest.FixtureRequest) -> tuple[list[Any], list[Any]]:
    """Create a table with every type, insert one row of values and one of NULLs, read back.

    Once in ``memory`` (DuckDB tables) and once in ``lake`` (parquet files).
    """
    cur = _connect(emulator, request.param, timezone="UTC").cursor()
    columns = ", ".join(f"{name} {type_}" for name, type_, *_ in CASES)
    cur.execute(f"CREATE TABLE roundtrip ({columns})")
    cur.fetchall()
    params = [value for _, _, value, literal, _ in CASES if literal is None]
    values = ", ".join("?" if literal is None else literal for _, _, _, literal, _ in CASES)
    cur.execute(f"INSERT INTO roundtrip VALUES ({values})", params)
    assert cur.fetchall() == [[1]]
    cur.execute(f"INSERT INTO roundtrip ({CASES[0][0]}) VALUES (NULL)")
    cur.fetchall()
    cur.execute(
        f"SELECT {', '.join(c[0] for c in CASES)} FROM roundtrip ORDER BY c_bigint NULLS LAST"
    )
    rows = cur.fetchall()
    return rows, list(cur.description)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_value_comes_back_as_trino_gives_it(
    stored: tuple[list[Any], list[Any]], index: int
) -> None:
    rows, description = stored
    name, type_, _, _, expected = CASES[index]
    got = rows[0][index]
    assert description[index].name == name
    assert description[index].type_code == type_
    if isinstance(expected, float):
        assert math.isclose(got, expected)
    else:
        assert got == expected
        assert type(got) is type(expected) or isinstance(expected, tuple)
    assert rows[1][index] is None or name == "c_boolean"


def test_description_carries_sizes_precision_and_scale(
    stored: tuple[list[Any], list[Any]],
) -> None:
    described = {d.name: d for d in stored[1]}
    assert described["c_varchar_n"].internal_size == 10
    assert described["c_varchar"].internal_size == 2147483647
    assert described["c_char"].internal_size == 5
    assert (described["c_decimal"].precision, described["c_decimal"].scale) == (10, 2)
    assert described["c_timestamp"].precision == 6
    assert described["c_timestamptz"].precision == 3
    assert described["c_time"].precision == 3


def test_row_fields_keep_their_names(stored: tuple[list[Any], list[Any]]) -> None:
    row = stored[0][0][[c[0] for c in CASES].index("c_row")]
    assert (row.x, row.y) == (7, "seven")


def test_special_doubles_and_literal_types(emulator: Coordinator) -> None:
    cur = _connect(emulator).cursor()
    cur.execute(
        "SELECT nan(), infinity(), -infinity(), REAL '3.25', 'abc', 1.50, ROW(1, 'x'), "
        "MAP(ARRAY[1, 2], ARRAY['a', 'b']), TIME '23:59:59.999999', DATE '0001-01-01'"
    )
    row = cur.fetchone()
    assert math.isnan(row[0]) and row[1] == math.inf and row[2] == -math.inf
    assert row[3:6] == [3.25, "abc", Decimal("1.50")]
    assert row[6] == (1, "x") and row[7] == {1: "a", 2: "b"}
    assert row[8] == time(23, 59, 59, 999999) and row[9] == date(1, 1, 1)
    assert [d.type_code for d in cur.description] == [
        "double", "double", "double", "real", "varchar(3)", "decimal(3,2)",
        "row(integer, varchar(1))", "map(integer, varchar(1))", "time(6)", "date",
    ]  # fmt: skip


def test_tpch_types_through_the_client(emulator: Coordinator) -> None:
    cur = _connect(emulator).cursor()
    cur.execute("SELECT * FROM tpch.tiny.lineitem LIMIT 3")
    rows = cur.fetchall()
    assert len(rows) == 3
    assert [d.type_code for d in cur.description] == [
        "bigint", "bigint", "bigint", "integer", "double", "double", "double", "double",
        "varchar(1)", "varchar(1)", "date", "date", "date", "varchar(25)", "varchar(10)",
        "varchar(44)",
    ]  # fmt: skip
    assert isinstance(rows[0][10], date) and isinstance(rows[0][4], float)
    described = cur.describe("SELECT orderkey, comment AS c FROM tpch.tiny.orders")
    assert [(d.name, d.type, d.aliased) for d in described] == [
        ("orderkey", "bigint", False),
        ("c", "varchar(79)", True),
    ]
