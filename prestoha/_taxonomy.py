"""What a failure means, decided in one place (the table in DESIGN.md, "What a failure means").

Every failure of an attempt is put in one :class:`Failure` class, from the exception and
the phase the attempt was in. The execution then decides from that class alone whether the
statement may run again, and where.
"""

from __future__ import annotations

import enum
import http.client
import socket
from dataclasses import dataclass

import requests
import trino.exceptions

from prestoha import errors

__all__ = [
    "REFUSED_BEFORE_RUNNING",
    "Failure",
    "FailureKind",
    "Phase",
    "classify",
    "query_error",
    "request_not_sent",
]

#: "Not now" answers given instead of running the statement: it did not run.
REFUSED_BEFORE_RUNNING = frozenset(
    {"SERVER_STARTING_UP", "SERVER_SHUTTING_DOWN", "NO_NODES_AVAILABLE"}
)


class Phase(enum.Enum):
    """Where an attempt was when it failed."""

    #: The POST that registers the query. Trino runs nothing until the first GET.
    SUBMIT = "submit"
    #: Any request after the POST was answered: the query may be running.
    EXECUTE = "execute"


class FailureKind(enum.Enum):
    """The failure taxonomy."""

    #: Nothing ran (refused, connect timeout, 502/503/504/429 on POST, unanswered POST):
    #: any statement may be sent anywhere.
    NOT_RUN = "not run"
    #: Lost after execution began: a read may run again, a write's outcome is unknown.
    LOST = "lost"
    #: The cluster said "not now" (starting, shutting down, no nodes): a read may go
    #: elsewhere; a write, unless nothing ran, may not.
    NOT_NOW = "not now"
    #: The query itself failed (``USER_ERROR`` and the like): raise, never retry.
    QUERY_FAILED = "query failed"


@dataclass(frozen=True)
class Failure:
    """One classified failure of one attempt."""

    kind: FailureKind
    phase: Phase
    #: One line for the attempt history and the logs (never a credential).
    reason: str
    #: The node refused or reset the connection: its process is gone or going.
    node_down: bool = False
    #: Nothing of the statement can have run (it never got past registration).
    nothing_ran: bool = False
    #: The error to raise as is for ``QUERY_FAILED``.
    error: errors.Error | None = None
    #: Trino's error name, when the coordinator reported one.
    error_name: str | None = None


#: Errors by which a cluster says "not now" rather than "this query is wrong".
NOT_NOW_ERRORS = frozenset(
    {
        "SERVER_STARTING_UP",
        "SERVER_SHUTTING_DOWN",
        "NO_NODES_AVAILABLE",
        "REMOTE_TASK_ERROR",
        "REMOTE_HOST_GONE",
        "PAGE_TRANSPORT_ERROR",
        "PAGE_TRANSPORT_TIMEOUT",
        "TOO_MANY_REQUESTS_FAILED",
        "QUERY_QUEUE_FULL",
    }
)

#: HTTP statuses that mean "this server cannot take it now, nothing was done".
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

_DATA_ERRORS = frozenset(
    {
        "DIVISION_BY_ZERO",
        "NUMERIC_VALUE_OUT_OF_RANGE",
        "INVALID_CAST_ARGUMENT",
        "INVALID_FUNCTION_ARGUMENT",
        "INVALID_LITERAL",
    }
)


def classify(exc: BaseException, phase: Phase) -> Failure:
    """Put one attempt's failure in its class."""
    if isinstance(exc, trino.exceptions.TrinoQueryError):
        return _classify_query_error(exc, phase)
    if isinstance(exc, _HttpStatusError):
        return _classify_status(exc.status, exc.body, phase)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Failure(
            FailureKind.NOT_RUN, phase, "connect timed out", nothing_ran=True, node_down=False
        )
    if isinstance(exc, requests.exceptions.ReadTimeout):
        if phase is Phase.SUBMIT:
            # An unanswered POST leaves at most a registration that nobody polls:
            # Trino starts a query on the first GET of its queued URI.
            return Failure(FailureKind.NOT_RUN, phase, "no answer to submit", nothing_ran=True)
        return Failure(FailureKind.LOST, phase, "no answer while running")
    if isinstance(exc, requests.exceptions.ConnectionError):
        refused = _is_refused(exc)
        reason = "connection refused" if refused else "connection lost"
        if phase is Phase.SUBMIT:
            # Refused: nothing sent. Reset during POST: at most an orphan registration.
            return Failure(FailureKind.NOT_RUN, phase, reason, node_down=True, nothing_ran=True)
        return Failure(FailureKind.LOST, phase, reason, node_down=True)
    if isinstance(
        exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
    ):
        # The connection was cut in the middle of an answer.
        if phase is Phase.SUBMIT:
            return Failure(
                FailureKind.NOT_RUN, phase, "connection cut", node_down=True, nothing_ran=True
            )
        return Failure(FailureKind.LOST, phase, "connection cut", node_down=True)
    if isinstance(exc, trino.exceptions.TrinoConnectionError):
        # The client's own wrapper ("received empty response ...").
        kind = FailureKind.NOT_RUN if phase is Phase.SUBMIT else FailureKind.LOST
        return Failure(kind, phase, _one_line(str(exc)), nothing_ran=phase is Phase.SUBMIT)
    if isinstance(exc, (ValueError, KeyError)):
        # A body that is not a Trino answer: something in between (a proxy) or a sick node.
        kind = FailureKind.NOT_RUN if phase is Phase.SUBMIT else FailureKind.LOST
        return Failure(kind, phase, f"malformed answer: {_one_line(str(exc))}")
    kind = FailureKind.NOT_RUN if phase is Phase.SUBMIT else FailureKind.LOST
    return Failure(kind, phase, f"{type(exc).__name__}: {_one_line(str(exc))}")


