"""Saying what may run again: ``unknown_functions`` (connect, URL) and ``prestoha_idempotent``
(SQLAlchemy's execution options), down to whether an execution may run twice."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

import prestoha
from prestoha import errors
from prestoha.dbapi.options import parse_options
from prestoha.execution import Cause, Execution, run
from prestoha.sqlalchemy.dialect import PrestohaDialect, idempotent_option
from prestoha.sqlalchemy.url import connect_kwargs_from_url
from prestoha.statements import classify
from tests.unit.execution.fake import FakeCoordinator, Fault, context

PASS_THROUGH = "SELECT n FROM TABLE(system.query(query => 'DELETE FROM t RETURNING n'))"
NEXTVAL = "SELECT nextval('order_id_seq')"


# -- the execution: a pass-through lost mid-run --------------------------------------------


@pytest.mark.parametrize("idempotent", [None, False])
def test_a_pass_through_lost_after_it_began_is_not_run_again(idempotent: bool | None) -> None:
    a, b = FakeCoordinator("http://127.0.0.1:9"), FakeCoordinator("http://127.0.0.1:10")
    a.page_size = 2
    a.fail("fetch", 1, Fault(cause=Cause.RESET))
    ctx, _ = context([a, b])
    ex = Execution(ctx, PASS_THROUGH, classify(PASS_THROUGH), idempotent=idempotent)
    assert not ex.rerunnable
    with pytest.raises(errors.QueryOutcomeUnknownError):
        ex.start()
        ex.fetchall()
    ex.close()
    assert b.submitted == []


def test_idempotent_true_lets_a_pass_through_run_again() -> None:
    a, b = FakeCoordinator("http://127.0.0.1:9"), FakeCoordinator("http://127.0.0.1:10")
    a.page_size = 2
    a.fail("fetch", 1, Fault(cause=Cause.RESET))
    ctx, _ = context([a, b], mode="leader-preferred")
    ex = Execution(ctx, PASS_THROUGH, classify(PASS_THROUGH), idempotent=True)
    ex.start()
    assert ex.fetchall() == [[i] for i in range(10)]
    ex.close()
    assert len(ex.attempts) == 2


# -- unknown_functions: connect() and the URL -----------------------------------------------


@pytest.fixture
def static_connection() -> Iterator[Any]:
    made: list[prestoha.Connection] = []

    def connect(**options: Any) -> prestoha.Connection:
        conn = prestoha.connect(hosts=["127.0.0.1:9"], probe_interval=None, **options)
        made.append(conn)
        return conn

    yield connect
    for conn in made:
        conn.close()


def test_unknown_functions_defaults_to_read() -> None:
    assert parse_options({"hosts": "h:8080"}).unknown_functions == "read"
    assert parse_options({"hosts": "h:8080", "unknown_functions": "write"}).unknown_functions == (
        "write"
    )


@pytest.mark.parametrize("bad", ["WRITE", "never", True, 1])
def test_unknown_functions_refuses_anything_else(bad: object) -> None:
    with pytest.raises(errors.ConfigurationError) as info:
        parse_options({"hosts": "h:8080", "unknown_functions": bad})
    assert info.value.option == "unknown_functions"
    assert "'read', 'write'" in str(info.value)


@pytest.mark.parametrize(
    ("setting", "rerunnable"), [({}, True), ({"unknown_functions": "write"}, False)]
)
def test_the_connection_classifies_with_its_unknown_functions(
    static_connection: Any, setting: dict[str, str], rerunnable: bool
) -> None:
    conn = static_connection(**setting)
    execution = run(conn._execution(NEXTVAL, NEXTVAL, None))
    assert execution.rerunnable is rerunnable
    assert run(conn._execution("SELECT abs(-1)", "SELECT abs(-1)", None)).rerunnable
    assert run(conn._execution(NEXTVAL, NEXTVAL, True)).rerunnable  # the caller knows better


def test_unknown_functions_is_a_url_parameter() -> None:
    url = sa.make_url("prestoha://etl@/tpch/tiny?hosts=c1:8080&unknown_functions=write")
    assert connect_kwargs_from_url(url)["unknown_functions"] == "write"
    with pytest.raises(errors.ConfigurationError, match="unknown_functions"):
        sa.create_engine("prestoha://etl@/tpch?hosts=c1:8080&unknown_functions=maybe")


# -- prestoha_idempotent: SQLAlchemy's execution options reach cursor.execute ---------------


class RecordingCursor:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []
        self.rowcount = -1

    def execute(self, sql: str, params: Any = None, **kwargs: Any) -> None:
        self.calls.append(("execute", params, kwargs))

    def executemany(self, sql: str, seq: Any, **kwargs: Any) -> None:
        self.calls.append(("executemany", seq, kwargs))


@pytest.mark.parametrize("value", [True, False, None])
def test_the_execution_option_reaches_every_execute(value: bool | None) -> None:
    dialect = PrestohaDialect()
    cursor = RecordingCursor()
    options = {} if value is None else {"prestoha_idempotent": value}
    ctx = SimpleNamespace(execution_options=sa.util.immutabledict(options))
    dialect.do_execute(cursor, "DELETE FROM t WHERE a = ?", (1,), ctx)
    dialect.do_execute_no_params(cursor, "DELETE FROM t", ctx)
    dialect.do_executemany(cursor, "DELETE FROM t WHERE a = ?", [(1,), (2,)], ctx)
    assert [kwargs for _, _, kwargs in cursor.calls] == [{"idempotent": value}] * 3


def test_without_a_context_nothing_is_said() -> None:
    assert idempotent_option(None) is None


@pytest.mark.parametrize("bad", ["yes", 1, "true"])
def test_the_execution_option_takes_true_false_or_none(bad: object) -> None:
    ctx = SimpleNamespace(execution_options={"prestoha_idempotent": bad})
    with pytest.raises(sa.exc.ArgumentError, match="prestoha_idempotent"):
        idempotent_option(ctx)


def test_executemany_passes_idempotent_to_each_execute(
    static_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cur = static_connection().cursor()
    seen: list[bool | None] = []

    def execute_steps(operation: str, params: Any, *, idempotent: bool | None) -> Iterator[Any]:
        seen.append(idempotent)
        yield from ()

    monkeypatch.setattr(cur, "execute_steps", execute_steps)
    monkeypatch.setattr(cur, "_require", lambda: SimpleNamespace(fetchall_steps=lambda: iter(())))
    cur.executemany("DELETE FROM t WHERE a = ?", [(1,), (2,)], idempotent=True)
    assert seen == [True, True]
