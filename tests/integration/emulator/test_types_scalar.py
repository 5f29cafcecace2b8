"""Every non-temporal Trino type through the emulator: wire, ``trino.dbapi`` and prestoha.

Each case is a SQL expression, the type Trino names it (``columns[].type``), the JSON value
Trino puts on the wire and the Python value the ``trino`` client maps that to; prestoha's own
decoding must agree with the client's. The source of each expectation is in its comment.
"""

from __future__ import annotations

import base64
import math
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import trino
from roundtrip import ENCODING_IDS, ENCODINGS, Seen, observe

from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration

NAN = float("nan")

# (SQL expression, Trino type, JSON wire value, trino client value)
CASES: list[tuple[str, str, Any, Any]] = [
    # Numbers: JsonEncodingUtils writes integers with writeNumber, doubles and reals with
    # Jackson's writeNumber (NaN and infinities as strings, WRITE_NAN_AS_STRINGS); the client's
    # DoubleValueMapper turns those strings into floats (trino/mapper.py).
    ("true", "boolean", True, True),
    ("TINYINT '-128'", "tinyint", -128, -128),
    ("SMALLINT '32767'", "smallint", 32767, 32767),
    ("2147483647", "integer", 2147483647, 2147483647),  # LongLiteral in int range: integer
    ("9223372036854775807", "bigint", 9223372036854775807, 9223372036854775807),
    # RealEncoder: Float.toString, the shortest text with at least two digits (1.4E-45).
    ("REAL '1.4E-45'", "real", 1.4e-45, 1.4e-45),
    ("REAL '0.1'", "real", 0.1, 0.1),
    ("REAL '3.4028235E38'", "real", 3.4028235e38, 3.4028235e38),
    ("CAST(nan() AS real)", "real", "NaN", NAN),
    ("1.5E0", "double", 1.5, 1.5),
    # DoubleOperators.divide is IEEE 754 division.
    ("1E0 / 0", "double", "Infinity", math.inf),
    ("-1E0 / 0", "double", "-Infinity", -math.inf),
    ("0E0 / 0", "double", "NaN", NAN),
    ("1E0 / 7", "double", 1 / 7, 1 / 7),
    ("CAST(1 AS double) / 8", "double", 0.125, 0.125),
    ("7E0 / -2", "double", -3.5, -3.5),
    ("infinity()", "double", "Infinity", math.inf),
    # Decimals: Decimals.parse gives the literal's type (leading zeros do not count); SqlDecimal
    # goes out as its text; the client's DecimalValueMapper makes a Decimal.
    ("0.1", "decimal(1,1)", "0.1", Decimal("0.1")),
    ("DECIMAL '1.0'", "decimal(2,1)", "1.0", Decimal("1.0")),
    (
        "DECIMAL '12345678901234567890123456789012345678'",
        "decimal(38,0)",
        "12345678901234567890123456789012345678",
        Decimal("12345678901234567890123456789012345678"),
    ),
    ("CAST(NULL AS decimal(10,2))", "decimal(10,2)", None, None),
    # DecimalOperators: addition keeps max scale and one more integer digit; multiplication
    # adds precisions and scales.
    ("0.1 + 0.22", "decimal(3,2)", "0.32", Decimal("0.32")),
    ("DECIMAL '1.5' * DECIMAL '2.25'", "decimal(5,3)", "3.375", Decimal("3.375")),
    # Strings: a literal is varchar(length); concat adds lengths, substr/upper keep them
    # (io.trino.operator.scalar.StringFunctions, ConcatFunction).
    ("'abc'", "varchar(3)", "abc", "abc"),
    ("'abc' || 'de'", "varchar(5)", "abcde", "abcde"),
    ("substr('abcdef', 2)", "varchar(6)", "bcdef", "bcdef"),
    ("upper('abc')", "varchar(3)", "ABC", "ABC"),
    ("CAST('abc' AS varchar)", "varchar", "abc", "abc"),
    # CharEncoder pads to the length (Chars.padSpaces).
    ("CAST('c' AS char(3))", "char(3)", "c  ", "c  "),
    # VarbinaryEncoder: writeBinary, base64; BinaryValueMapper decodes it.
    ("X'00ff'", "varbinary", "AP8=", b"\x00\xff"),
    # JSON: JsonEncoder writes the JSON text as a string. A cast of a varchar makes a JSON
    # string (JsonOperators); json_parse and JSON '...' parse and re-write with sorted keys
    # (JsonFunctions.jsonParse).
    ("CAST('\"a string\"' AS json)", "json", '"\\"a string\\""', '"\\"a string\\""'),
    ("json_parse('\"a string\"')", "json", '"a string"', '"a string"'),
    ("JSON '{\"b\": 1, \"a\": [1, 2]}'", "json", '{"a":[1,2],"b":1}', '{"a":[1,2],"b":1}'),
    ("CAST(ARRAY[1, 2] AS json)", "json", "[1,2]", "[1,2]"),
    ("json_format(JSON '[1, 2]')", "varchar", "[1,2]", "[1,2]"),
    # IpAddressType.getObjectValue: InetAddresses.toAddrString, IPv4-mapped shown as IPv4; the
    # client has no mapper for ipaddress and keeps the text.
    ("IPADDRESS '10.0.0.1'", "ipaddress", "10.0.0.1", "10.0.0.1"),
    ("IPADDRESS '2001:DB8:0:0:0:0:0:1'", "ipaddress", "2001:db8::1", "2001:db8::1"),
    ("CAST('::ffff:1.2.3.4' AS ipaddress)", "ipaddress", "1.2.3.4", "1.2.3.4"),
    # UuidType: the text; UuidValueMapper makes a uuid.UUID.
    (
        "UUID '12151fd2-7586-11e9-8f9e-2a86e4085a59'",
        "uuid",
        "12151fd2-7586-11e9-8f9e-2a86e4085a59",
        uuid.UUID("12151fd2-7586-11e9-8f9e-2a86e4085a59"),
    ),
    ("CAST(NULL AS uuid)", "uuid", None, None),
    # typeof names the analyzed type (io.trino.operator.scalar.TypeOfFunction).
    ("typeof(ARRAY[1, 2])", "varchar", "array(integer)", "array(integer)"),
    ("typeof(MAP(ARRAY['a'], ARRAY['b']))", "varchar", "map(varchar(1), varchar(1))",
     "map(varchar(1), varchar(1))"),
    ("typeof(ARRAY[NULL])", "varchar", "array(unknown)", "array(unknown)"),
    ("typeof(0.1)", "varchar", "decimal(1,1)", "decimal(1,1)"),
    ("typeof(ROW(1, 'a'))", "varchar", "row(integer, varchar(1))", "row(integer, varchar(1))"),
    ("typeof(IPADDRESS '10.0.0.1')", "varchar", "ipaddress", "ipaddress"),
    ("typeof(approx_set(1))", "varchar", "HyperLogLog", "HyperLogLog"),
    # Cardinality of the sketches: exact for small sets in Trino (sparse HyperLogLog).
    ("cardinality(approx_set(x)) FROM (VALUES 1, 2, 2, NULL) t(x)", "bigint", 2, 2),
    ("cardinality(empty_approx_set())", "bigint", 0, 0),
    ("cardinality(CAST(approx_set(7) AS P4HyperLogLog))", "bigint", 1, 1),
    ("cardinality(make_set_digest(x)) FROM (VALUES 'a', 'b') t(x)", "bigint", 2, 2),
    ("value_at_quantile(tdigest_agg(x), 0.5) FROM (VALUES 1E0, 2E0, 3E0) t(x)", "double",
     2.0, 2.0),
    # Nested: ArrayEncoder/MapEncoder/RowEncoder (map keys as text in the map's order, rows as
    # arrays); the client maps rows to NamedRowTuple, which also takes repeated names (RowType).
    ("ARRAY[1, NULL, 3]", "array(integer)", [1, None, 3], [1, None, 3]),
    ("ARRAY[NULL]", "array(unknown)", [None], [None]),
    ("MAP(ARRAY['b', 'a'], ARRAY[1, NULL])", "map(varchar(1), integer)", {"b": 1, "a": None},
     {"b": 1, "a": None}),
    ("ROW(1, 'a')", "row(integer, varchar(1))", [1, "a"], (1, "a")),
    ("CAST(ROW(1, 2) AS ROW(x bigint, x bigint))", "row(x bigint, x bigint)", [1, 2], (1, 2)),
    ("ARRAY[CAST(ROW(REAL '0.1', X'00') AS ROW(r real, b varbinary))]",
     "array(row(r real, b varbinary))", [[0.1, "AA=="]], [(0.1, b"\x00")]),
]  # fmt: skip