class _HttpStatusError(Exception):
    """An HTTP answer that is not a Trino page, with its status kept."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"HTTP {status}")


def http_status_error(status: int, body: bytes) -> Exception:
    """The exception an attempt raises for a non-200 answer."""
    return _HttpStatusError(status, body[:200].decode("utf-8", "replace"))


def _classify_status(status: int, body: str, phase: Phase) -> Failure:
    detail = f"HTTP {status}" + (f": {_one_line(body)}" if body.strip() else "")
    if phase is Phase.SUBMIT:
        if status in RETRYABLE_STATUSES:
            return Failure(FailureKind.NOT_RUN, phase, detail, nothing_ran=True)
        if status in (400, 401, 403, 413, 415):
            err = errors.ProgrammingError if status == 400 else errors.OperationalError
            return Failure(
                FailureKind.QUERY_FAILED, phase, detail, error=err(f"coordinator refused: {detail}")
            )
        return Failure(FailureKind.NOT_RUN, phase, detail, nothing_ran=True)
    # 404 "Query not found" after a restart, 410, 5xx mid-stream: the query is lost.
    return Failure(FailureKind.LOST, phase, detail)


def _classify_query_error(exc: trino.exceptions.TrinoQueryError, phase: Phase) -> Failure:
    name = exc.error_name or "UNKNOWN"
    reason = f"{name}: {_one_line(exc.message)}"
    if name in NOT_NOW_ERRORS and exc.error_type != "USER_ERROR":
        return Failure(
            FailureKind.NOT_NOW,
            phase,
            reason,
            nothing_ran=phase is Phase.SUBMIT,
            error_name=name,
        )
    return Failure(FailureKind.QUERY_FAILED, phase, reason, error=query_error(exc))


def query_error(exc: trino.exceptions.TrinoQueryError) -> errors.Error:
    """The PEP 249 error for a query the coordinator failed, with Trino's details kept."""
    name = exc.error_name
    cls: type[errors.Error]
    if name in _DATA_ERRORS:
        cls = errors.DataError
    elif name == "NOT_SUPPORTED":
        cls = errors.NotSupportedError
    elif name == "CONSTRAINT_VIOLATION":
        cls = errors.IntegrityError
    elif exc.error_type == "USER_ERROR":
        cls = errors.ProgrammingError
    elif exc.error_type == "INTERNAL_ERROR":
        cls = errors.InternalError
    else:
        cls = errors.OperationalError
    location = ""
    if exc.error_location and exc.error_location[0] > 0:
        line, column = exc.error_location
        if f"line {line}:{column}" not in exc.message:
            location = f" (line {line}, column {column})"
    err = cls(f"{name}: {exc.message}{location}")
    err.error_name = name
    err.error_code = exc.error_code
    err.error_type = exc.error_type
    err.query_id = exc.query_id
    return err


def request_not_sent(exc: BaseException) -> bool:
    """Whether the request certainly never reached the server: no connection could be
    opened (refused, or the connect timed out). A reset or a cut answer may come after the
    server read the request, so it does not count."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ConnectionRefusedError):
            return True
        if type(cur).__name__ == "NewConnectionError":
            return True
        nested = [a for a in getattr(cur, "args", ()) if isinstance(a, BaseException)]
        cur = (
            cur.__cause__
            or cur.__context__
            or getattr(cur, "reason", None)
            or (nested[0] if nested else None)
        )
    return False


def _is_refused(exc: requests.exceptions.ConnectionError) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(
            cur, (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected)
        ):
            return True
        if isinstance(cur, socket.gaierror):
            return True
        for arg in getattr(cur, "args", ()):
            if isinstance(arg, BaseException) and id(arg) not in seen and _is_refused_leaf(arg):
                return True
        cur = cur.__cause__ or cur.__context__ or getattr(cur, "reason", None)
    text = str(exc)
    return (
        "Connection refused" in text or "Connection reset" in text or "RemoteDisconnected" in text
    )


def _is_refused_leaf(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionRefusedError, ConnectionResetError)):
        return True
    text = str(exc)
    return "Connection refused" in text or "Connection reset" in text


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:197] + "..."
