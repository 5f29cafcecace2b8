"""The exceptions prestoha raises.

The tree follows PEP 249 and adds the failures that only a driver spanning several
coordinators can have::

    Exception
     +-- Warning
     +-- Error
          +-- InterfaceError
          |    +-- ConfigurationError        a bad option or URL
          +-- DatabaseError
               +-- DataError
               +-- OperationalError
               |    +-- NoCoordinatorError   no coordinator could take the query
               |    +-- QueryOutcomeUnknownError
               |    |                        a write was lost after it may have run
               |    +-- ResultDivergedError  a resumed read produced different rows
               |    +-- DiscoveryError       ZooKeeper unreachable or no usable coordinator
               +-- IntegrityError
               +-- InternalError
               +-- ProgrammingError
               +-- NotSupportedError

Errors raised after one or more attempts carry them in ``attempts``: one
:class:`Attempt` per coordinator tried, with what went wrong and how long it took.
The message lists them too, so a log line alone says what happened.

What goes into a message passes :func:`without_userinfo` (no ``user:password@``) and, when it
came from a coordinator or ZooKeeper, :func:`printable` (no control characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Attempt",
    "ConfigurationError",
    "DataError",
    "DatabaseError",
    "DiscoveryError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NoCoordinatorError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "QueryOutcomeUnknownError",
    "ResultDivergedError",
    "Warning",
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


class Warning(Exception):
    """Important warnings, such as data truncation (PEP 249)."""


class Error(Exception):
    """Base class of every prestoha error (PEP 249).

    ``attempts`` holds the history of the query that failed, oldest first; it is empty
    when the error did not come from running a query.
    """

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
        super().__init__(_with_attempts(message, self.attempts))

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


class InterfaceError(Error):
    """An error in how the driver was used, not in the database (PEP 249)."""


class DatabaseError(Error):
    """An error reported by or about the database (PEP 249)."""


class DataError(DatabaseError):
    """A value could not be processed: out of range, division by zero (PEP 249)."""


class OperationalError(DatabaseError):
    """The database's operation failed for reasons not under the caller's control (PEP 249)."""


class IntegrityError(DatabaseError):
    """Relational integrity would be broken (PEP 249)."""


class InternalError(DatabaseError):
    """The database hit an internal error (PEP 249)."""


class ProgrammingError(DatabaseError):
    """A mistake in the SQL or its use: syntax error, unknown table (PEP 249)."""


class NotSupportedError(DatabaseError):
    """A method or feature the database does not support (PEP 249)."""


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


class NoCoordinatorError(OperationalError):
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


class QueryOutcomeUnknownError(OperationalError):
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


class DiscoveryError(OperationalError):
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
