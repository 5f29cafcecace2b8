"""The same code through ``trino.dbapi`` and through ``prestoha``, against one emulated coordinator.

Each scenario is one function written for the official client. It runs twice, once with
``trino.dbapi.connect`` and once with ``prestoha.connect``, and the two results must be equal:
rows, descriptions, row counts, update types, warnings, the exceptions' classes and attributes.
The connections and cursors are wrapped in recorders, and each scenario declares the public
names of ``trino.dbapi.Connection`` and ``Cursor`` it uses (``COVERS``): the recorders check it
used them through both clients, and :func:`test_every_public_name_of_trinos_classes_is_covered`
that every name trino's classes have is covered, so a name a new trino release adds fails here
until a scenario exercises it.

Where the two clients differ on purpose (docs/migrating.md, "Where prestoha differs"), the
scenario asserts the difference, so a change on either side shows.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import trino.dbapi
import trino.exceptions

import prestoha
from prestoha.testing._local_processes import CoordinatorProcess

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "drop_in"

#: The attributes trino's TrinoQueryError reads from the coordinator's error.
QUERY_ERROR_ATTRIBUTES = (
    "error_name",
    "error_type",
    "error_code",
    "error_exception",
    "error_location",
    "failure_info",
    "message",
)

#: The public names of trino.dbapi's Connection and Cursor each scenario uses.
COVERS: dict[str, set[str]] = {
    "rows": {
        "Connection.cursor",
        "Connection.close",
        "Cursor.execute",
        "Cursor.fetchone",
        "Cursor.fetchmany",
        "Cursor.fetchall",
        "Cursor.description",
        "Cursor.rowcount",
        "Cursor.update_type",
        "Cursor.warnings",
        "Cursor.stats",
        "Cursor.query",
        "Cursor.query_id",
        "Cursor.info_uri",
        "Cursor.arraysize",
        "Cursor.connection",
        "Cursor.close",
    },
    "parameters": {"Cursor.execute", "Cursor.fetchall", "Cursor.query", "Cursor.description"},
    "legacy_parameters": {
        "Cursor.execute",
        "Cursor.executemany",
        "Cursor.fetchall",
        "Connection.legacy_prepared_statements",
    },
    "writes": {
        "Cursor.execute",
        "Cursor.executemany",
        "Cursor.fetchall",
        "Cursor.rowcount",
        "Cursor.update_type",
    },
    "describe_and_genall": {"Cursor.describe", "Cursor.genall", "Cursor.cancel"},
    "transaction": {
        "Connection.start_transaction",
        "Connection.transaction",
        "Connection.commit",
        "Connection.rollback",
        "Connection.isolation_level",
    },
    "stats_callback": {"Connection.cursor", "Cursor.stats"},
    "attributes": {
        f"Connection.{name}"
        for name in (
            "host",
            "port",
            "user",
            "source",
            "catalog",
            "schema",
            "session_properties",
            "http_headers",
            "http_scheme",
            "auth",
            "extra_credential",
            "client_tags",
            "max_attempts",
            "request_timeout",
            "legacy_primitive_types",
            "legacy_prepared_statements",
        )
    },
    "input_sizes": {"Cursor.setinputsizes", "Cursor.setoutputsize"},
    "errors": {"Cursor.execute"},
    "refused": {"Cursor.execute"},
}


def _public_names() -> set[str]:
    conn = trino.dbapi.connect(host="localhost")  # type: ignore[no-untyped-call]
    names = {f"Connection.{n}" for n in dir(conn) if not n.startswith("_")}
    return names | {f"Cursor.{n}" for n in dir(conn.cursor()) if not n.startswith("_")}


def test_every_public_name_of_trinos_classes_is_covered() -> None:
    covered = set().union(*COVERS.values())
    assert _public_names() - covered == set(), "trino has names no scenario exercises"
    assert covered - _public_names() == set(), "a covered name that trino does not have"


# -- running one scenario through both clients -------------------------------------------------


class _Recorder:
    """Passes everything through to ``target``, noting each public name used as ``Kind.name``."""

    def __init__(self, target: Any, kind: str, seen: set[str]) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_seen", seen)

    def __getattr__(self, name: str) -> Any:
        self._seen.add(f"{self._kind}.{name}")
        value = getattr(self._target, name)
        if name == "cursor":
            return lambda *a, **k: _Recorder(value(*a, **k), "Cursor", self._seen)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        self._seen.add(f"{self._kind}.{name}")
        setattr(self._target, name, value)


Connect = Callable[..., Any]
Scenario = Callable[[Connect, str], Any]


def _clients(coordinator: CoordinatorProcess) -> dict[str, Connect]:
    host, port = str(coordinator.uri).rsplit(":", 1)
    common = {"host": host, "port": int(port), "user": "compat"}
    return {
        "trino": lambda **kw: trino.dbapi.connect(**{**common, **kw}),  # type: ignore[no-untyped-call]
        "prestoha": lambda **kw: prestoha.connect(**{**common, **kw}),
    }


def run_both(coordinator: CoordinatorProcess, name: str, scenario: Scenario) -> tuple[Any, Any]:
    """``scenario``'s result through trino's client and through prestoha's, in that order."""
    results = []
    for client, connect in _clients(coordinator).items():
        seen: set[str] = set()
        opened: list[Any] = []

        def recorded(
            connect: Connect = connect, seen: set[str] = seen, opened: list[Any] = opened, **kw: Any
        ) -> Any:
            conn = connect(**kw)
            opened.append(conn)
            return _Recorder(conn, "Connection", seen)

        try:
            results.append(scenario(recorded, f"{name}_{client}_{uuid.uuid4().hex[:6]}"))
        finally:
            for conn in opened:
                conn.close()
        missing = COVERS[name] - seen
        assert not missing, f"{client}: the scenario did not use {sorted(missing)}"
    return results[0], results[1]


