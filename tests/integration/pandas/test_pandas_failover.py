"""``pandas.read_sql`` keeps working while the leader coordinator is SIGKILLed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from prestoha.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration

log = logging.getLogger(__name__)

QUERY = (
    "SELECT n.name AS nation, r.name AS region, count(*) AS customers "
    "FROM customer c JOIN nation n ON c.nationkey = n.nationkey "
    "JOIN region r ON n.regionkey = r.regionkey "
    "GROUP BY n.name, r.name ORDER BY n.name"
)


def _leader_index(cluster: LocalCluster) -> int:
    return cluster.index(cluster.wait_for_leader(30).node_id)


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_read_sql_loop_survives_a_leader_sigkill(
    local_cluster: LocalCluster,
    make_engine: Callable[..., sa.Engine],
    record_statements: Callable[[sa.Engine], Any],
) -> None:
    engine = make_engine()
    sent = record_statements(engine)
    expected = pd.read_sql(QUERY, engine)
    assert len(expected) == 25 and expected["customers"].sum() == 1500
    frames: list[pd.DataFrame] = []
    slowest = [0.0]
    old = _leader_index(local_cluster)
    killer = threading.Thread(
        target=lambda: (_wait(lambda: len(frames) >= 10, "reads before the kill"),
                        local_cluster.kill(old)),
    )  # fmt: skip
    killer.start()
    killed_at: int | None = None
    try:
        # Read on, through the kill, until 20 more reads were answered after it.
        while killed_at is None or len(frames) < killed_at + 20:
            began = time.monotonic()
            frames.append(pd.read_sql(QUERY, engine))
            slowest[0] = max(slowest[0], time.monotonic() - began)
            if killed_at is None and not killer.is_alive():
                killed_at = len(frames)
            assert len(frames) < 2000, "the loop never saw the kill"
    finally:
        killer.join()
    assert all(frame.equals(expected) for frame in frames)
    new = local_cluster.wait_for_leader(30)
    assert new.node_id != local_cluster.node_ids[old]
    retried = [len(cur.attempts) for cur in sent.cursors if len(cur.attempts) > 1]
    log.info(
        "%d reads, %d retried after the kill, slowest %.2f s",
        len(frames),
        len(retried),
        slowest[0],
    )


def test_chunked_read_resumes_across_a_leader_sigkill(
    local_cluster: LocalCluster,
    make_engine: Callable[..., sa.Engine],
    record_statements: Callable[[sa.Engine], Any],
) -> None:
    engine = make_engine()
    sql = "SELECT orderkey, custkey, totalprice FROM orders ORDER BY orderkey"
    expected = pd.read_sql_query(sql, engine)
    assert len(expected) == 15000
    old = _leader_index(local_cluster)
    # Slow pages, so most of the result is still on the leader when it dies.
    local_cluster.set_delay(old, 150)
    sent = record_statements(engine)
    chunks = pd.read_sql_query(sql, engine, chunksize=1000)
    got = [next(chunks)]
    local_cluster.kill(old)
    got.extend(chunks)
    assert [len(c) for c in got] == [1000] * 15
    pd.testing.assert_frame_equal(pd.concat(got, ignore_index=True), expected)
    # The read went on from row 1001 on another coordinator (verified replay).
    assert len(sent.cursors[-1].attempts) >= 2
