"""PEP 249 behaviour of prestoha's Connection and Cursor against one emulated coordinator."""

from __future__ import annotations

import datetime
import decimal
import socket
import uuid

import pytest

import prestoha
from prestoha.testing._local_processes import CoordinatorProcess
from prestoha.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration


def test_description_rowcount_and_fetch_methods(conn: prestoha.Connection) -> None:
    cur = conn.cursor()
    assert cur.arraysize == 10_000
    assert cur.description is None
    cur.execute("SELECT nationkey, name, regionkey FROM nation ORDER BY nationkey")
    desc = cur.description
    assert desc is not None
    assert [d[0] for d in desc] == ["nationkey", "name", "regionkey"]
    assert desc[0][1] == "bigint" and desc[0][1] == prestoha.NUMBER
    assert desc[1][1] == "varchar(25)" and desc[1][1] == prestoha.STRING
    assert desc[1][3] == 25
    assert cur.rowcount == -1
    assert cur.fetchone() == [0, "ALGERIA", 0]
    assert len(cur.fetchmany(4)) == 4
    cur.arraysize = 3
    assert len(cur.fetchmany()) == 3
    rest = cur.fetchall()
    assert len(rest) == 25 - 8
    assert cur.fetchone() is None
    assert cur.fetchall() == []


def test_iteration_and_parameters(conn: prestoha.Connection) -> None:
    cur = conn.cursor()
    cur.execute(
        "SELECT name FROM nation WHERE regionkey = ? AND name <> ? ORDER BY name", [1, "x'y"]
    )
    assert [r[0] for r in cur] == ["ARGENTINA", "BRAZIL", "CANADA", "PERU", "UNITED STATES"]
    cur.execute(
        "SELECT ?, ?, ?, ?, ?",
        (decimal.Decimal("1.50"), datetime.date(2024, 2, 29), None, True, b"\x00\x01"),
    )
    assert cur.fetchall() == [
        [decimal.Decimal("1.50"), datetime.date(2024, 2, 29), None, True, b"\x00\x01"]
    ]


def test_writes_rowcount_and_executemany(conn: prestoha.Connection) -> None:
    cur = conn.cursor()
    table = f"memory.default.t_{uuid.uuid4().hex[:8]}"
    cur.execute(f"CREATE TABLE {table} (a bigint, b varchar)")
    cur.execute(f"INSERT INTO {table} VALUES (1, 'one'), (2, 'two')")
    assert cur.rowcount == 2
    assert cur.fetchall() == [[2]]
    cur.executemany(f"INSERT INTO {table} VALUES (?, ?)", [(3, "three"), (4, "four"), (5, "five")])
    assert cur.rowcount == 3
    cur.execute(f"SELECT count(*), max(b) FROM {table}")
    assert cur.fetchall() == [[5, "two"]]


def test_user_error_is_raised_at_once_as_programming_error(conn: prestoha.Connection) -> None:
    cur = conn.cursor()
    with pytest.raises(prestoha.ProgrammingError) as info:
        cur.execute("SELECT nope FROM nation")
    assert info.value.error_name == "COLUMN_NOT_FOUND"
    assert info.value.query_id
    assert len(cur.attempts) == 1
    assert isinstance(info.value, conn.ProgrammingError)


def test_closed_cursor_and_connection_refuse_work(coordinator: CoordinatorProcess) -> None:
    with prestoha.connect(hosts=[coordinator.uri], user="ana") as c:
        with c.cursor() as cur:
            cur.execute("SELECT 1")
        with pytest.raises(prestoha.InterfaceError):
            cur.execute("SELECT 1")
    with pytest.raises(prestoha.InterfaceError):
        c.cursor()
    c.close()  # twice is fine


def test_fetch_before_execute_is_a_programming_error(conn: prestoha.Connection) -> None:
    with pytest.raises(prestoha.ProgrammingError):
        conn.cursor().fetchone()


def test_closing_a_cursor_cancels_its_query(coordinator: CoordinatorProcess) -> None:
    c = prestoha.connect(hosts=[coordinator.uri], user="ana", prefetch=1)
    cur = c.cursor()
    cur.execute("SELECT orderkey FROM tpch.sf1.orders")
    assert len(cur.fetchmany(10)) == 10
    query_id = cur.query_id
    cur.close()
    import time

    deadline = time.monotonic() + 10
    while True:
        states = {q["query_id"]: q for q in coordinator.admin.queries()}
        q = states[query_id]
        if q["state"] == "FAILED" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert q["state"] == "FAILED" and q["error_name"] == "USER_CANCELED"
    c.close()


