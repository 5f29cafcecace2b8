"""Code written for ``trino.dbapi`` against one emulated coordinator, through ``prestoha``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import trino.dbapi

import prestoha
from prestoha.testing._local_processes import CoordinatorProcess

pytestmark = pytest.mark.integration


@pytest.fixture
def conn(coordinator: CoordinatorProcess) -> Iterator[prestoha.Connection]:
    host, port = coordinator.uri.rsplit(":", 1)
    c = prestoha.connect(
        host=host, port=int(port), user="ana", catalog="tpch", schema="tiny", max_attempts=3
    )
    yield c
    c.close()


def test_host_and_port_reach_the_coordinator(
    conn: prestoha.Connection, coordinator: CoordinatorProcess
) -> None:
    assert f"http://{conn.host}:{conn.port}" == coordinator.uri
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM nation")
    assert list(cur.genall()) == [[25]]
    assert cur.query == "SELECT count(*) FROM nation"


def test_describe_gives_the_output_columns_without_running(conn: prestoha.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT 1")
    described = cur.describe("SELECT nationkey, name AS n FROM nation")
    assert all(isinstance(d, trino.dbapi.DescribeOutput) for d in described)
    assert [(d.name, d.type) for d in described] == [("nationkey", "bigint"), ("n", "varchar(25)")]
    assert [d.aliased for d in described] == [False, True]
    assert cur.query == "SELECT 1" and cur.fetchall() == [[1]]  # the last query is kept
    assert conn.session.prepared == {}  # deallocated


def test_stats_callback_sees_the_query_to_its_end(conn: prestoha.Connection) -> None:
    seen: list[dict[str, Any]] = []
    cur = conn.cursor(stats_callback=seen.append)
    cur.execute("SELECT nationkey FROM nation")
    assert len(cur.fetchall()) == 25
    assert seen and seen[-1]["state"] == "FINISHED"
    assert seen[-1] == cur.stats


def test_start_transaction_commits_and_rolls_back(coordinator: CoordinatorProcess) -> None:
    table = f"tx_{uuid.uuid4().hex[:8]}"
    with prestoha.connect(host=coordinator.uri, catalog="memory", schema="default") as c:
        cur = c.cursor()
        cur.execute(f"CREATE TABLE {table} (a bigint)")
        transaction = c.start_transaction()
        assert transaction.id == c.session.transaction_id
        cur.execute(f"INSERT INTO {table} VALUES 1")
        transaction.commit()
        c.start_transaction()
        cur.execute(f"INSERT INTO {table} VALUES 2")
        c.rollback()
        assert c.session.transaction_id is None
        cur.execute(f"SELECT a FROM {table}")
        assert cur.fetchall() == [[1]]
