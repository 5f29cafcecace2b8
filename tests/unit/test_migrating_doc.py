"""docs/migrating.md names every public name of ``trino.dbapi`` and every trino exception.

The names are found the way a new trino release's would be, so a name it adds fails here until
the page says what prestoha offers for it.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import trino.dbapi
import trino.exceptions

PAGE = Path(__file__).resolve().parents[2] / "docs" / "migrating.md"

#: PEP 249's constructors and type objects (some are datetime's, so found by name).
PEP249_NAMES = {
    "Date",
    "Time",
    "Timestamp",
    "DateFromTicks",
    "TimeFromTicks",
    "TimestampFromTicks",
    "Binary",
    "STRING",
    "BINARY",
    "NUMBER",
    "DATETIME",
    "ROWID",
}


def module_names() -> set[str]:
    """``trino.dbapi``'s ``__all__``, PEP 249's names, and what it defines or takes from trino."""
    names = set(trino.dbapi.__all__) | PEP249_NAMES
    for name, value in vars(trino.dbapi).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        defined = value if isinstance(value, (type, types.FunctionType)) else type(value)
        if defined.__module__.startswith("trino"):
            names.add(name)
    return names


def class_names() -> set[str]:
    conn = trino.dbapi.connect(host="localhost")  # type: ignore[no-untyped-call]
    return {f"Connection.{n}" for n in dir(conn) if not n.startswith("_")} | {
        f"Cursor.{n}" for n in dir(conn.cursor()) if not n.startswith("_")
    }


def table_cells(heading: str) -> str:
    """The first column of the table under ``heading``."""
    section = PAGE.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return "\n".join(line.split(" | ", 1)[0] for line in rows)


def test_every_module_name_is_in_the_table() -> None:
    cells = table_cells("Every name of `trino.dbapi`")
    missing = {n for n in module_names() if not re.search(rf"`{re.escape(n)}[`(]", cells)}
    assert missing == set()
    assert {"connect", "SegmentCursor", "must_use_legacy_prepared_statements"} <= module_names()


def test_every_connection_and_cursor_name_is_in_the_table() -> None:
    cells = table_cells("Every name of `trino.dbapi`")
    missing = {n for n in class_names() if not re.search(rf"`{re.escape(n)}[`(]", cells)}
    assert missing == set()


def test_every_keyword_of_connect_is_in_the_table() -> None:
    import inspect

    cells = table_cells("Every name of `trino.dbapi`")
    keywords = set(inspect.signature(trino.dbapi.Connection.__init__).parameters) - {"self"}
    assert {k for k in keywords if f"{k}=" not in cells} == set()


def test_every_trino_exception_is_in_the_exception_table() -> None:
    cells = table_cells("The exceptions")
    classes = {
        name
        for name, value in vars(trino.exceptions).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    }
    assert {name for name in classes if f"`{name}`" not in cells} == set()
