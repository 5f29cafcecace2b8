"""An emulated Trino coordinator for tests: the real client protocol over HTTP, SQL on DuckDB.

Run it as a process (``python -m prestoha.testing.coordinator --port 0``) or in-process with
:class:`Coordinator`. Faults are switched through ``Coordinator.faults`` or the admin API
(:class:`EmulatorAdmin`). See docs/testing.md.

The wire is :mod:`.http` (server, routes, the query state machine, faults, journal, spooling), the
SQL engine is :mod:`.sql` (statements on DuckDB, types, catalogs); http imports sql, never the other
way. :mod:`.process` runs an emulator as a child process and :mod:`.admin` talks to a running one.
"""

from __future__ import annotations

from .admin import EmulatorAdmin
from .http import (
    Coordinator,
    FailPost,
    Faults,
    Journal,
    RandomLatency,
    SpoolingConfig,
    read_journal,
)

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
