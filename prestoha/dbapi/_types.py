"""PEP 249 type objects and constructors, for Trino's type names."""

from __future__ import annotations

import datetime

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Date",
    "DateFromTicks",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
]


class _TypeObject:
    """A PEP 249 type object: equal to every Trino type name of its family."""

    def __init__(self, *names: str) -> None:
        self.names = frozenset(names)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            base = other.split("(", 1)[0].strip().lower()
            return base in self.names
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.names)

    def __repr__(self) -> str:
        return f"<type object {sorted(self.names)}>"


STRING = _TypeObject("varchar", "char", "json", "ipaddress", "uuid")
BINARY = _TypeObject("varbinary", "array", "map", "row", "hyperloglog", "p4hyperloglog", "qdigest")
NUMBER = _TypeObject(
    "boolean", "tinyint", "smallint", "integer", "bigint", "real", "double", "decimal", "number"
)
DATETIME = _TypeObject(
    "date",
    "time",
    "time with time zone",
    "timestamp",
    "timestamp with time zone",
    "interval year to month",
    "interval day to second",
)
ROWID = _TypeObject()

Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime


def DateFromTicks(ticks: float) -> datetime.date:
    """PEP 249: the date of a POSIX timestamp."""
    return datetime.date.fromtimestamp(ticks)


def TimeFromTicks(ticks: float) -> datetime.time:
    """PEP 249: the local time of day of a POSIX timestamp."""
    return datetime.datetime.fromtimestamp(ticks).time()


def TimestampFromTicks(ticks: float) -> datetime.datetime:
    """PEP 249: the local date and time of a POSIX timestamp."""
    return datetime.datetime.fromtimestamp(ticks)


def Binary(value: bytes | bytearray | memoryview | str) -> bytes:
    """PEP 249: a value for a ``varbinary`` parameter."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)
