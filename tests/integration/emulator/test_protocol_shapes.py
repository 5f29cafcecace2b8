"""Response shapes compared with responses of a real Trino 47x coordinator.

The fixtures below are written from the documented behaviour of Trino's ``QueryResults``,
``StatementStats``, ``StageStats`` and ``QueryError`` (camelCase keys, absent optional fields,
``warnings`` always present); values are ours, keys and JSON types are Trino's.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration

QID = "20250301_101112_00007_k3x9q"
BASE = "http://trino.example:8080"
QUEUED_STATS: dict[str, Any] = {
    "state": "QUEUED",
    "queued": True,
    "scheduled": False,
    "nodes": 0,
    "totalSplits": 0,
    "queuedSplits": 0,
    "runningSplits": 0,
    "completedSplits": 0,
    "cpuTimeMillis": 0,
    "wallTimeMillis": 0,
    "queuedTimeMillis": 1,
    "elapsedTimeMillis": 1,
    "planningTimeMillis": 0,
    "analysisTimeMillis": 0,
    "finishingTimeMillis": 0,
    "physicalInputTimeMillis": 0,
    "processedRows": 0,
    "processedBytes": 0,
    "physicalInputBytes": 0,
    "physicalWrittenBytes": 0,
    "internalNetworkInputBytes": 0,
    "peakMemoryBytes": 0,
    "spilledBytes": 0,
}
ROOT_STAGE: dict[str, Any] = {
    "stageId": "0",
    "state": "RUNNING",
    "done": False,
    "nodes": 1,
    "totalSplits": 1,
    "queuedSplits": 0,
    "runningSplits": 1,
    "completedSplits": 0,
    "cpuTimeMillis": 12,
    "wallTimeMillis": 40,
    "processedRows": 3,
    "processedBytes": 96,
    "physicalInputBytes": 96,
    "failedTasks": 0,
    "coordinatorOnly": False,
    "subStages": [],
}
RUNNING_STATS: dict[str, Any] = {
    **QUEUED_STATS,
    "state": "RUNNING",
    "queued": False,
    "scheduled": True,
    "nodes": 1,
    "totalSplits": 1,
    "runningSplits": 1,
    "progressPercentage": 0.0,
    "runningPercentage": 100.0,
    "rootStage": ROOT_STAGE,
}
COLUMNS = [
    {"name": "n", "type": "bigint", "typeSignature": {"rawType": "bigint", "arguments": []}},
    {
        "name": "s",
        "type": "varchar",
        "typeSignature": {
            "rawType": "varchar",
            "arguments": [{"kind": "LONG", "value": 2147483647}],
        },
    },
]

POST_RESPONSE = {
    "id": QID,
    "infoUri": f"{BASE}/ui/query.html?{QID}",
    "nextUri": f"{BASE}/v1/statement/queued/{QID}/y7c1a3e0b2d/1",
    "stats": QUEUED_STATS,
    "warnings": [],
}
QUEUED_RESPONSE = {**POST_RESPONSE, "nextUri": f"{BASE}/v1/statement/executing/{QID}/y7c1/0"}
EXECUTING_RESPONSE = {
    "id": QID,
    "infoUri": f"{BASE}/ui/query.html?{QID}",
    "partialCancelUri": f"{BASE}/v1/statement/executing/partialCancel/{QID}/0/y7c1/1",
    "nextUri": f"{BASE}/v1/statement/executing/{QID}/y7c1/1",
    "columns": COLUMNS,
    "data": [[1, "a"], [2, "b"]],
    "stats": RUNNING_STATS,
    "warnings": [],
}
FINISHED_RESPONSE = {
    "id": QID,
    "infoUri": f"{BASE}/ui/query.html?{QID}",
    "columns": COLUMNS,
    "stats": {
        **RUNNING_STATS,
        "state": "FINISHED",
        "runningSplits": 0,
        "completedSplits": 1,
        "progressPercentage": 100.0,
        "runningPercentage": 0.0,
        "rootStage": {**ROOT_STAGE, "state": "FINISHED", "done": True},
    },
    "warnings": [],
}
ERROR_LOCATION = {"lineNumber": 1, "columnNumber": 8}
ERROR_RESPONSE = {
    "id": QID,
    "infoUri": f"{BASE}/ui/query.html?{QID}",
    "stats": {**FINISHED_RESPONSE["stats"], "state": "FAILED", "completedSplits": 0},
    "error": {
        "message": "line 1:8: Table 'x' does not exist",
        "errorCode": 46,
        "errorName": "TABLE_NOT_FOUND",
        "errorType": "USER_ERROR",
        "errorLocation": ERROR_LOCATION,
        "failureInfo": {
            "type": "io.trino.spi.TrinoException",
            "message": "line 1:8: Table 'x' does not exist",
            "suppressed": [],
            "stack": ["io.trino.sql.analyzer.SemanticExceptions.semanticException(...)"],
            "errorLocation": ERROR_LOCATION,
        },
    },
    "warnings": [],
}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def assert_shape(actual: Any, expected: Any, path: str = "$") -> None:
    """Same keys (recursively) and the same JSON types as the Trino fixture."""
    assert _kind(actual) == _kind(expected), f"{path}: {actual!r} is not like {expected!r}"
    if isinstance(expected, dict):
        assert set(actual) == set(expected), (
            f"{path}: keys differ: extra {sorted(set(actual) - set(expected))}, "
            f"missing {sorted(set(expected) - set(actual))}"
        )
        for key, value in expected.items():
            assert_shape(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list) and path.endswith(".data[]"):
        assert len(actual) == len(expected), f"{path}: row width differs"
        for i, (item, like) in enumerate(zip(actual, expected, strict=True)):
            assert_shape(item, like, f"{path}[{i}]")
    elif isinstance(expected, list) and expected and actual:
        for item in actual:
            assert_shape(item, expected[0], f"{path}[]")


def test_fixtures_are_self_consistent() -> None:
    assert_shape(EXECUTING_RESPONSE, EXECUTING_RESPONSE)
    with pytest.raises(AssertionError):
        assert_shape({**POST_RESPONSE, "nextUri": None}, POST_RESPONSE)
    with pytest.raises(AssertionError):
        assert_shape({**POST_RESPONSE, "extra": 1}, POST_RESPONSE)


def test_success_shapes(fake_coordinator: Coordinator, http: requests.Session) -> None:
    headers = {"X-Trino-User": "u"}
    uri = fake_coordinator.uri
    post = http.post(f"{uri}/v1/statement", data=b"rows 2", headers=headers, timeout=5).json()
    assert_shape(post, POST_RESPONSE)
    queued = http.get(post["nextUri"], headers=headers, timeout=5).json()
    assert_shape(queued, {**QUEUED_RESPONSE, "stats": {**QUEUED_STATS, **_scheduled(queued)}})
    page = http.get(queued["nextUri"], headers=headers, timeout=5).json()
    assert_shape(page, EXECUTING_RESPONSE)
    final = http.get(page["nextUri"], headers=headers, timeout=5).json()
    assert_shape(final, FINISHED_RESPONSE)


def _scheduled(doc: dict[str, Any]) -> dict[str, Any]:
    # A queued GET answered after dispatch reports the running query's stats, as Trino does.
    return RUNNING_STATS if doc["stats"]["scheduled"] else {}


def test_error_shape(fake_coordinator: Coordinator, http: requests.Session) -> None:
    headers = {"X-Trino-User": "u"}
    doc = http.post(
        f"{fake_coordinator.uri}/v1/statement", data=b"fail", headers=headers, timeout=5
    ).json()
    while "nextUri" in doc:
        doc = http.get(doc["nextUri"], headers=headers, timeout=5).json()
    expected = {**ERROR_RESPONSE, "columns": []} if "columns" in doc else ERROR_RESPONSE
    assert_shape(doc, expected)