def _dead_uri() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def test_no_coordinator_lists_every_attempt() -> None:
    dead = [_dead_uri(), _dead_uri()]
    c = prestoha.connect(hosts=dead, user="ana", failover_timeout=1.0)
    try:
        with pytest.raises(prestoha.NoCoordinatorError) as info:
            c.cursor().execute("SELECT 1")
        text = str(info.value)
        for uri in dead:
            assert f"{uri}: connection refused" in text
        assert len(info.value.attempts) >= 2
    finally:
        c.close()


def test_transaction_is_pinned_and_commits(local_cluster: LocalCluster) -> None:
    kwargs = {**local_cluster.connect_kwargs(), "catalog": "memory", "schema": "default"}
    table = f"tx_{uuid.uuid4().hex[:8]}"
    with prestoha.connect(**kwargs, isolation_level="READ_COMMITTED") as c:
        cur = c.cursor()
        cur.execute(f"CREATE TABLE {table} (a bigint)")
        node = cur.coordinator
        cur.execute(f"INSERT INTO {table} VALUES 1")
        assert c.session.transaction_id is not None
        assert cur.coordinator == node
        c.commit()
        assert c.session.transaction_id is None
        cur.execute(f"SELECT count(*) FROM {table}")
        assert cur.fetchall() == [[1]]
        assert cur.coordinator == node


def test_losing_the_transactions_coordinator_raises_and_never_moves(
    local_cluster: LocalCluster,
) -> None:
    kwargs = {**local_cluster.connect_kwargs(), "catalog": "memory", "schema": "default"}
    c = prestoha.connect(**kwargs, isolation_level="READ_COMMITTED")
    try:
        cur = c.cursor()
        cur.execute("SELECT 1")
        node = cur.coordinator
        assert node is not None and c.session.transaction_id is not None
        local_cluster.kill(local_cluster.coordinators.index(node))
        with pytest.raises(prestoha.OperationalError) as info:
            cur.execute("SELECT 2")
        assert "transaction" in str(info.value)
        assert all(a.node == node for a in cur.attempts)
    finally:
        c.close()


def test_bad_options_fail_before_any_network(coordinator: CoordinatorProcess) -> None:
    with pytest.raises(prestoha.ConfigurationError) as info:
        prestoha.connect(hosts=[coordinator.uri], mode="primary")
    assert info.value.option == "mode"
    with pytest.raises(prestoha.ConfigurationError):
        prestoha.connect(hosts=["not a url at all"])
    with pytest.raises(prestoha.ConfigurationError) as info:
        prestoha.connect(hosts=["c1:8080"], auth=object())
    assert info.value.option == "auth"


def test_fetchall_never_returns_a_shortened_result(coordinator: CoordinatorProcess) -> None:
    c = prestoha.connect(hosts=[coordinator.uri], user="ana", failover_timeout=1.0)
    try:
        cur = c.cursor()
        cur.execute("SELECT orderkey FROM tpch.sf1.orders ORDER BY orderkey")
        assert len(cur.fetchmany(1000)) == 1000
        coordinator.kill()
        with pytest.raises(prestoha.NoCoordinatorError):
            cur.fetchall()
    finally:
        c.close()


def test_many_threads_on_one_connection_reuse_their_http_connections(
    conn: prestoha.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    # requests keeps 10 connections per host: with more threads than that, urllib3 opened
    # one for most requests, dropped it after and logged "Connection pool is full" each time.
    import logging
    from concurrent.futures import ThreadPoolExecutor

    def queries(_: int) -> list[list[int]]:
        cur = conn.cursor()
        got = []
        for _ in range(5):
            cur.execute("SELECT 1")
            got.extend(cur.fetchall())
        return got

    with (
        caplog.at_level(logging.WARNING, logger="urllib3"),
        ThreadPoolExecutor(max_workers=40) as pool,
    ):
        results = list(pool.map(queries, range(40)))
    assert results == [[[1]] * 5] * 40
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]
