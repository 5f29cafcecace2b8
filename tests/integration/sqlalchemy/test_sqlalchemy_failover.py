"""Reflection through the failover path: inspector calls while the leader is SIGKILLed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from prestoha.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration


def _leader_index(cluster: LocalCluster) -> int:
    return cluster.index(cluster.wait_for_leader(30).node_id)


def _model(engine: sa.Engine) -> None:
    meta = sa.MetaData()
    sa.Table(
        "events",
        meta,
        sa.Column("id", sa.BigInteger, comment="event id"),
        sa.Column("kind", sa.String(20)),
        sa.Column("at", sa.DateTime),
        comment="what happened",
    )
    sa.Table("kinds", meta, sa.Column("kind", sa.String(20)))
    meta.create_all(engine)


def _reflect(engine: sa.Engine, schema: str) -> dict[str, Any]:
    """Every kind of inspector call, on a fresh inspector (nothing cached)."""
    insp = sa.inspect(engine)
    return {
        "schemas": schema in insp.get_schema_names(),
        "tables": sorted(insp.get_table_names()),
        "columns": [(c["name"], str(c["type"]), c["comment"]) for c in insp.get_columns("events")],
        "comment": insp.get_table_comment("events")["text"],
        "has_table": insp.has_table("kinds"),
        "table": [c.name for c in sa.Table("kinds", sa.MetaData(), autoload_with=engine).c],
    }


EXPECTED = {
    "schemas": True,
    "tables": ["events", "kinds"],
    "columns": [
        ("id", "BIGINT", "event id"),
        ("kind", "VARCHAR(20)", None),
        ("at", "TIMESTAMP", None),
    ],
    "comment": "what happened",
    "has_table": True,
    "table": ["kind"],
}


def test_inspector_survives_a_leader_kill_between_calls(
    local_cluster: LocalCluster,
    make_engine: Callable[..., sa.Engine],
    url_for: Callable[..., str],
    lake_schema: str,
) -> None:
    engine = make_engine(url_for("lake", lake_schema))
    _model(engine)
    assert _reflect(engine, lake_schema) == EXPECTED
    old = _leader_index(local_cluster)
    local_cluster.kill(old)
    # The pooled connection was opened on the old leader; nothing waits for ZooKeeper first.
    assert _reflect(engine, lake_schema) == EXPECTED
    assert local_cluster.wait_for_leader(30).node_id != local_cluster.node_ids[old]


def test_inspector_call_in_flight_survives_a_leader_kill(
    local_cluster: LocalCluster,
    make_engine: Callable[..., sa.Engine],
    url_for: Callable[..., str],
    lake_schema: str,
    record_statements: Callable[[sa.Engine], Any],
) -> None:
    engine = make_engine(url_for("lake", lake_schema))
    _model(engine)
    old = _leader_index(local_cluster)
    # Every answer of the leader now takes 400 ms: a reflection query is in flight on it
    # when the kill lands 100 ms after the query was handed to the driver.
    local_cluster.set_delay(old, 400)
    sent = record_statements(engine)
    killed = threading.Event()
    killer: list[threading.Thread] = []

    def kill_soon(*args: Any) -> None:
        if len(sent.sent) == 3 and not killer:

            def kill() -> None:
                time.sleep(0.1)
                local_cluster.kill(old)
                killed.set()

            killer.append(threading.Thread(target=kill))
            killer[0].start()

    sa.event.listen(engine, "before_cursor_execute", kill_soon)
    attempts: list[int] = []
    sa.event.listen(
        engine, "after_cursor_execute", lambda c, cur, *a: attempts.append(len(cur.attempts))
    )
    results = []
    while not killed.is_set() or len(results) < 3:
        results.append(_reflect(engine, lake_schema))
        assert len(results) < 50, "the leader was never killed"
    killer[0].join()
    assert all(r == EXPECTED for r in results)
    # The query in flight at the kill was answered by a second attempt, elsewhere.
    assert attempts[2] >= 2, attempts
    assert local_cluster.wait_for_leader(30).node_id != local_cluster.node_ids[old]


def test_reflection_loop_keeps_working_through_a_leader_kill(
    local_cluster: LocalCluster,
    make_engine: Callable[..., sa.Engine],
    url_for: Callable[..., str],
    lake_schema: str,
) -> None:
    engine = make_engine(url_for("lake", lake_schema), pool_size=2)
    _model(engine)
    results: list[dict[str, Any]] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                results.append(_reflect(engine, lake_schema))
            except BaseException as exc:  # any failure is the test's failure
                failures.append(exc)
                return

    threads = [threading.Thread(target=loop) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        _wait(lambda: len(results) >= 4 or bool(failures), "reflection before the kill")
        old = _leader_index(local_cluster)
        local_cluster.kill(old)
        before = len(results)
        _wait(lambda: len(results) >= before + 6 or bool(failures), "reflection after the kill")
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not failures, failures
    assert all(r == EXPECTED for r in results)
    assert local_cluster.wait_for_leader(30).node_id != local_cluster.node_ids[old]


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
