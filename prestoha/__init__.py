"""prestoha: a Trino (and Presto) driver that keeps working when a coordinator dies.

Connect with :func:`prestoha.connect` (PEP 249), a ``prestoha://`` SQLAlchemy URL, or
``pandas.read_sql``. See the README for the quickstart and ``docs/`` for the rest.
"""

from __future__ import annotations

from prestoha._version import __version__
from prestoha.dbapi import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Connection,
    Cursor,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
    connect,
)
from prestoha.errors import (
    Attempt,
    ConfigurationError,
    DatabaseError,
    DataError,
    DiscoveryError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NoCoordinatorError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    QueryOutcomeUnknownError,
    ResultDivergedError,
    UnmappableValueError,
    Warning,
)
from prestoha.retry import RetryPolicy
from prestoha.routing import HedgePolicy, RoutingPolicy

#: PEP 249: the DB-API level this module implements.
apilevel = "2.0"
#: PEP 249: threads may share the module and connections, but not cursors.
threadsafety = 2
#: PEP 249: question-mark parameters, ``WHERE a = ?``, as the trino client renders them.
paramstyle = "qmark"

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Attempt",
    "Binary",
    "Connection",
    "Cursor",
    "Date",
    "DateFromTicks",
    "HedgePolicy",
    "RetryPolicy",
    "RoutingPolicy",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "connect",
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
    "UnmappableValueError",
    "Warning",
    "__version__",
    "apilevel",
    "paramstyle",
    "threadsafety",
]

# The namespace holds the public names and the public subpackages only: the private
# modules imported on the way in are reachable by their full names, not from here.
for _name in [n for n in vars() if n.startswith("_") and not n.startswith("__")]:
    del vars()[_name]
del _name, annotations