def outcome(action: Callable[..., Any], *args: Any) -> BaseException | None:
    """The exception ``action(*args)`` raises, or None."""
    try:
        action(*args)
    except Exception as exc:
        return exc
    return None


def caught(action: Callable[..., Any], *args: Any) -> BaseException:
    exc = outcome(action, *args)
    assert exc is not None, "no exception"
    return exc


# -- scenarios -----------------------------------------------------------------------------------


def _rows(connect: Connect, _: str) -> dict[str, Any]:
    conn = connect(catalog="tpch", schema="tiny")
    cur = conn.cursor()
    cur.arraysize = 3
    before = (cur.description, cur.rowcount, cur.update_type, cur.warnings, cur.stats, cur.query)
    cur.execute("SELECT nationkey, name, regionkey FROM nation ORDER BY nationkey")
    first = cur.fetchone()
    some = cur.fetchmany()
    two = cur.fetchmany(2)
    rest = cur.fetchall()
    out = {
        "before": before,
        "rows": [first, some, two, rest],
        "description": cur.description,
        "rowcount": cur.rowcount,
        "update_type": cur.update_type,
        "warnings": cur.warnings,
        "state": cur.stats["state"],
        "query": cur.query,
        "query_id_in_info_uri": cur.query_id in (cur.info_uri or ""),
        "connection": cur.connection is object.__getattribute__(conn, "_target"),
        "empty": cur.fetchone(),
    }
    cur.close()
    conn.close()
    return out


def test_rows_descriptions_and_counts(coordinator: CoordinatorProcess) -> None:
    theirs, ours = run_both(coordinator, "rows", _rows)
    assert ours == theirs
    assert theirs["rows"][0] == [0, "ALGERIA", 0] and len(theirs["rows"][1]) == 3
    assert all(isinstance(d, trino.dbapi.ColumnDescription) for d in ours["description"])