SKETCH_TYPES = [
    # Sketches go out as SqlVarbinary (writeBinary, base64) under their own type name; the
    # client has no mapper for them and keeps the base64 text. The bytes are not Trino's.
    ("approx_set(1)", "HyperLogLog"),
    ("empty_approx_set()", "HyperLogLog"),
    ("CAST(approx_set(1) AS P4HyperLogLog)", "P4HyperLogLog"),
    ("CAST(CAST(approx_set(1) AS varbinary) AS HyperLogLog)", "HyperLogLog"),
    ("make_set_digest(1)", "SetDigest"),
    ("tdigest_agg(1E0)", "tdigest"),
    ("qdigest_agg(BIGINT '1')", "qdigest(bigint)"),
]


@pytest.fixture(scope="module")
def uri() -> Iterator[str]:
    with Coordinator(node_id="types-scalar", port=0, admin=False, spooling=True) as c:
        yield c.uri


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return tuple(a) == tuple(b)
    return bool(a == b) and type(a) is type(b)


@pytest.mark.parametrize("encoding", ENCODINGS, ids=ENCODING_IDS)
@pytest.mark.parametrize(
    ("expression", "type_name", "wire", "value"), CASES, ids=[c[0] for c in CASES]
)
def test_scalar_value_round_trips(
    uri: str, encoding: str | None, expression: str, type_name: str, wire: Any, value: Any
) -> None:
    seen: Seen = observe(uri, expression, encoding)
    assert seen.signature == type_name
    assert _same(seen.wire, wire), seen.wire
    assert _same(seen.trino, value), seen.trino
    assert _same(seen.prestoha, seen.trino), seen.prestoha


