"""The exceptions prestoha raises.

The tree follows PEP 249 and adds the failures that only a driver spanning several
coordinators can have. Each class is also the ``trino.exceptions`` class of the same kind
(shown on the right), so code written for the official client catches prestoha's errors
unchanged::

    Exception
     +-- Warning                                      trino Warning
     +-- Error                                        trino Error
          +-- InterfaceError                          trino InterfaceError
          |    +-- ConfigurationError                 a bad option or URL
          |         +-- InsecureCredentialsError      TrinoAuthError: credentials over http
          +-- QueryError (with one PEP 249 class)     TrinoQueryError: the coordinator failed
          |                                           the query, with Trino's error details
          +-- DatabaseError                           trino DatabaseError
               +-- DataError                          trino DataError
               |    +-- UserDataError                 TrinoUserError: DIVISION_BY_ZERO ...
               |    +-- UnmappableValueError          TrinoDataError: a value Python cannot hold
               +-- OperationalError                   trino OperationalError
               |    +-- ExternalError                 TrinoExternalError: errorType EXTERNAL
               |    +-- ResourcesError                TrinoQueryError: INSUFFICIENT_RESOURCES
               |    +-- HttpStatusError               trino HttpError: 401, 403 ... on submit
               |    +-- NoCoordinatorError            TrinoConnectionError: no coordinator
               |    |                                 could take the query
               |    +-- QueryOutcomeUnknownError      TrinoConnectionError: a write was lost
               |    |                                 after it may have run
               |    +-- DiscoveryError                TrinoConnectionError: ZooKeeper
               |    |                                 unreachable or no usable coordinator
               |    +-- ResultDivergedError           (none) a resumed read gave other rows
               +-- IntegrityError                     trino IntegrityError
               |    +-- UserIntegrityError            TrinoUserError: CONSTRAINT_VIOLATION
               +-- InternalError                      trino InternalError
               |    +-- ServerInternalError           TrinoInternalError: INTERNAL_ERROR
               +-- ProgrammingError                   trino ProgrammingError
               |    +-- UserError                     TrinoUserError: errorType USER_ERROR
               |    +-- BadRequestError               trino HttpError: 400 on submit
               +-- NotSupportedError                  trino NotSupportedError
                    +-- UserNotSupportedError         TrinoUserError: NOT_SUPPORTED

:func:`query_error` picks the class of a failed query from Trino's ``errorType`` and
``errorName``; :func:`http_error` that of a refused submission from its status.

Errors raised after one or more attempts carry them in ``attempts``: one
:class:`Attempt` per coordinator tried, with what went wrong and how long it took.
The message lists them too, so a log line alone says what happened.

What goes into a message passes :func:`without_userinfo` (no ``user:password@``) and, when it
came from a coordinator or ZooKeeper, :func:`printable` (no control characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import trino.exceptions as trino_errors

__all__ = [
    "Attempt",
    "BadRequestError",
    "ConfigurationError",
    "DataError",
    "DatabaseError",
    "DiscoveryError",
    "Error",
    "ExternalError",
    "HttpStatusError",
    "InsecureCredentialsError",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NoCoordinatorError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "QueryError",
    "QueryOutcomeUnknownError",
    "ResourcesError",
    "ResultDivergedError",
    "UnmappableValueError",
    "ServerInternalError",
    "UserDataError",
    "UserError",
    "UserIntegrityError",
    "UserNotSupportedError",
    "Warning",
    "http_error",
    "query_error",
]


@dataclass(frozen=True)
class Attempt:
    """One try of a query on one coordinator.

    ``node`` is the coordinator's URI, ``error`` a one-line description of what went
    wrong (empty when the attempt succeeded), ``elapsed`` the seconds it took and
    ``query_id`` the id the coordinator gave the query, if it got that far.
    """

    node: str
    error: str
    elapsed: float
    query_id: str | None = None

    def describe(self) -> str:
        """One line for error messages: ``node: error (0.12 s, query id)``."""
        extra = f", query {self.query_id}" if self.query_id else ""
        what = self.error or "succeeded"
        return f"{self.node}: {what} ({self.elapsed:.2f} s{extra})"


class Warning(trino_errors.Warning):
    """Important warnings, such as data truncation (PEP 249)."""


class Error(trino_errors.Error):
    """Base class of every prestoha error (PEP 249), and a ``trino.exceptions.Error``.

    ``attempts`` holds the history of the query that failed, oldest first; it is empty
    when the error did not come from running a query.
    """

    #: What went wrong, without the attempts (Trino's own message for a :class:`QueryError`).
    message: str = ""

    #: Trino's name for the error (``SYNTAX_ERROR``, ``TABLE_NOT_FOUND`` ...) when the
    #: coordinator reported one.
    error_name: str | None = None
    #: Trino's numeric error code, with ``error_name``.
    error_code: int | None = None
    #: ``USER_ERROR``, ``INTERNAL_ERROR``, ``INSUFFICIENT_RESOURCES`` or ``EXTERNAL``.
    error_type: str | None = None
    #: The id the coordinator gave the query, when it got that far.
    query_id: str | None = None

    def __init__(self, message: str = "", *, attempts: Iterable[Attempt] = ()) -> None:
        self.attempts: tuple[Attempt, ...] = tuple(attempts)
        self.message = message
        # Not super(): trino's TrinoQueryError, next in a QueryError's class order, takes
        # its error object, not a message.
        Exception.__init__(self, _with_attempts(message, self.attempts))

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take keyword-only arguments that ``args`` does not hold: rebuild from
        # the attributes, so errors cross process boundaries (multiprocessing, celery).
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[Error], args: tuple[Any, ...], state: dict[str, Any]) -> Error:
    """An error of class ``cls`` with the given ``args`` and attributes (for pickle)."""
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


class InterfaceError(Error, trino_errors.InterfaceError):
    """An error in how the driver was used, not in the database (PEP 249)."""


class DatabaseError(Error, trino_errors.DatabaseError):
    """An error reported by or about the database (PEP 249)."""


class DataError(DatabaseError, trino_errors.DataError):
    """A value could not be processed: out of range, division by zero (PEP 249)."""


class OperationalError(DatabaseError, trino_errors.OperationalError):
    """The database's operation failed for reasons not under the caller's control (PEP 249)."""


class IntegrityError(DatabaseError, trino_errors.IntegrityError):
    """Relational integrity would be broken (PEP 249)."""


class InternalError(DatabaseError, trino_errors.InternalError):
    """The database hit an internal error (PEP 249)."""


class ProgrammingError(DatabaseError, trino_errors.ProgrammingError):
    """A mistake in the SQL or its use: syntax error, unknown table (PEP 249)."""


class NotSupportedError(DatabaseError, trino_errors.NotSupportedError):
    """A method or feature the database does not support (PEP 249)."""


class UnmappableValueError(DataError, trino_errors.TrinoDataError):
    """A value the coordinator sent has no Python counterpart (a date past year 9999, an
    interval too long for ``timedelta``). The query ran; reading it again anywhere gives the
    same value, so it is raised at once. ``legacy_primitive_types=True`` returns such values
    as strings.

    Also the ``trino`` client's :class:`trino.exceptions.TrinoDataError`, which it raises for
    the same values.
    """


class ConfigurationError(InterfaceError):
    """A bad option, URL parameter or environment setting.

    ``option`` names what was wrong and ``accepted`` says what would have been fine, so
    the message can tell the user exactly what to change.
    """

    def __init__(self, option: str, problem: str, accepted: str | None = None) -> None:
        self.option = option
        self.accepted = accepted
        message = f"{option}: {problem}"
        if accepted:
            message += f" (accepted: {accepted})"
        super().__init__(message)


class InsecureCredentialsError(ConfigurationError, trino_errors.TrinoAuthError):
    """Credentials would go to a coordinator over plain http (``TrinoAuthError`` too, which
    the official client raises for the same mistake)."""


class QueryError(Error, trino_errors.TrinoQueryError):
    """The coordinator failed the query: the base of the classes :func:`query_error` picks.

    Each of them is one PEP 249 class and the class the official client raises for the same
    ``errorType`` (the tree above). ``error`` is the coordinator's error object: every
    attribute of ``TrinoQueryError`` reads it the same way (``error_name``, ``error_code``,
    ``error_type``, ``error_exception``, ``error_location``, ``failure_info``, ``message``,
    ``query_id``). ``str()`` is ``NAME: message (line, column)`` and the attempts; trino's is
    its ``repr()``, which is kept.
    """

    def __init__(
        self,
        error: Mapping[str, Any],
        query_id: str | None = None,
        *,
        attempts: Iterable[Attempt] = (),
    ) -> None:
        self._error = dict(error)
        self._query_id = query_id
        name = self._error.get("errorName")
        message = self._error.get("message", "Trino did not return an error message")
        location = ""
        if self.error_location and self.error_location[0] > 0:
            line, column = self.error_location
            if f"line {line}:{column}" not in message:
                location = f" (line {line}, column {column})"
        super().__init__(f"{name or 'UNKNOWN'}: {message}{location}", attempts=attempts)
        # Error's attributes come first in the class order: they hold what trino's read.
        self.message = message
        self.error_name = name
        self.error_code = self._error.get("errorCode")
        self.error_type = self._error.get("errorType")
        self.query_id = query_id

    def __str__(self) -> str:
        return Exception.__str__(self)


class UserError(ProgrammingError, QueryError, trino_errors.TrinoUserError):
    """``USER_ERROR``: a syntax error, an unknown table or column, a denied access ..."""


class UserDataError(DataError, QueryError, trino_errors.TrinoUserError):
    """``USER_ERROR`` about a value: ``DIVISION_BY_ZERO``, ``INVALID_CAST_ARGUMENT`` ..."""


class UserNotSupportedError(NotSupportedError, QueryError, trino_errors.TrinoUserError):
    """``USER_ERROR`` ``NOT_SUPPORTED``: the statement uses what the connector cannot do."""


class UserIntegrityError(IntegrityError, QueryError, trino_errors.TrinoUserError):
    """``USER_ERROR`` ``CONSTRAINT_VIOLATION``."""


class ExternalError(OperationalError, QueryError, trino_errors.TrinoExternalError):
    """``EXTERNAL``: a source the query reads failed (a metastore, object storage ...)."""


class ServerInternalError(InternalError, QueryError, trino_errors.TrinoInternalError):
    """``INTERNAL_ERROR``: a fault in Trino. The official client raises a plain
    ``TrinoQueryError`` for it, which this is too."""


class ResourcesError(OperationalError, QueryError):
    """``INSUFFICIENT_RESOURCES`` (memory, time limits), or an ``errorType`` Trino may add:
    a ``TrinoQueryError``, as the official client raises for it."""


_DATA_ERRORS = (
    "DIVISION_BY_ZERO",
    "NUMERIC_VALUE_OUT_OF_RANGE",
    "INVALID_CAST_ARGUMENT",
    "INVALID_FUNCTION_ARGUMENT",
    "INVALID_LITERAL",
)
_USER_ERRORS: dict[str, type[QueryError]] = {
    **dict.fromkeys(_DATA_ERRORS, UserDataError),
    "NOT_SUPPORTED": UserNotSupportedError,
    "CONSTRAINT_VIOLATION": UserIntegrityError,
}
_BY_TYPE: dict[str, type[QueryError]] = {
    "EXTERNAL": ExternalError,
    "INTERNAL_ERROR": ServerInternalError,
}


def query_error(
    error: Mapping[str, Any], query_id: str | None = None, *, attempts: Iterable[Attempt] = ()
) -> QueryError:
    """The error for a query the coordinator failed; ``error`` is the ``error`` object of
    its answer, as ``TrinoQueryError`` takes it."""
    cls: type[QueryError]
    if error.get("errorType") == "USER_ERROR":
        cls = _USER_ERRORS.get(str(error.get("errorName")), UserError)
    else:
        cls = _BY_TYPE.get(str(error.get("errorType")), ResourcesError)
    return cls(error, query_id, attempts=attempts)


class HttpStatusError(OperationalError, trino_errors.HttpError):
    """The coordinator refused to take the query with an HTTP status (``status``): 401,
    403, 413 ... The official client raises ``HttpError`` for it, which this is too."""

    def __init__(self, message: str, *, status: int, attempts: Iterable[Attempt] = ()) -> None:
        self.status = status
        super().__init__(message, attempts=attempts)


class BadRequestError(ProgrammingError, trino_errors.HttpError):
    """The coordinator answered ``400 Bad Request`` to the query (an empty statement ...)."""

    def __init__(self, message: str, *, status: int = 400, attempts: Iterable[Attempt] = ()):
        self.status = status
        super().__init__(message, attempts=attempts)


def http_error(status: int, message: str) -> HttpStatusError | BadRequestError:
    """The error for a submission the coordinator refused with ``status``."""
    if status == 400:
        return BadRequestError(message, status=status)
    return HttpStatusError(message, status=status)


class NoCoordinatorError(OperationalError, trino_errors.TrinoConnectionError):
    """No coordinator could take the query.

    Raised once every coordinator was tried, or ``failover_timeout`` ran out. The
    message lists each attempt: which coordinator and why it failed.
    """

    def __init__(
        self,
        message: str = "no coordinator could take the query",
        *,
        attempts: Iterable[Attempt] = (),
    ) -> None:
        super().__init__(message, attempts=attempts)


class QueryOutcomeUnknownError(OperationalError, trino_errors.TrinoConnectionError):
    """A statement that writes was lost after the coordinator may have run it.

    prestoha never runs such a statement a second time: it cannot know whether the
    first run took effect. Check the target (for example by a unique key or the query
    id in the coordinator's history) before running it again.
    """

    def __init__(
        self,
        message: str,
        *,
        node: str,
        query_id: str | None,
        attempts: Iterable[Attempt] = (),
    ) -> None:
        self.node = node
        self.query_id = query_id
        super().__init__(message, attempts=attempts)


class ResultDivergedError(OperationalError):
    """A read resumed on another coordinator produced different rows.

    Rows already handed out cannot be taken back, so the read stops here. This happens
    when the query's order is not deterministic: add an ``ORDER BY`` on a unique key,
    or pass ``resume="restart-only"`` to never resume after rows were handed out.
    """

    def __init__(
        self, message: str, *, rows_compared: int, attempts: Iterable[Attempt] = ()
    ) -> None:
        self.rows_compared = rows_compared
        super().__init__(message, attempts=attempts)


class DiscoveryError(OperationalError, trino_errors.TrinoConnectionError):
    """ZooKeeper could not be reached, or it holds no usable coordinator."""


def _with_attempts(message: str, attempts: Sequence[Attempt]) -> str:
    if not attempts:
        return message
    lines = [message, f"attempts ({len(attempts)}):"]
    lines.extend(f"  {i}. {a.describe()}" for i, a in enumerate(attempts, 1))
    return "\n".join(lines)


# A URL's or host string's ``user[:password]@``, up to its last '@' (passwords hold '@' too).
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)?[^\s'\"]*@")


def without_userinfo(text: str) -> str:
    """``text`` with every ``user:password@`` of a URL or host list shown as ``***@``."""
    return _USERINFO.sub(lambda m: (m.group(1) or "") + "***@", text)


def printable(value: object, limit: int = 200) -> str:
    """``value`` as text safe for a terminal or a log line: control and format characters
    escaped (``\\n``, ``\\x1b``), cut to ``limit`` characters."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
