"""A failure of prestoha's own decoding is final and says where it happened.

The answer was well formed (JSON with columns and rows); turning it into Python values raised.
Every coordinator would send the same answer, so the driver must not retry it: the execution
classifies :class:`DecodingFailed` as final, with an ``InternalError`` that names the column
and its type and says it is a driver bug. A malformed answer (a proxy's HTML page, which fails
before any decoding) stays a lost or not-run attempt, as before.
"""

from __future__ import annotations

from typing import Any

import pytest
import trino.exceptions

from prestoha import errors
from prestoha.execution import FailureKind, Phase, classify
from prestoha.protocol import DecodingFailed, RowDecoder

OK = {"name": "id", "type": "bigint", "typeSignature": {"rawType": "bigint", "arguments": []}}
ARRAY = {
    "name": "xs",
    "type": "array(integer)",
    "typeSignature": {
        "rawType": "array",
        "arguments": [{"kind": "TYPE", "value": {"rawType": "integer", "arguments": []}}],
    },
}
MAP = {
    "name": "m",
    "type": "map(varchar,integer)",
    "typeSignature": {
        "rawType": "map",
        "arguments": [
            {"kind": "TYPE", "value": {"rawType": "varchar", "arguments": []}},
            {"kind": "TYPE", "value": {"rawType": "integer", "arguments": []}},
        ],
    },
}


def decoder(*columns: dict[str, Any]) -> RowDecoder:
    d = RowDecoder(legacy_primitive_types=False)
    d.learn(list(columns))
    return d


def test_columns_it_cannot_read_fail_naming_the_column() -> None:
    # An array with no element type: the official mapper factory indexes arguments[0].
    broken = {**ARRAY, "typeSignature": {"rawType": "array", "arguments": []}}
    with pytest.raises(DecodingFailed) as info:
        decoder(OK, broken)
    message = str(info.value)
    assert "column 'xs' of type 'array(integer)'" in message
    assert "IndexError" in message
    assert "bug in prestoha" in message


@pytest.mark.parametrize(
    ("column", "value", "cause"),
    [
        # PrestoDB's JSON text of a nested value, cut short
        (ARRAY, "[ 1, 2", "JSONDecodeError"),
        # a map column whose value is a list: the mapper has no items() to call
        (MAP, "[ 1, 2 ]", "AttributeError"),
    ],
)
def test_values_it_cannot_map_fail_naming_the_column(
    column: dict[str, Any], value: Any, cause: str
) -> None:
    d = decoder(OK, column)
    with pytest.raises(DecodingFailed) as info:
        d.rows([[1, None], [2, value]])
    message = str(info.value)
    assert f"column {column['name']!r} of type {column['type']!r}" in message
    assert cause in message


def test_the_column_is_found_in_a_long_page_too() -> None:
    d = decoder(OK, MAP)
    raw: list[Any] = [[i, '{\n  "a" : 1\n}'] for i in range(3000)]
    raw[2500][1] = "[ ]"
    with pytest.raises(DecodingFailed, match="column 'm' of type"):
        d.rows(raw)


def test_a_value_python_cannot_hold_stays_the_trino_clients_error() -> None:
    date = {"name": "d", "type": "date", "typeSignature": {"rawType": "date", "arguments": []}}
    with pytest.raises(trino.exceptions.TrinoDataError):
        decoder(date).rows([["+10000-01-01"]])


@pytest.mark.parametrize("phase", list(Phase))
def test_a_decoding_failure_is_final_with_an_internal_error(phase: Phase) -> None:
    exc = DecodingFailed(MAP, AttributeError("'list' object has no attribute 'items'"))
    failure = classify(exc, phase)
    assert failure.kind is FailureKind.QUERY_FAILED
    assert failure.kind.final
    assert type(failure.error) is errors.InternalError
    assert str(failure.error) == str(exc)
    assert "column 'm' of type 'map(varchar,integer)'" in failure.reason


def test_a_malformed_answer_is_still_retried() -> None:
    failure = classify(ValueError("Expecting value: line 1 column 1 (char 0)"), Phase.EXECUTE)
    assert failure.kind is FailureKind.LOST
    assert not failure.kind.final
