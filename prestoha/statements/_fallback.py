"""The second opinion: sqlglot (dialect ``trino``) on query-like texts the grammar cannot settle.

sqlglot warns on its ``sqlglot`` logger about syntax it does not support, quoting the SQL.
Those warnings are dropped while prestoha parses, and only those: the filter that drops them
is on sqlglot's logger only while some thread is inside :func:`sqlglot_opinion`, and it drops
records of those threads alone, so other users of sqlglot in the process hear everything.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from prestoha.statements._kinds import Classification, StatementKind, short, unparsable

__all__ = ["quiet_sqlglot", "sqlglot_opinion"]

logger = logging.getLogger("prestoha.statements")


class _ScopedQuiet(logging.Filter):
    """Drops the records of the threads inside :meth:`scope`; on the logger only meanwhile."""

    def __init__(self, logger_name: str) -> None:
        super().__init__()
        self._logger_name = logger_name
        self._lock = threading.Lock()
        # replaced, never mutated: filter() reads it without the lock
        self._threads: frozenset[int] = frozenset()
        self._depth: dict[int, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread not in self._threads

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        me = threading.get_ident()
        target = logging.getLogger(self._logger_name)
        with self._lock:
            if not self._depth:
                target.addFilter(self)
            self._depth[me] = self._depth.get(me, 0) + 1
            self._threads = frozenset(self._depth)
        try:
            yield
        finally:
            with self._lock:
                self._depth[me] -= 1
                if not self._depth[me]:
                    del self._depth[me]
                self._threads = frozenset(self._depth)
                if not self._depth:
                    target.removeFilter(self)


_QUIET = _ScopedQuiet("sqlglot")


def quiet_sqlglot() -> contextlib.AbstractContextManager[None]:
    """A context in which sqlglot's log records from this thread are dropped."""
    return _QUIET.scope()


def sqlglot_opinion(sql: str) -> Classification:
    """Second opinion for query-like texts the token scan cannot settle."""
    try:
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import ParseError

        with quiet_sqlglot():
            trees = [t for t in sqlglot.parse(sql, read="trino") if t is not None]
    except ParseError as exc:
        described = exc.errors[0].get("description", "") if exc.errors else ""
        return unparsable(short(str(described), 80))
    except Exception as exc:  # sqlglot may fail in many ways on odd input
        logger.debug("sqlglot failed: %s", type(exc).__name__)
        return unparsable(type(exc).__name__)
    changes = (
        *(exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter),
        *(exp.Command, exp.Into, exp.TruncateTable, exp.Copy, exp.Grant, exp.Revoke),
    )
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        found = type(trees[0]).__name__ if trees else "nothing"
        return Classification(StatementKind.WRITE, f"sqlglot reads it as {found}")
    if trees[0].find(*changes) is not None:
        return Classification(StatementKind.WRITE, "sqlglot finds a change inside the query")
    return Classification(StatementKind.READ, "query (sqlglot)")