def _parameters(connect: Connect, _: str) -> list[Any]:
    cur = connect(catalog="tpch", schema="tiny").cursor()
    out: list[Any] = []
    for sql, params in [
        ("SELECT name FROM nation WHERE nationkey = ?", [3]),
        ("SELECT ?, ?", ("it's", 2.5)),
        ("SELECT count(*) FROM nation WHERE name IN (?, ?)", ["CHINA", "PERU"]),
        ("SELECT 1", []),
    ]:
        cur.execute(sql, params)
        out.append((cur.fetchall(), cur.query, cur.description))
    out.append(type(caught(cur.execute, "SELECT ?", "not a list")))
    return out


def test_parameters_are_bound_the_same_way(coordinator: CoordinatorProcess) -> None:
    theirs, ours = run_both(coordinator, "parameters", _parameters)
    assert ours[:-1] == theirs[:-1]
    assert theirs[0][1].startswith("EXECUTE IMMEDIATE 'SELECT name FROM nation WHERE nationkey")
    assert theirs[-1] is AssertionError and issubclass(ours[-1], AssertionError)


def _legacy_parameters(connect: Connect, table: str) -> list[Any]:
    conn = connect(catalog="memory", schema="default", legacy_prepared_statements=True)
    cur = conn.cursor()
    out: list[Any] = [conn.legacy_prepared_statements]
    for sql, params in [
        ("SELECT ?, ?, ?", [3, "it's", None]),
        ("SELECT ARRAY[?, ?]", [date(1500, 1, 1), date(2024, 2, 29)]),
    ]:
        cur.execute(sql, params)
        out.append(cur.fetchall())
    cur.execute(f"CREATE TABLE {table} (a bigint, b varchar)")
    cur.fetchall()
    cur.executemany(f"INSERT INTO {table} VALUES (?, ?)", [[1, "x"], [2, None]])
    cur.fetchall()
    cur.execute(f"SELECT a, b FROM {table} ORDER BY a")
    out.append(cur.fetchall())
    cur.execute(f"DROP TABLE {table}")
    cur.fetchall()
    return out


def test_legacy_prepared_statements_bind_with_prepare(coordinator: CoordinatorProcess) -> None:
    # trino/dbapi.py: True makes the client PREPARE the statement and EXECUTE ... USING it,
    # carrying it in X-Trino-Prepared-Statement; the results are those of EXECUTE IMMEDIATE.
    theirs, ours = run_both(coordinator, "legacy_parameters", _legacy_parameters)
    assert ours == theirs
    assert theirs[0] is True and theirs[-1] == [[1, "x"], [2, None]]


def _writes(connect: Connect, table: str) -> dict[str, Any]:
    cur = connect(catalog="memory", schema="default").cursor()
    out: dict[str, Any] = {}
    cur.execute(f"CREATE TABLE {table} (a bigint, b varchar)")
    out["create"] = (cur.fetchall(), cur.rowcount, cur.update_type)
    cur.execute(f"INSERT INTO {table} VALUES (1, 'x'), (2, 'y')")
    out["insert"] = (cur.fetchall(), cur.rowcount, cur.update_type)
    cur.executemany(f"INSERT INTO {table} VALUES (?, ?)", [[3, "z"], [4, "w"]])
    cur.fetchall()
    out["executemany"] = (cur.rowcount, cur.update_type)
    cur.execute(f"SELECT a, b FROM {table} ORDER BY a")
    out["rows"] = cur.fetchall()
    cur.execute(f"DROP TABLE {table}")
    out["drop"] = (cur.fetchall(), cur.update_type)
    return out


def test_writes_count_their_rows(coordinator: CoordinatorProcess) -> None:
    theirs, ours = run_both(coordinator, "writes", _writes)
    # executemany: trino's rowcount is the last statement's, prestoha's the total (PEP 249).
    assert theirs.pop("executemany") == (1, "INSERT")
    assert ours.pop("executemany") == (2, "INSERT")
    assert ours == theirs
    assert theirs["insert"][1:] == (2, "INSERT")


