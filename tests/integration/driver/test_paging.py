"""Paging: bounded prefetch, chunked reads, and stopping early cancels the query."""

from __future__ import annotations

import gc
import sys
import time
from typing import Any

import pytest

import prestoha
from prestoha.execution import busy_fetchers
from prestoha.testing._local_processes import CoordinatorProcess

from .conftest import wait_until

pytestmark = pytest.mark.integration

BIG = "SELECT orderkey, comment FROM tpch.sf1.lineitem"  # 6M rows


def _state(coordinator: CoordinatorProcess, query_id: str) -> tuple[str, str | None]:
    for q in coordinator.admin.queries():
        if q["query_id"] == query_id:
            return q["state"], q.get("error_name")
    raise AssertionError(f"{query_id} unknown to the coordinator")


def _canceled(coordinator: CoordinatorProcess, query_id: str) -> bool:
    return _state(coordinator, query_id) == ("FAILED", "USER_CANCELED")


def _fetch_threads() -> int:
    """Threads fetching or cancelling now (finished ones idle a while for reuse)."""
    return busy_fetchers()


def test_reading_part_of_a_huge_result_then_closing_cancels_it(
    coordinator: CoordinatorProcess, conn: prestoha.Connection
) -> None:
    before = _fetch_threads()
    cur = conn.cursor()
    cur.execute(BIG)
    assert len(cur.fetchmany(1000)) == 1000
    query_id = cur.query_id
    assert query_id is not None
    assert _state(coordinator, query_id)[0] == "RUNNING"
    cur.close()
    wait_until(lambda: _canceled(coordinator, query_id), 10.0, "the query to be canceled")
    wait_until(lambda: _fetch_threads() <= before, 10.0, "the fetch threads to end")


def test_breaking_out_of_iter_batches_cancels(
    coordinator: CoordinatorProcess, conn: prestoha.Connection
) -> None:
    cur = conn.cursor()
    cur.execute(BIG)
    seen = 0
    for batch in cur.iter_batches(5000):
        seen += len(batch)
        if seen >= 20_000:
            break
    assert seen == 20_000
    assert cur.query_id is not None
    query_id = cur.query_id
    wait_until(lambda: _canceled(coordinator, query_id), 10.0, "the query to be canceled")


def test_a_cursor_dropped_without_close_cancels_on_garbage_collection(
    coordinator: CoordinatorProcess, conn: prestoha.Connection
) -> None:
    before = _fetch_threads()
    cur = conn.cursor()
    cur.execute(BIG)
    cur.fetchmany(100)
    query_id = cur.query_id
    assert query_id is not None
    del cur
    gc.collect()
    wait_until(lambda: _canceled(coordinator, query_id), 10.0, "the query to be canceled")
    wait_until(lambda: _fetch_threads() <= before, 10.0, "the fetch threads to end")


def test_dataframe_chunks_and_early_stop(
    coordinator: CoordinatorProcess, conn: prestoha.Connection
) -> None:
    cur = conn.cursor()
    cur.execute("SELECT nationkey, name FROM nation ORDER BY nationkey")
    frames = list(cur.fetch_df_chunks(10))
    assert [len(f) for f in frames] == [10, 10, 5]
    assert list(frames[0].columns) == ["nationkey", "name"]
    assert frames[2]["name"].tolist()[-1] == "UNITED STATES"

    cur.execute(BIG)
    for frame in cur.fetch_df_chunks(2000):
        assert len(frame) == 2000
        break
    query_id = cur.query_id
    assert query_id is not None
    wait_until(lambda: _canceled(coordinator, query_id), 10.0, "the query to be canceled")


def test_prefetch_stays_within_its_bound(coordinator: CoordinatorProcess) -> None:
    c = prestoha.connect(hosts=[coordinator.uri], user="ana", prefetch=20_000)
    try:
        cur = c.cursor()
        cur.execute("SELECT orderkey FROM tpch.sf1.orders")
        cur.fetchmany(10)
        time.sleep(1.0)  # give the fetcher every chance to run ahead
        prefetched = cur.prefetched
        assert prefetched.page_rows > 0
        # never more than the limit plus the one page that crossed it
        assert prefetched.rows < 20_000 + prefetched.page_rows
        assert sum(len(b) for b in cur.iter_batches(100_000)) == 1_500_000 - 10
    finally:
        c.close()


def test_progress_stats_are_exposed(conn: prestoha.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM lineitem")
    cur.fetchall()
    stats = cur.stats
    assert stats["state"] == "FINISHED"
    assert "progressPercentage" in stats or "processedRows" in stats


def _rows_size(rows: list[Any]) -> int:
    return sum(sys.getsizeof(r) + 8 + sum(sys.getsizeof(v) for v in r) for r in rows)


def test_a_prefetch_size_bounds_the_decoded_rows_not_the_bytes_on_the_wire(
    coordinator: CoordinatorProcess,
) -> None:
    limit = 2 * 1024 * 1024
    c = prestoha.connect(hosts=[coordinator.uri], user="ana", prefetch="2MiB")
    try:
        cur = c.cursor()
        cur.execute("SELECT orderkey, comment FROM tpch.sf1.orders")
        cur.fetchmany(10)
        sample = cur.fetchmany(1000)
        time.sleep(1.0)  # give the fetcher every chance to run ahead
        prefetched = cur.prefetched
        assert prefetched.rows > 0
        per_row = _rows_size(sample) / len(sample)
        # Rows take about four times their JSON as Python objects: counted on the wire,
        # two pages of 1 MB would be buffered here, twice the limit in memory.
        assert prefetched.rows * per_row <= limit + prefetched.page_rows * per_row
    finally:
        c.close()
