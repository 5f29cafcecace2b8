"""Breaking a request in flight from another thread.

A small query's requests are made on the caller's own thread. When the cluster learns that
the node went down or lost the lead, the read waiting in that thread must end at once, not
when its read timeout runs out: the connection the request uses is shut down, which wakes
the blocked read with an error. requests does not say which pooled connection a request
took, so the connection pools of a prestoha HTTP session tell the request's
:class:`InFlightRequest` (through a thread-local) which one they handed out.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import requests
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["InFlightRequest", "track_connections"]

_current = threading.local()


class InFlightRequest:
    """The connection of the request this thread is making, so another can break it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: Any = None
        self._broken = False

    @contextlib.contextmanager
    def sending(self) -> Iterator[None]:
        """Make the request inside: the pool's connection is remembered meanwhile.

        Raises ``requests.ConnectionError`` at once after an :meth:`interrupt`."""
        with self._lock:
            if self._broken:
                raise requests.exceptions.ConnectionError("the request was interrupted")
        _current.request = self
        try:
            yield
        finally:
            _current.request = None
            with self._lock:
                self._conn = None

    def interrupt(self) -> None:
        """Shut down the connection of the request in flight, if there is one; the ones
        made afterwards through this object are broken as soon as they are sent."""
        with self._lock:
            self._broken = True
            conn = self._conn
        _shut(conn)

    def _took(self, conn: Any) -> None:
        # A connection opened for this request has no socket yet: an interrupt in the
        # moment before it connects is missed, and the read timeout ends the request.
        with self._lock:
            self._conn = conn
            broken = self._broken
        if broken:
            _shut(conn)


def _shut(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _took(conn: Any) -> Any:
    request = getattr(_current, "request", None)
    if request is not None:
        request._took(conn)
    return conn


class _HTTPPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _took(super()._get_conn(timeout))


class _HTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _took(super()._get_conn(timeout))


def track_connections(session: requests.Session) -> None:
    """Make ``session``'s connection pools tell an :class:`InFlightRequest` their
    connection (a connection opened for the request has its socket by the time the
    request waits for an answer)."""
    for prefix in ("http://", "https://"):
        adapter: Any = session.get_adapter(prefix)
        manager = getattr(adapter, "poolmanager", None)
        if manager is not None:
            manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
