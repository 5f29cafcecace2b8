"""An emulated Trino coordinator for tests: the real client protocol over HTTP, SQL on DuckDB.

Run it as a process (``python -m prestoha.testing.coordinator --port 0``) or in-process with
:class:`Coordinator`. Faults are switched through ``Coordinator.faults`` or the admin API
(:class:`EmulatorAdmin`). See docs/testing.md.
"""

from __future__ import annotations

from .admin import EmulatorAdmin
from .faults import FailPost, Faults, RandomLatency
from .journal import Journal, read_journal
from .server import Coordinator
from .spooling import SpoolingConfig

__all__ = [
    "Coordinator",
    "EmulatorAdmin",
    "FailPost",
    "Faults",
    "Journal",
    "RandomLatency",
    "SpoolingConfig",
    "read_journal",
]
