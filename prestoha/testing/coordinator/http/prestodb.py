"""What the ``prestodb`` flavor answers differently from Trino, beyond values and columns.

Sources are PrestoDB's (github.com/prestodb/presto): ``com.facebook.presto.server.protocol``
(``QueuedStatementResource``, ``Query``, ``QueryResourceUtil``), ``com.facebook.presto.client``
(``QueryError``, ``StatementStats``) and ``com.facebook.presto.spi.StandardErrorCode``.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

__all__ = [
    "DEFAULT_VERSION",
    "execute_immediate_error",
    "presto_error",
    "presto_slug",
    "presto_stats",
]

DEFAULT_VERSION = "0.289"
"""``nodeVersion.version`` of the emulated PrestoDB coordinator unless ``--version`` says."""

# StandardErrorCode of PrestoDB: (code, type, retriable) by name, where it differs from Trino's
# numbering or is retriable. Names absent here keep the engine's (Trino's) code and type.
_STANDARD: dict[str, tuple[int, str, bool]] = {
    "COLUMN_NOT_FOUND": (0x32, "USER_ERROR", False),
    "INVALID_LIMIT_CLAUSE": (0x31, "USER_ERROR", False),
    "VIEW_NOT_FOUND": (0x30, "USER_ERROR", False),
    "TOO_MANY_REQUESTS_FAILED": (0x0001_0001, "INTERNAL_ERROR", True),
    "PAGE_TRANSPORT_ERROR": (0x0001_0003, "INTERNAL_ERROR", True),
    "PAGE_TRANSPORT_TIMEOUT": (0x0001_0004, "INTERNAL_ERROR", True),
    "REMOTE_TASK_ERROR": (0x0001_0006, "INTERNAL_ERROR", True),
    "REMOTE_HOST_GONE": (0x0001_0016, "INTERNAL_ERROR", True),
}

# Trino reports these analysis failures under their own error codes; PrestoDB's analyzer throws
# com.facebook.presto.sql.analyzer.SemanticException for them, a PrestoException of SYNTAX_ERROR.
_SEMANTIC = frozenset(
    {
        "TABLE_NOT_FOUND",
        "SCHEMA_NOT_FOUND",
        "CATALOG_NOT_FOUND",
        "COLUMN_NOT_FOUND",
        "TYPE_MISMATCH",
        "AMBIGUOUS_NAME",
        "MISSING_COLUMN_NAME",
        "MISSING_GROUP_BY",
        "MISSING_ORDER_BY",
        "EXPRESSION_NOT_AGGREGATE",
        "EXPRESSION_NOT_SCALAR",
        "COLUMN_TYPE_UNKNOWN",
        "DUPLICATE_COLUMN_NAME",
        "MISMATCHED_COLUMN_ALIASES",
        "INVALID_COLUMN_REFERENCE",
        "TABLE_ALREADY_EXISTS",
        "SCHEMA_ALREADY_EXISTS",
        "INVALID_PARAMETER_USAGE",
    }
)

# Analyzer messages: PrestoDB prints the QualifiedObjectName bare ("Table a.b.c does not exist")
# where Trino quotes it.
_MISSING = re.compile(r"\b(Table|Schema|Catalog) '([^']*)' does not exist")

_EXECUTE_IMMEDIATE = re.compile(r"^(\s*)execute(\s+)immediate\b(\s*)", re.IGNORECASE)


def presto_slug() -> str:
    """A query slug as ``QueuedStatementResource`` mints it: ``x`` and 32 hex digits."""
    return "x" + secrets.token_hex(16)


def _exception_type(trino_type: str) -> str:
    if trino_type.startswith("io.trino."):
        return "com.facebook.presto." + trino_type[len("io.trino.") :].replace(
            "TrinoException", "PrestoException"
        )
    return trino_type


def presto_error(error: dict[str, Any]) -> dict[str, Any]:
    """A Trino-shaped ``QueryError`` as PrestoDB's: its codes, ``retriable``, class names.

    ``Query.toQueryError`` builds it from the ``ErrorCode`` (name, code, type, retriable) and
    the ``FailureInfo``; ``sqlState`` is always null and therefore left out.
    """
    name = str(error.get("errorName"))
    code, etype, retriable = error.get("errorCode"), error.get("errorType"), False
    message = error.get("message")
    if name in _SEMANTIC:
        name, code, etype = "SYNTAX_ERROR", 1, "USER_ERROR"
        message = _MISSING.sub(r"\1 \2 does not exist", str(message))
    elif name in _STANDARD:
        code, etype, retriable = _STANDARD[name]
    out: dict[str, Any] = {
        "message": message,
        "errorCode": code,
        "errorName": name,
        "errorType": etype,
        "retriable": retriable,
    }
    if "errorLocation" in error:
        out["errorLocation"] = error["errorLocation"]
    failure = error.get("failureInfo")
    if isinstance(failure, dict):
        failure = dict(failure)
        failure["type"] = _exception_type(str(failure.get("type", "")))
        failure["message"] = message
        out["failureInfo"] = failure
    return out


def presto_stats(stats: dict[str, Any], state: str) -> dict[str, Any]:
    """A Trino ``StatementStats`` as PrestoDB's (``com.facebook.presto.client.StatementStats``).

    PrestoDB adds ``waitingForPrerequisites`` (and its time), the total and per-task peak
    memory and ``runtimeStats``, and has none of Trino's progress, planning or physical-input
    fields. ``stats`` are those of the same query in Trino's state machine.
    """
    out: dict[str, Any] = {
        "state": state,
        "waitingForPrerequisites": state == "WAITING_FOR_PREREQUISITES",
        "queued": state == "QUEUED",
    }
    for key in ("scheduled", "nodes", "totalSplits", "queuedSplits", "runningSplits"):
        out[key] = stats.get(key, 0)
    out["completedSplits"] = stats.get("completedSplits", 0)
    for key in ("cpuTimeMillis", "wallTimeMillis"):
        out[key] = stats.get(key, 0)
    out["waitingForPrerequisitesTimeMillis"] = 0
    for key in ("queuedTimeMillis", "elapsedTimeMillis", "processedRows", "processedBytes"):
        out[key] = stats.get(key, 0)
    peak = stats.get("peakMemoryBytes", 0)
    out.update(
        {
            "peakMemoryBytes": peak,
            "peakTotalMemoryBytes": peak,
            "peakTaskTotalMemoryBytes": peak,
            "spilledBytes": stats.get("spilledBytes", 0),
        }
    )
    root = stats.get("rootStage")
    if isinstance(root, dict):
        # StageStats: Trino's physicalInputBytes, failedTasks and coordinatorOnly are not in it.
        drop = ("physicalInputBytes", "failedTasks", "coordinatorOnly")
        out["rootStage"] = {k: v for k, v in root.items() if k not in drop}
        out["rootStage"]["runtimeStats"] = {}
    out["runtimeStats"] = {}
    return out


def execute_immediate_error(sql: str) -> dict[str, Any] | None:
    """The parse error PrestoDB answers to ``EXECUTE IMMEDIATE '...'``, or None.

    PrestoDB's grammar (presto-parser ``SqlBase.g4``) has only ``EXECUTE identifier (USING
    expression (',' expression)*)?``: ``IMMEDIATE`` parses as the statement name, and the
    string after it is where the parser stops (``ParsingException``, ``SYNTAX_ERROR``).
    """
    m = _EXECUTE_IMMEDIATE.match(sql)
    if m is None:
        return None
    rest = sql[m.end() :]
    if not rest or rest.upper().startswith("USING"):
        return None  # a statement really named "immediate"
    offset = m.end()
    line = sql.count("\n", 0, offset) + 1
    column = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    if rest.startswith("'"):
        end = rest.find("'", 1)
        while end != -1 and rest[end + 1 : end + 2] == "'":
            end = rest.find("'", end + 2)
        token = rest if end == -1 else rest[: end + 1]
    else:
        token = re.split(r"\s", rest, maxsplit=1)[0]
    message = f"line {line}:{column}: mismatched input '{token}'. Expecting: 'USING', <EOF>"
    location = {"lineNumber": line, "columnNumber": column}
    return {
        "message": message,
        "errorCode": 1,
        "errorName": "SYNTAX_ERROR",
        "errorType": "USER_ERROR",
        "errorLocation": location,
        "failureInfo": {
            "type": "io.trino.sql.parser.ParsingException",
            "message": message,
            "suppressed": [],
            "stack": [],
            "errorLocation": location,
        },
    }
