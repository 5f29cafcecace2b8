"""The SQL side of the emulated coordinator: Trino statements executed on DuckDB.

It owns statement dispatch (:class:`Engine`), per-statement context and name resolution, queries,
data changes, DDL, SHOW/DESCRIBE/EXPLAIN and session statements, the translation of Trino SQL to
DuckDB with type inference and function rewrites, Trino types and value encoding, errors, and the
catalogs. The wire (:mod:`prestoha.testing.coordinator.http`) uses only what is exported here.
"""

from __future__ import annotations

from .engine import Engine
from .errors import QueryError
from .session import Column, SessionChanges, SessionContext, StatementResult

__all__ = [
    "Column",
    "Engine",
    "QueryError",
    "SessionChanges",
    "SessionContext",
    "StatementResult",
]
