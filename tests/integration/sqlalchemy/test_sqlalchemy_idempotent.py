"""``prestoha_idempotent`` and ``unknown_functions`` through SQLAlchemy and pandas, for real."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration


def rerunnable_by_statement(engine: sa.Engine) -> dict[str, bool]:
    """What the driver decided for each statement: may it run again after a loss?"""
    seen: dict[str, bool] = {}

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen[statement] = cursor._execution.rerunnable

    sa.event.listen(engine, "after_cursor_execute", after)
    return seen


def test_the_execution_option_reaches_the_driver(
    make_engine: Callable[..., sa.Engine], url_for: Callable[..., str], lake_schema: str
) -> None:
    engine = make_engine(url_for("lake", lake_schema))
    seen = rerunnable_by_statement(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (a bigint)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        query = sa.text("SELECT a FROM t ORDER BY a").execution_options(prestoha_idempotent=False)
        assert conn.execute(query).scalars().all() == [1]
    with engine.connect() as conn:
        # SQLAlchemy 2 sets a connection's options in place: from here on, for this connection
        conn.execution_options(prestoha_idempotent=True)
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
    assert seen["INSERT INTO t VALUES (1)"] is False
    assert seen["INSERT INTO t VALUES (2)"] is True
    assert seen["SELECT a FROM t ORDER BY a"] is False

    # pandas takes an engine with execution options like any other
    sure = engine.execution_options(prestoha_idempotent=True)
    frame = pd.read_sql_query("SELECT a AS n FROM t ORDER BY a", sure)
    assert frame["n"].tolist() == [1, 2]
    assert seen["SELECT a AS n FROM t ORDER BY a"] is True
    frame.to_sql("copy", sure, index=False, method="multi")
    inserts = [sql for sql in seen if sql.startswith("INSERT INTO copy")]
    assert inserts and all(seen[sql] for sql in inserts)


def test_unknown_functions_from_the_url(
    make_engine: Callable[..., sa.Engine], url_for: Callable[..., str]
) -> None:
    engine = make_engine(url_for("tpch", "tiny", unknown_functions="write"))
    seen = rerunnable_by_statement(engine)
    with engine.connect() as conn:
        assert conn.dialect.driver == "prestoha"
        assert conn.connection.dbapi_connection.options.unknown_functions == "write"  # type: ignore[union-attr]
        assert conn.exec_driver_sql("SELECT abs(-1), lower('A')").all() == [(1, "a")]
    assert seen["SELECT abs(-1), lower('A')"] is True
