"""The wire of the emulated coordinator: Trino's client protocol over HTTP.

It owns the socket server, URL routing, the query state machine (register on POST, dispatch on the
first queued GET, pages by token, abandon and purge), session headers, fault switches, the write
journal, result pages and spooled segments. It runs SQL through any :class:`EngineLike`; the
built-in engine comes from :mod:`prestoha.testing.coordinator.sql`, imported only when needed.
"""

from __future__ import annotations

from .coordinator import Coordinator
from .faults import FailPost, Faults, RandomLatency
from .journal import Journal, read_journal
from .protocol import EngineLike
from .spooling import SpoolingConfig

__all__ = [
    "Coordinator",
    "EngineLike",
    "FailPost",
    "Faults",
    "Journal",
    "RandomLatency",
    "SpoolingConfig",
    "read_journal",
]