def _describe_and_genall(connect: Connect, _: str) -> list[Any]:
    cur = connect(catalog="tpch", schema="tiny").cursor()
    described = cur.describe("SELECT nationkey, name AS n FROM nation")
    cur.execute("SELECT regionkey, name FROM region ORDER BY regionkey")
    cur.fetchone()
    rest = list(cur.genall())
    cur.execute("SELECT nationkey FROM nation")
    cur.cancel()
    return [described, rest]


def test_describe_and_genall(coordinator: CoordinatorProcess) -> None:
    theirs, ours = run_both(coordinator, "describe_and_genall", _describe_and_genall)
    assert ours == theirs
    assert [d.aliased for d in theirs[0]] == [False, True]


def _transaction(connect: Connect, table: str) -> list[Any]:
    setup = connect(catalog="memory", schema="default").cursor()
    setup.execute(f"CREATE TABLE {table} (a bigint)")
    setup.fetchall()
    conn = connect(catalog="memory", schema="default")
    out: list[Any] = [conn.isolation_level, conn.transaction]
    transaction = conn.start_transaction()
    out.append(isinstance(transaction.id, str) and conn.transaction is not None)
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {table} VALUES 1")
    cur.fetchall()
    conn.commit()
    conn.start_transaction()
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {table} VALUES 2")
    cur.fetchall()
    conn.rollback()
    out.append(conn.transaction)
    setup.execute(f"SELECT a FROM {table}")
    out.append(setup.fetchall())
    setup.execute(f"DROP TABLE {table}")
    setup.fetchall()
    return out


def test_transactions_commit_and_roll_back(coordinator: CoordinatorProcess) -> None:
    theirs, ours = run_both(coordinator, "transaction", _transaction)
    assert ours == theirs
    assert theirs[-1] == [[1]]


def _stats_callback(connect: Connect, _: str) -> list[Any]:
    seen: list[dict[str, Any]] = []
    cur = connect(catalog="tpch", schema="tiny").cursor(stats_callback=seen.append)
    cur.execute("SELECT name FROM nation")
    cur.fetchall()
    return [bool(seen), seen[-1]["state"], cur.stats["state"]]


def test_stats_callback_sees_the_end(coordinator: CoordinatorProcess) -> None:
    theirs, ours = run_both(coordinator, "stats_callback", _stats_callback)
    assert ours == theirs == [True, "FINISHED", "FINISHED"]


def _attributes(connect: Connect, _: str) -> dict[str, Any]:
    conn = connect(
        catalog="tpch",
        schema="tiny",
        source="compat",
        session_properties={"query_max_run_time": "10m"},
        http_headers={"X-Team": "data"},
        client_tags=["a"],
        max_attempts=2,
        request_timeout=15.0,
        legacy_prepared_statements=False,
    )
    names = sorted(n.split(".", 1)[1] for n in COVERS["attributes"])
    out = {name: getattr(conn, name) for name in names}
    cur = conn.cursor()
    cur.execute("SELECT current_user, current_catalog, current_schema")
    out["session"] = cur.fetchall()
    return out


def test_connection_attributes(coordinator: CoordinatorProcess) -> None:
    theirs, ours = run_both(coordinator, "attributes", _attributes)
    assert ours == theirs
    assert theirs["session"] == [["compat", "tpch", "tiny"]]


def _input_sizes(connect: Connect, _: str) -> list[Any]:
    cur = connect().cursor()
    return [outcome(cur.setinputsizes, [1]), outcome(cur.setoutputsize, 1, 0)]


def test_input_and_output_sizes_are_a_documented_difference(
    coordinator: CoordinatorProcess,
) -> None:
    theirs, ours = run_both(coordinator, "input_sizes", _input_sizes)
    # trino raises NotSupportedError; PEP 249 lets them do nothing, which prestoha does.
    assert all(isinstance(e, trino.exceptions.NotSupportedError) for e in theirs)
    assert ours == [None, None]


