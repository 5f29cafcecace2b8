"""The seam between an attempt and one coordinator.

An attempt talks to its coordinator through a :class:`Transport`: submit the statement,
fetch the next page, cancel, and read the rows of spooled segments. The real one speaks
HTTP (:class:`~prestoha.execution.HttpTransport`); a test may script one instead.

A transport reports a failure to reach or read the coordinator as a
:class:`TransportError` whose :class:`Cause` says what happened on the connection, and a
query the coordinator failed as the official client's ``TrinoQueryError``. The failure
taxonomy reads those types, never a message.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Answer", "Cause", "Transport", "TransportError"]


class Cause(enum.Enum):
    """What went wrong between the client and the coordinator."""

    #: The connection was refused: nothing listens there (the process is gone).
    REFUSED = "connection refused"
    #: The coordinator's name could not be resolved.
    UNRESOLVED = "name not resolved"
    #: No connection could be opened for another reason (no route, network down).
    UNREACHABLE = "no connection"
    #: The connection could not be opened within the connect timeout.
    CONNECT_TIMEOUT = "connect timed out"
    #: The peer reset or closed the connection before answering.
    RESET = "connection reset"
    #: The connection broke in another way after it was opened.
    LOST = "connection lost"
    #: The connection was cut in the middle of an answer.
    CUT = "connection cut"
    #: The request was sent and no answer came within the read timeout.
    NO_ANSWER = "no answer"
    #: An HTTP status other than 200 (``status`` and ``body`` say which).
    HTTP_STATUS = "http status"
    #: A 200 answer with no query status in it.
    NO_STATUS = "no status"
    #: A body that is not a Trino answer (something in between, or a sick node).
    MALFORMED = "malformed answer"
    #: The coordinator's TLS certificate did not verify: ``verify=`` or the certificate is
    #: wrong, not the node's health.
    TLS = "TLS certificate not verified"
    #: The request failed on this machine before anything was sent (a header that cannot
    #: be encoded, a CA bundle that cannot be read).
    NOT_SENT = "request not sent"
    #: The coordinator pointed the client at another host or scheme than its own
    #: (``nextUri``): refused before anything was sent, credentials included.
    FOREIGN_URI = "next URI elsewhere"

    @property
    def local(self) -> bool:
        """A configuration problem, the same on every node: raise it, blame no node."""
        return self in _LOCAL

    @property
    def never_sent(self) -> bool:
        """The request certainly never reached the coordinator: no connection was made."""
        return self in _NEVER_SENT

    @property
    def node_down(self) -> bool:
        """The coordinator's process is gone, going, or cannot be reached at all."""
        return self in _NODE_DOWN


_LOCAL = frozenset({Cause.TLS, Cause.NOT_SENT, Cause.FOREIGN_URI})
_NEVER_SENT = frozenset(
    {Cause.REFUSED, Cause.UNRESOLVED, Cause.UNREACHABLE, Cause.CONNECT_TIMEOUT, *_LOCAL}
)
_NODE_DOWN = frozenset(
    {
        Cause.REFUSED,
        Cause.UNRESOLVED,
        Cause.UNREACHABLE,
        Cause.RESET,
        Cause.LOST,
        Cause.CUT,
        Cause.NO_ANSWER,
    }
)


class TransportError(Exception):
    """A request to a coordinator failed; ``cause`` says how."""

    def __init__(self, cause: Cause, detail: str = "", *, status: int = 0, body: str = "") -> None:
        self.cause = cause
        self.detail = detail
        self.status = status
        self.body = body
        super().__init__(f"HTTP {status}" if cause is Cause.HTTP_STATUS else detail or cause.value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.cause, self.detail, self.status, self.body))


def _rebuild(cause: Cause, detail: str, status: int, body: str) -> TransportError:
    return TransportError(cause, detail, status=status, body=body)


@dataclass
class Answer:
    """One answer of a coordinator to a submit or a fetch."""

    #: The decoded JSON status (Trino's ``QueryResults``).
    status: dict[str, Any]
    #: Session-changing response headers, lower-cased names, repeated ones kept apart.
    headers: dict[str, list[str]] = field(default_factory=dict)
    #: Bytes of the body on the wire.
    size: int = 0


class Transport(Protocol):
    """How an attempt talks to one coordinator.

    Every method raises :class:`TransportError` when the coordinator cannot be reached
    or read, and ``trino.exceptions.TrinoQueryError`` when it reports the query failed.
    """

    def submit(self, sql: str, headers: Mapping[str, str]) -> Answer:
        """POST the statement; the coordinator's first answer."""
        ...

    def fetch(self, uri: str) -> Answer:
        """GET the next page at ``uri`` (a ``nextUri``)."""
        ...

    def cancel(self, uri: str) -> None:
        """DELETE ``uri``: cancel the query; errors are the caller's to ignore."""
        ...

    def segment_rows(self, data: Mapping[str, Any], mapper: Any) -> tuple[list[Any], int]:
        """The rows of a spooling-protocol ``data`` object (inline or downloaded
        segments) mapped by ``mapper``, and the bytes the segments took."""
        ...
