"""PEP 249: ``connect()``, ``Connection``, ``Cursor`` and the type objects.

Thin by design: a connection parses its options (``prestoha.dbapi.options``), holds the
logical session and a share of the process's cluster view; a cursor hands each statement
to an ``Execution`` (``prestoha.execution``) and reads its rows.
"""

from __future__ import annotations

from prestoha.dbapi._columnar import DEFAULT_ROWS_PER_BATCH, need
from prestoha.dbapi._connection import Connection, connect
from prestoha.dbapi._cursor import Cursor, execution_of, render_parameters
from prestoha.dbapi._types import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
)

__all__ = [
    "BINARY",
    "DEFAULT_ROWS_PER_BATCH",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "Date",
    "DateFromTicks",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "connect",
    "execution_of",
    "need",
    "render_parameters",
]