# -- errors --------------------------------------------------------------------------------------

FAILING = [
    "SELEC 1",
    "SELECT * FROM no_such_table",
    "SELECT no_such_column FROM nation",
    "SELECT CAST('x' AS integer)",
    "SELECT * FROM no_such_catalog.s.t",
]


def _errors(connect: Connect, _: str) -> list[BaseException]:
    cur = connect(catalog="tpch", schema="tiny").cursor()
    return [caught(_run, cur, sql) for sql in FAILING]


def _run(cur: Any, sql: str) -> list[Any]:
    cur.execute(sql)
    rows: list[Any] = cur.fetchall()
    return rows


def test_query_errors_are_trinos_classes_with_trinos_attributes(
    coordinator: CoordinatorProcess,
) -> None:
    theirs, ours = run_both(coordinator, "errors", _errors)
    for sql, their, our in zip(FAILING, theirs, ours, strict=True):
        assert isinstance(their, trino.exceptions.TrinoQueryError), sql
        assert isinstance(our, type(their)), (sql, type(our), type(their))
        assert isinstance(our, prestoha.DatabaseError), sql
        for attribute in QUERY_ERROR_ATTRIBUTES:
            assert getattr(our, attribute) == getattr(their, attribute), (sql, attribute)
        assert their.query_id and our.query_id and our.query_id != their.query_id
    syntax = ours[0]
    assert isinstance(syntax, prestoha.ProgrammingError)
    assert isinstance(syntax, trino.exceptions.TrinoUserError)
    assert isinstance(ours[3], prestoha.DataError)  # INVALID_CAST_ARGUMENT


def test_a_refused_submission_is_an_http_error_in_both(coordinator: CoordinatorProcess) -> None:

    def refused(connect: Connect, _: str) -> BaseException:
        coordinator.admin.set_faults(fail_post={"status": 401, "count": 1})
        try:
            cur = connect().cursor()
            return caught(_run, cur, "SELECT 1")
        finally:
            coordinator.admin.reset()

    theirs, ours = run_both(coordinator, "refused", refused)
    assert type(theirs) is trino.exceptions.HttpError
    assert isinstance(ours, trino.exceptions.HttpError)
    assert isinstance(ours, prestoha.errors.HttpStatusError) and ours.status == 401


def test_an_unreachable_coordinator_is_a_connection_error_in_both() -> None:
    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    errors = []
    clients: list[Connect] = [trino.dbapi.connect, prestoha.connect]
    for connect in clients:
        conn = connect(host="127.0.0.1", port=port, max_attempts=1)
        try:
            cur = conn.cursor()
            errors.append(caught(_run, cur, "SELECT 1"))
        finally:
            conn.close()
    theirs, ours = errors
    assert type(theirs) is trino.exceptions.TrinoConnectionError
    assert isinstance(ours, trino.exceptions.TrinoConnectionError)
    assert isinstance(ours, prestoha.NoCoordinatorError)


# -- the examples ---------------------------------------------------------------------------------


@pytest.fixture
def report_env(coordinator: CoordinatorProcess) -> Iterator[dict[str, str]]:
    host, port = str(coordinator.uri).rsplit(":", 1)
    yield {**os.environ, "TRINO_HOST": host.removeprefix("http://"), "TRINO_PORT": port}


def test_the_report_prints_the_same_through_both_clients(report_env: dict[str, str]) -> None:
    outputs = []
    for name in ("report_trino.py", "report_prestoha.py"):
        run = subprocess.run(
            [sys.executable, str(EXAMPLES / name)],
            env=report_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    assert "ASIA: 5" in outputs[0]
    assert "refused: USER_ERROR COLUMN_NOT_FOUND: " in outputs[0]
