"""Trino type names, typeSignature JSON and value encoding of the emulator."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from prestoha.testing.coordinator.sql.duckdb_types import to_duckdb
from prestoha.testing.coordinator.sql.types import (
    TrinoType,
    TypeParseError,
    merge,
    parse_type,
)
from prestoha.testing.coordinator.sql.values import encoder, normalize_zone, row_encoder


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("varchar", "varchar"),
        ("VARCHAR(10)", "varchar(10)"),
        ("char(3)", "char(3)"),
        ("int", "integer"),
        ("decimal(10, 2)", "decimal(10,2)"),
        ("decimal", "decimal(38,0)"),
        ("timestamp", "timestamp(3)"),
        ("timestamp(6) with time zone", "timestamp(6) with time zone"),
        ("time(0)", "time(0)"),
        ("interval day to second", "interval day to second"),
        ("double precision", "double"),
        (
            'array(map(varchar(3), row(a bigint, "b c" double)))',
            'array(map(varchar(3), row(a bigint, "b c" double)))',
        ),
        ("row(integer, varchar)", "row(integer, varchar)"),
    ],
)
def test_display_names(text: str, shown: str) -> None:
    assert parse_type(text).display() == shown


@pytest.mark.parametrize(
    "bad", ["", "varchar(", "nosuchtype", "decimal(50,2)", "array()", "map(int)"]
)
def test_bad_type_names_are_refused(bad: str) -> None:
    with pytest.raises(TypeParseError):
        parse_type(bad)


def test_signatures_match_trino() -> None:
    assert parse_type("varchar").signature() == {
        "rawType": "varchar",
        "arguments": [{"kind": "LONG", "value": 2147483647}],
    }
    assert parse_type("decimal(10,2)").signature() == {
        "rawType": "decimal",
        "arguments": [{"kind": "LONG", "value": 10}, {"kind": "LONG", "value": 2}],
    }
    assert parse_type("array(bigint)").signature() == {
        "rawType": "array",
        "arguments": [{"kind": "TYPE", "value": {"rawType": "bigint", "arguments": []}}],
    }
    row = parse_type("row(a integer, varchar(2))").signature()
    assert row["rawType"] == "row"
    assert row["arguments"][0] == {
        "kind": "NAMED_TYPE",
        "value": {
            "fieldName": {"name": "a"},
            "typeSignature": {"rawType": "integer", "arguments": []},
        },
    }
    assert "fieldName" not in row["arguments"][1]["value"]
    ts = parse_type("timestamp(6) with time zone")
    assert ts.signature() == {
        "rawType": "timestamp with time zone",
        "arguments": [{"kind": "LONG", "value": 6}],
    }
    assert ts.signature(parametric_datetime=False)["arguments"] == []
    assert ts.display(parametric_datetime=False) == "timestamp with time zone"


def test_merge_keeps_duckdb_storage_when_the_hint_disagrees() -> None:
    assert merge(parse_type("varchar(3)"), parse_type("varchar")).display() == "varchar(3)"
    assert merge(parse_type("varchar(3)"), parse_type("bigint")).display() == "bigint"
    hinted = merge(parse_type("array(char(2))"), parse_type("array(varchar)"))
    assert hinted.display() == "array(char(2))"
    assert merge(None, parse_type("date")).display() == "date"


def test_duckdb_storage_types() -> None:
    assert to_duckdb(parse_type("timestamp(9)")) == "TIMESTAMP_NS"
    assert to_duckdb(parse_type("map(varchar, array(real))")) == "MAP(VARCHAR, FLOAT[])"
    assert to_duckdb(parse_type("row(a int, double)")) == 'STRUCT("a" INTEGER, "field1" DOUBLE)'


def _enc(type_text: str, value: object, zone: str = "UTC") -> object:
    f = encoder(parse_type(type_text), zone)
    return value if f is None else f(value)


def test_value_encoding_matches_trino() -> None:
    assert _enc("decimal(10,2)", Decimal("1.5")) == "1.50"
    assert _enc("decimal(38,10)", Decimal("0E-10")) == "0.0000000000"
    assert _enc("varbinary", b"\x00\xff") == "AP8="
    assert _enc("date", date(2020, 1, 2)) == "2020-01-02"
    # Extra digits are rounded half up, as io.trino.type.DateTimes.round does.
    assert _enc("time(3)", time(1, 2, 3, 456789)) == "01:02:03.457"
    assert _enc("time(3)", time(1, 2, 3, 456489)) == "01:02:03.456"
    assert _enc("time(0)", time(1, 2, 3)) == "01:02:03"
    assert _enc("timestamp(6)", datetime(2020, 1, 2, 3, 4, 5, 6)) == "2020-01-02 03:04:05.000006"
    assert _enc("timestamp(9)", datetime(2020, 1, 2, 3, 4, 5, 6)) == "2020-01-02 03:04:05.000006000"
    aware = datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert _enc("timestamp(3) with time zone", aware, "Etc/UTC") == "2020-01-02 03:04:05.000 UTC"
    assert _enc("interval day to second", timedelta(days=-1, hours=-2)) == "-1 02:00:00.000"
    assert _enc("interval year to month", timedelta(days=420)) == "1-2"
    assert _enc("double", math.nan) == "NaN"
    assert _enc("double", -math.inf) == "-Infinity"
    assert _enc("real", 1.100000023841858) == 1.1
    assert _enc("char(4)", "ab") == "ab  "
    assert _enc("uuid", UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert _enc("map(integer, date)", {1: date(2020, 1, 1)}) == {"1": "2020-01-01"}
    assert _enc("row(a integer, b varbinary)", {"a": 1, "b": b"a"}) == [1, "YQ=="]
    assert _enc("array(double)", [1.0, None, math.inf]) == [1.0, None, "Infinity"]


def test_row_encoder_passes_nulls_and_plain_columns_through() -> None:
    encode = row_encoder([parse_type("bigint"), parse_type("date"), parse_type("varchar")])
    assert encode((1, None, "x")) == [1, None, "x"]
    assert encode((2, date(2020, 1, 1), None)) == [2, "2020-01-01", None]
    assert row_encoder([TrinoType("integer")])((5,)) == [5]


def test_zone_aliases_print_as_utc() -> None:
    assert normalize_zone("Etc/UTC") == "UTC"
    assert normalize_zone(None) == "UTC"
    assert normalize_zone("America/New_York") == "America/New_York"
