"""What the driver tells observers: a tiny synchronous event bus for metrics and logs.

Listeners are called in the thread that emits, so they must be quick and must not raise
(an exception in a listener is logged and swallowed: observing never breaks a query).

Events and their fields (all keyword arguments):

- ``query``: ``outcome`` ("ok", "failed", "outcome_unknown", "diverged", "no_coordinator"),
  ``seconds`` (from execute to the end of the rows or the error), ``attempts``, ``read_only``.
- ``attempt``: ``node`` (URI), ``outcome`` ("ok" or the failure kind: "not run", "lost",
  "not now", "query failed"), ``seconds``, ``reason``.
- ``submit_latency``: ``node``, ``seconds`` (the POST round trip, what routing sees).
- ``failover``: ``node`` (the one left), ``reason``, ``rows_handed``.
- ``resubmission``: ``node`` (the new one), ``replay_rows`` (rows checked by verified replay).
- ``replay``: ``rows`` (rows verified), ``ok`` (False when the rows diverged).
- ``node_down``: ``node``, ``reason``.
- ``hedge``: ``node``, ``won`` (whether the hedge answered first).
- ``discovery``: ``state`` ("connected", "suspended", "lost"), ``stale``.
- ``leader``: ``node`` (the new leader's URI, None while none is elected), ``epoch``: the
  cluster saw another leader record.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Listener", "emit", "reset", "subscribe"]

log = logging.getLogger("prestoha.events")

Listener = Callable[..., None]

_listeners: list[tuple[Listener, frozenset[str] | None]] = []
_lock = threading.Lock()


def subscribe(listener: Listener, events: frozenset[str] | None = None) -> Callable[[], None]:
    """Call ``listener(event, **fields)`` for each event (or only those named in ``events``).

    Returns a function that unsubscribes it.
    """
    entry = (listener, events)
    with _lock:
        _listeners.append(entry)

    def unsubscribe() -> None:
        with _lock:
            if entry in _listeners:
                _listeners.remove(entry)

    return unsubscribe


def emit(event: str, **fields: Any) -> None:
    """Tell every listener about ``event``."""
    if not _listeners:
        return
    with _lock:
        targets = list(_listeners)
    for listener, only in targets:
        if only is not None and event not in only:
            continue
        try:
            listener(event, **fields)
        except Exception:
            log.exception("an event listener failed on %s; ignored", event)


def reset() -> None:
    """Unsubscribe every listener (for test fixtures: each test starts with none)."""
    with _lock:
        _listeners.clear()
