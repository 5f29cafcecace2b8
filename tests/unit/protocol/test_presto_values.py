"""PrestoDB's answers decode to what the official client makes of Trino's same values.

Each case gives a column as PrestoDB writes it (type text, type signature, wire value) and the
same value as Trino writes it; prestoha's decoding of the first must equal the trino client's
mapping of the second. PrestoDB's shapes, from ``prestodb/presto``:

- nested values as JSON text at every level (``QueryResourceUtil.parseToJson`` with
  ``nested-data-serialization-enabled``, the default; pretty-printed by airlift's JsonCodec);
- a row field's ``typeSignature`` as a string (``ClientTypeSignatureParameter`` holding a
  ``NamedTypeSignature``);
- ``timestamp`` with 3 digits and ``timestamp microseconds`` with 6 (``SqlTimestamp``);
- ``time with time zone`` as ``HH:mm:ss.SSS VV``, a zone id (``SqlTimeWithTimeZone``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from trino.mapper import RowMapperFactory

from prestoha.protocol import RowDecoder
from prestoha.protocol._presto_values import parse_signature


def t(raw: str, *arguments: dict[str, Any]) -> dict[str, Any]:
    return {"rawType": raw, "arguments": list(arguments)}


def of(signature: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "TYPE", "value": signature}


def long(value: int) -> dict[str, Any]:
    return {"kind": "LONG", "value": value}


def field(name: str | None, signature: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"typeSignature": signature}
    if name is not None:
        value["fieldName"] = {"name": name, "delimited": False}
    return {"kind": "NAMED_TYPE", "value": value}


INTEGER, VARCHAR = t("integer"), t("varchar", long(2147483647))
TS3 = t("timestamp", long(3))

# (id, PrestoDB: type text, signature, wire value; Trino: signature, wire value)
CASES: list[tuple[str, str, dict[str, Any], Any, dict[str, Any], Any]] = [
    ("array", "array(integer)", t("array", of(INTEGER)), "[ 1, 2, null ]",
     t("array", of(INTEGER)), [1, 2, None]),
    ("map", "map(varchar,integer)", t("map", of(VARCHAR), of(INTEGER)), '{\n  "a" : 1\n}',
     t("map", of(VARCHAR), of(INTEGER)), {"a": 1}),
    # parseToJson turns the inner arrays into JSON text inside the outer JSON text
    ("nested array", "array(array(integer))", t("array", of(t("array", of(INTEGER)))),
     '[ "[ 1, 2 ]", null ]', t("array", of(t("array", of(INTEGER)))), [[1, 2], None]),
    ("map of arrays", "map(integer,array(varchar))",
     t("map", of(INTEGER), of(t("array", of(VARCHAR)))), '{\n  "7" : "[ \\"x\\" ]"\n}',
     t("map", of(INTEGER), of(t("array", of(VARCHAR)))), {"7": ["x"]}),
    ("row", "row(a integer,b varchar)",
     t("row", field("a", "integer"), field("b", "varchar")), '[ 1, "[not json]" ]',
     t("row", field("a", INTEGER), field("b", VARCHAR)), [1, "[not json]"]),
    ("row of a timestamp and an array", "row(ts timestamp,xs array(integer))",
     t("row", field("ts", "timestamp"), field("xs", "array(integer)")),
     '[ "2024-02-29 10:00:00.123", "[ 3 ]" ]',
     t("row", field("ts", TS3), field("xs", t("array", of(INTEGER)))),
     ["2024-02-29 10:00:00.123", [3]]),
    ("array of rows", "array(row(k varchar,v double))",
     t("array", of(t("row", field("k", "varchar"), field("v", "double")))),
     '[ "[ \\"a\\", 1.5 ]" ]',
     t("array", of(t("row", field("k", VARCHAR), field("v", t("double")))))
     , [["a", 1.5]]),
    # native JSON (nested-data-serialization-enabled=false) passes as Trino's would
    ("array, native", "array(integer)", t("array", of(INTEGER)), [4, 5],
     t("array", of(INTEGER)), [4, 5]),
    # a varchar that looks like JSON stays text
    ("varchar", "varchar", VARCHAR, "[1, 2]", VARCHAR, "[1, 2]"),
    ("timestamp", "timestamp", t("timestamp"), "2024-02-29 10:00:00.123",
     TS3, "2024-02-29 10:00:00.123"),
    ("timestamp microseconds", "timestamp microseconds", t("timestamp microseconds"),
     "2024-02-29 10:00:00.123456", t("timestamp", long(6)), "2024-02-29 10:00:00.123456"),
    ("timestamp with time zone, zone id", "timestamp with time zone",
     t("timestamp with time zone"), "2024-02-29 10:00:00.123 America/New_York",
     t("timestamp with time zone", long(3)), "2024-02-29 10:00:00.123 America/New_York"),
    ("time with time zone, offset", "time with time zone", t("time with time zone"),
     "10:15:30.250 +05:30", t("time with time zone", long(3)), "10:15:30.250+05:30"),
    # SqlTimeWithTimeZone renders on 1970-01-01: New York was then at -05:00
    ("time with time zone, zone id", "time with time zone", t("time with time zone"),
     "10:15:30.250 America/New_York", t("time with time zone", long(3)), "10:15:30.250-05:00"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "presto_signature", "presto_value", "trino_signature", "trino_value"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_prestodb_value_decodes_as_the_trino_client_maps_trinos(
    text: str,
    presto_signature: dict[str, Any],
    presto_value: Any,
    trino_signature: dict[str, Any],
    trino_value: Any,
) -> None:
    decoder = RowDecoder(legacy_primitive_types=False)
    decoder.learn([{"name": "c", "type": text, "typeSignature": presto_signature}])
    expected = RowMapperFactory().create(
        columns=[{"name": "c", "type": text, "typeSignature": trino_signature}],
        legacy_primitive_types=False,
    )
    assert decoder.rows([[presto_value], [None]]) == expected.map([[trino_value], [None]])


def test_trinos_own_answers_decode_as_the_trino_client_maps_them() -> None:
    for _, text, _, _, signature, value in CASES:
        decoder = RowDecoder(legacy_primitive_types=False)
        column = {"name": "c", "type": text, "typeSignature": signature}
        decoder.learn([column])
        expected = RowMapperFactory().create(columns=[column], legacy_primitive_types=False)
        assert decoder.rows([[value]]) == expected.map([[value]]), text


def test_the_row_field_names_of_a_prestodb_row_are_kept() -> None:
    decoder = RowDecoder(legacy_primitive_types=False)
    decoder.learn(
        [
            {
                "name": "r",
                "type": "row(a integer,b varchar)",
                "typeSignature": t("row", field("a", "integer"), field("b", "varchar")),
            }
        ]
    )
    (row,) = decoder.rows([['[ 1, "x" ]']])[0]
    assert (row.a, row.b) == (1, "x")


def test_legacy_primitive_types_still_unpack_nested_json_text() -> None:
    decoder = RowDecoder(legacy_primitive_types=True)
    decoder.learn(
        [{"name": "a", "type": "array(bigint)", "typeSignature": t("array", of(t("bigint")))}]
    )
    assert decoder.rows([["[ 1, 2 ]"]]) == [[[1, 2]]]


@pytest.mark.parametrize(
    ("text", "signature"),
    [
        ("integer", t("integer")),
        ("varchar(3)", t("varchar", long(3))),
        ("decimal(10,2)", t("decimal", long(10), long(2))),
        (
            "array(row(a integer,b array(varchar)))",
            t(
                "array",
                of(t("row", field("a", t("integer")), field("b", t("array", of(t("varchar")))))),
            ),
        ),
        (
            'row("x y" bigint,"a""b" double)',
            t("row", field("x y", t("bigint")), field('a"b', t("double"))),
        ),
        (
            "row(integer,timestamp with time zone)",
            t("row", field(None, t("integer")), field(None, t("timestamp with time zone"))),
        ),
        ("row(at timestamp microseconds)", t("row", field("at", t("timestamp", long(6))))),
        (
            "map(varchar(1),time with time zone)",
            t("map", of(t("varchar", long(1))), of(t("time with time zone"))),
        ),
    ],
)
def test_a_type_text_parses_into_trinos_signature_shape(
    text: str, signature: dict[str, Any]
) -> None:
    assert parse_signature(text) == signature


def test_a_time_with_zone_of_winter_and_summer_gets_the_offset_of_1970() -> None:
    decoder = RowDecoder(legacy_primitive_types=False)
    decoder.learn(
        [{"name": "t", "type": "time with time zone", "typeSignature": t("time with time zone")}]
    )
    (value,) = decoder.rows([["23:59:59.999 Europe/Paris"]])[0]
    assert value == dt.time(23, 59, 59, 999000, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def kinded(kind: str, value: Any) -> dict[str, Any]:
    return {"kind": kind, "value": value}


def client_signature(raw: str, *arguments: dict[str, Any], **deprecated: Any) -> dict[str, Any]:
    # com.facebook.presto.client.ClientTypeSignature as Jackson writes it: the arguments, and
    # the deprecated typeArguments / literalArguments views beside them.
    return {
        "rawType": raw,
        "typeArguments": deprecated.get("types", []),
        "literalArguments": deprecated.get("literals", []),
        "arguments": list(arguments),
    }


# ParameterKind.jsonName(): TYPE, NAMED_TYPE and LONG go on the wire as TYPE_SIGNATURE,
# NAMED_TYPE_SIGNATURE and LONG_LITERAL; NamedTypeSignature's typeSignature is its text.
P_INTEGER = client_signature("integer")
P_VARCHAR = client_signature("varchar", kinded("LONG_LITERAL", 2147483647))
P_ROW = client_signature(
    "row",
    kinded("NAMED_TYPE_SIGNATURE", {"fieldName": {"name": "a", "delimited": False},
                                     "typeSignature": "integer"}),
    kinded("NAMED_TYPE_SIGNATURE", {"typeSignature": "varchar"}),
    types=[P_INTEGER, P_VARCHAR],
    literals=["a", None],
)  # fmt: skip

# (id, PrestoDB: type text, ClientTypeSignature, wire value; Trino: signature, wire value)
WIRE_KINDS: list[tuple[str, str, dict[str, Any], Any, dict[str, Any], Any]] = [
    ("row", "row(a integer,varchar)", P_ROW, '[ 1, "x" ]',
     t("row", field("a", INTEGER), field(None, VARCHAR)), [1, "x"]),
    ("array of rows", "array(row(a integer,varchar))",
     client_signature("array", kinded("TYPE_SIGNATURE", P_ROW), types=[P_ROW]),
     '[ "[ 2, null ]" ]', t("array", of(t("row", field("a", INTEGER), field(None, VARCHAR)))),
     [[2, None]]),
    ("map to decimal", "map(varchar(1),decimal(3,2))",
     client_signature("map", kinded("TYPE_SIGNATURE",
                                    client_signature("varchar", kinded("LONG_LITERAL", 1))),
                      kinded("TYPE_SIGNATURE",
                             client_signature("decimal", kinded("LONG_LITERAL", 3),
                                              kinded("LONG_LITERAL", 2)))),
     '{\n  "k" : "1.20"\n}',
     t("map", of(t("varchar", long(1))), of(t("decimal", long(3), long(2)))), {"k": "1.20"}),
    ("decimal", "decimal(3,2)",
     client_signature("decimal", kinded("LONG_LITERAL", 3), kinded("LONG_LITERAL", 2)), "1.20",
     t("decimal", long(3), long(2)), "1.20"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "presto_signature", "presto_value", "trino_signature", "trino_value"),
    [case[1:] for case in WIRE_KINDS],
    ids=[case[0] for case in WIRE_KINDS],
)
def test_the_wire_names_of_parameter_kinds_decode_as_trinos(
    text: str,
    presto_signature: dict[str, Any],
    presto_value: Any,
    trino_signature: dict[str, Any],
    trino_value: Any,
) -> None:
    test_a_prestodb_value_decodes_as_the_trino_client_maps_trinos(
        text, presto_signature, presto_value, trino_signature, trino_value
    )
