"""JSON pieces of Trino's ``QueryResults``: stats, errors, columns, and fast row encoding.

Shapes follow Trino's ``QueryResults``/``StatementStats``/``QueryError`` as a 47x coordinator
sends them: camelCase keys, absent (not null) optional fields, ``warnings`` always a list.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

_orjson: Any
try:  # orjson comes with trino on CPython; the standard library is the fallback.
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

__all__ = [
    "StandardError",
    "column_json",
    "dumps",
    "encode_rows",
    "error_json",
    "query_error_of",
    "stats_json",
]

log = logging.getLogger("prestoha.testing.coordinator.http.results")

TERMINAL_STATES = frozenset({"FINISHED", "FAILED"})


class StandardError:
    """Trino ``StandardErrorCode`` entries the protocol itself raises."""

    ABANDONED_QUERY = ("ABANDONED_QUERY", 2, "USER_ERROR")
    USER_CANCELED = ("USER_CANCELED", 3, "USER_ERROR")
    GENERIC_INTERNAL_ERROR = ("GENERIC_INTERNAL_ERROR", 65536, "INTERNAL_ERROR")
    SERVER_SHUTTING_DOWN = ("SERVER_SHUTTING_DOWN", 65545, "INTERNAL_ERROR")
    SERVER_STARTING_UP = ("SERVER_STARTING_UP", 65548, "INTERNAL_ERROR")


def _default(value: Any) -> Any:
    return str(value)


def dumps(value: Any) -> bytes:
    """Encode a JSON value to UTF-8 bytes (orjson when available)."""
    if _orjson is not None:
        try:
            encoded: bytes = _orjson.dumps(value, default=_default)
            return encoded
        except TypeError:
            pass  # e.g. integers beyond 64 bits, which the standard library handles
    return json.dumps(value, default=_default, ensure_ascii=False, allow_nan=False).encode("utf-8")


def encode_rows(rows: list[Any]) -> bytes:
    """Rows as the inside of a JSON array (``[1,"a"],[2,"b"]``), ready to splice into a page."""
    if not rows:
        return b""
    return dumps(rows)[1:-1]


def column_json(column: Any) -> dict[str, Any]:
    """One ``{name, type, typeSignature}`` entry from an engine ``Column``."""
    return {
        "name": column.name,
        "type": column.type,
        "typeSignature": column.type_signature,
    }


def query_error_of(exc: BaseException) -> tuple[str, int, str, str, int | None, int | None] | None:
    """``(name, code, type, message, line, column)`` if ``exc`` is an engine ``QueryError``."""
    name = getattr(exc, "error_name", None)
    code = getattr(exc, "error_code", None)
    etype = getattr(exc, "error_type", None)
    if not isinstance(name, str) or not isinstance(code, int) or not isinstance(etype, str):
        return None
    message = getattr(exc, "message", None)
    if not isinstance(message, str):
        message = str(exc.args[0]) if exc.args else str(exc)
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    return (
        name,
        code,
        etype,
        message,
        line if isinstance(line, int) else None,
        column if isinstance(column, int) else None,
    )


def error_json(
    name: str,
    code: int,
    error_type: str,
    message: str,
    line: int | None = None,
    column: int | None = None,
    exception_type: str = "io.trino.spi.TrinoException",
) -> dict[str, Any]:
    """A Trino ``QueryError`` object (with ``failureInfo``)."""
    failure: dict[str, Any] = {
        "type": exception_type,
        "message": message,
        "suppressed": [],
        "stack": [],
    }
    error: dict[str, Any] = {
        "message": message,
        "errorCode": code,
        "errorName": name,
        "errorType": error_type,
        "failureInfo": failure,
    }
    if line is not None and column is not None:
        location = {"lineNumber": line, "columnNumber": column}
        error["errorLocation"] = location
        failure["errorLocation"] = location
    return error


def _stage(
    state: str, done: bool, splits: Mapping[str, int], work: Mapping[str, int]
) -> dict[str, Any]:
    return {
        "stageId": "0",
        "state": state,
        "done": done,
        "nodes": 1,
        **splits,
        "cpuTimeMillis": work["cpu"],
        "wallTimeMillis": work["wall"],
        "processedRows": work["rows"],
        "processedBytes": work["bytes"],
        "physicalInputBytes": work["bytes"],
        "failedTasks": 0,
        "coordinatorOnly": False,
        "subStages": [],
    }


def stats_json(
    *,
    state: str,
    elapsed_ms: int,
    queued_ms: int,
    execution_ms: int,
    rows: int,
    nbytes: int,
    peak_memory: int,
) -> dict[str, Any]:
    """A ``StatementStats`` object for a query in ``state``."""
    scheduled = state not in ("QUEUED", "WAITING_FOR_RESOURCES", "DISPATCHING", "PLANNING")
    finished = state == "FINISHED"
    done = state in TERMINAL_STATES
    stats: dict[str, Any] = {
        "state": state,
        "queued": state == "QUEUED",
        "scheduled": scheduled,
        "nodes": 1 if scheduled else 0,
    }
    splits = {
        "totalSplits": 1 if scheduled else 0,
        "queuedSplits": 0,
        "runningSplits": 1 if scheduled and not done else 0,
        "completedSplits": 1 if finished else 0,
    }
    stats.update(splits)
    if scheduled:
        stats["progressPercentage"] = 100.0 if finished else 0.0
        stats["runningPercentage"] = 0.0 if done else 100.0
    stats.update(
        {
            "cpuTimeMillis": execution_ms,
            "wallTimeMillis": execution_ms,
            "queuedTimeMillis": queued_ms,
            "elapsedTimeMillis": elapsed_ms,
            "planningTimeMillis": 1 if scheduled else 0,
            "analysisTimeMillis": 1 if scheduled else 0,
            "finishingTimeMillis": 0,
            "physicalInputTimeMillis": 0,
            "processedRows": rows,
            "processedBytes": nbytes,
            "physicalInputBytes": nbytes,
            "physicalWrittenBytes": 0,
            "internalNetworkInputBytes": 0,
            "peakMemoryBytes": peak_memory,
            "spilledBytes": 0,
        }
    )
    if scheduled:
        work = {"cpu": execution_ms, "wall": execution_ms, "rows": rows, "bytes": nbytes}
        stats["rootStage"] = _stage(state if done else "RUNNING", done, splits, work)
    return stats


def warnings_json(warnings: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The engine's warnings, passed through as Trino ``{warningCode, message}`` objects."""
    return [dict(w) for w in warnings or ()]