@pytest.mark.parametrize("encoding", ENCODINGS, ids=ENCODING_IDS)
@pytest.mark.parametrize(
    ("expression", "type_name"), SKETCH_TYPES, ids=[c[0] for c in SKETCH_TYPES]
)
def test_sketches_travel_as_base64_under_their_type_name(
    uri: str, encoding: str | None, expression: str, type_name: str
) -> None:
    seen = observe(uri, expression, encoding)
    assert seen.signature == type_name
    assert seen.type_signature["rawType"] == type_name.split("(")[0]
    assert isinstance(seen.wire, str) and base64.b64decode(seen.wire, validate=True)
    assert seen.trino == seen.wire
    assert seen.prestoha == seen.trino


def test_type_signatures_carry_lengths_and_arguments(uri: str) -> None:
    assert observe(uri, "'abc'").type_signature == {
        "rawType": "varchar",
        "arguments": [{"kind": "LONG", "value": 3}],
    }
    assert observe(uri, "0.1").type_signature == {
        "rawType": "decimal",
        "arguments": [{"kind": "LONG", "value": 1}, {"kind": "LONG", "value": 1}],
    }
    assert observe(uri, "qdigest_agg(BIGINT '1')").type_signature == {
        "rawType": "qdigest",
        "arguments": [{"kind": "TYPE", "value": {"rawType": "bigint", "arguments": []}}],
    }


def _error(uri: str, sql: str) -> Any:
    host, port = uri.removeprefix("http://").rsplit(":", 1)
    connect: Any = trino.dbapi.connect  # the client is untyped
    with connect(host=host, port=int(port), user="types") as conn:
        cur = conn.cursor()
        with pytest.raises(trino.exceptions.TrinoUserError) as info:
            cur.execute(sql)
            cur.fetchall()
    return info.value


@pytest.mark.parametrize(
    ("sql", "error_name", "message"),
    [
        # LongLiteral: an integer literal beyond bigint does not parse.
        ("SELECT 9223372036854775808", "SYNTAX_ERROR", "Invalid numeric literal"),
        # IntegerOperators.add uses Math.addExact: NUMERIC_VALUE_OUT_OF_RANGE.
        ("SELECT 2147483647 + 1", "NUMERIC_VALUE_OUT_OF_RANGE", ""),
        ("SELECT 1 / 0", "DIVISION_BY_ZERO", "Division by zero"),
        ("SELECT CAST(1 AS no_such_type)", "TYPE_NOT_FOUND", "Unknown type: no_such_type"),
        # JsonFunctions.jsonParse: INVALID_FUNCTION_ARGUMENT "Cannot convert '{' to JSON".
        ("SELECT json_parse('{')", "INVALID_FUNCTION_ARGUMENT", "Cannot convert '{' to JSON"),
    ],
)
def test_trino_errors_for_bad_values(uri: str, sql: str, error_name: str, message: str) -> None:
    err = _error(uri, sql)
    assert err.error_name == error_name
    assert message in err.message
