"""Fixtures that start the coordinator emulator in-process and as a child process."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from prestoha.testing.coordinator import Coordinator
from prestoha.testing.coordinator.process import EmulatorProcess

VARCHAR = {"rawType": "varchar", "arguments": [{"kind": "LONG", "value": 2147483647}]}
BIGINT = {"rawType": "bigint", "arguments": []}


@dataclass
class _Column:
    name: str
    type: str
    type_signature: dict[str, Any]


@dataclass
class _Changes:
    set_catalog: str | None = None
    set_schema: str | None = None
    set_path: str | None = None
    set_session: dict[str, str] = field(default_factory=dict)
    clear_session: set[str] = field(default_factory=set)
    set_roles: dict[str, str] = field(default_factory=dict)
    added_prepare: dict[str, str] = field(default_factory=dict)
    deallocated_prepare: set[str] = field(default_factory=set)
    started_transaction_id: str | None = None
    clear_transaction_id: bool = False


@dataclass
class _Result:
    columns: list[_Column]
    rows: Iterator[list[Any]]
    update_type: str | None = None
    update_count: int | None = None
    changes: _Changes = field(default_factory=_Changes)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    read_only: bool = True
    closed: bool = False

    def close(self) -> None:
        self.closed = True


class FakeQueryError(Exception):
    """Shaped like the engine's ``QueryError`` (the protocol reads its attributes)."""

    def __init__(self, message: str, error_name: str, error_code: int, error_type: str) -> None:
        super().__init__(message)
        self.message = message
        self.error_name = error_name
        self.error_code = error_code
        self.error_type = error_type
        self.line = 1
        self.column = 8


class FakeEngine:
    """A tiny engine for protocol tests that must not depend on SQL: it obeys commands.

    ``rows N`` streams N (bigint, varchar) rows; ``fail`` raises a user error; ``boom`` raises a
    bare exception; ``boom after N`` raises after N rows; ``insert`` is a write; ``use C.S`` and
    ``set session K=V`` return session changes; ``changes {json}`` returns any ``SessionChanges``;
    ``sleep S`` takes S seconds before its one row; ``session`` echoes the session it was given.
    """

    def __init__(self) -> None:
        self.sessions: list[Any] = []
        self.results: list[_Result] = []
        self.pulled = 0  # rows taken from ``rows N`` iterators so far

    def _counted(self, n: int) -> Iterator[list[Any]]:
        for i in range(n):
            self.pulled += 1
            yield [i, f"row-{i:08d}"]

    def is_read_only(self, sql: str, session: Any) -> bool:
        return not sql.startswith("insert")

    def close(self) -> None:
        return None

    def execute(self, sql: str, session: Any, *, query_id: str) -> _Result:
        self.sessions.append(session)
        words = sql.split()
        cols = [_Column("n", "bigint", BIGINT), _Column("s", "varchar", VARCHAR)]
        if words[0] == "rows":
            n = int(words[1])
            result = _Result(cols, self._counted(n))
        elif words[0] == "fail":
            raise FakeQueryError(
                "line 1:8: Table 'x' does not exist", "TABLE_NOT_FOUND", 46, "USER_ERROR"
            )
        elif words[:2] == ["boom", "after"]:
            result = _Result(cols, _explode_after(int(words[2])))
        elif words[0] == "boom":
            raise ZeroDivisionError("division by zero")
        elif words[0] == "insert":
            rows = [_Column("rows", "bigint", BIGINT)]
            result = _Result(
                rows, iter([[1]]), update_type="INSERT", update_count=1, read_only=False
            )
        elif words[0] == "use":
            catalog, schema = words[1].split(".")
            result = _Result(
                [], iter([]), "USE", changes=_Changes(set_catalog=catalog, set_schema=schema)
            )
        elif words[0] == "set":
            key, value = " ".join(words[2:]).split("=", 1)
            result = _Result(
                [], iter([]), "SET SESSION", changes=_Changes(set_session={key: value})
            )
        elif words[0] == "changes":
            fields = json.loads(sql.split(" ", 1)[1])
            for key in ("clear_session", "deallocated_prepare"):
                if key in fields:
                    fields[key] = set(fields[key])
            result = _Result([], iter([]), "SET SESSION", changes=_Changes(**fields))
        elif words[0] == "sleep":
            time.sleep(float(words[1]))
            result = _Result(cols, iter([[1, "late"]]))
        elif words[0] == "session":
            result = _Result([_Column("s", "varchar", VARCHAR)], iter([[repr(session)]]))
        else:
            raise FakeQueryError(f"unknown command {sql!r}", "SYNTAX_ERROR", 1, "USER_ERROR")
        self.results.append(result)
        return result


def _explode_after(n: int) -> Iterator[list[Any]]:
    for i in itertools.count():
        if i == n:
            raise RuntimeError("engine broke mid-stream")
        yield [i, "x"]


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def fake_coordinator(fake_engine: FakeEngine, tmp_path: Path) -> Iterator[Coordinator]:
    """An in-process emulator running the :class:`FakeEngine`, with a journal."""
    with Coordinator(
        node_id="fake", engine=fake_engine, journal=str(tmp_path / "journal.jsonl")
    ) as c:
        yield c


@pytest.fixture(scope="module")
def coordinator() -> Iterator[Coordinator]:
    """An in-process emulator with the real SQL engine, shared by a test module."""
    with Coordinator(node_id="c1") as c:
        yield c


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[Callable[..., EmulatorProcess]]:
    """Factory of emulator child processes; every one is gone after the test."""
    started: list[EmulatorProcess] = []

    def start(**kwargs: Any) -> EmulatorProcess:
        kwargs.setdefault("log_path", str(tmp_path / f"emulator-{len(started)}.log"))
        proc = EmulatorProcess(**kwargs)
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:
        proc.kill()
        assert not proc.alive
