"""The failover driver against real processes: ZooKeeper, emulated coordinators, agents."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import prestoha
from prestoha.testing.cluster import LocalCluster
from prestoha.testing.coordinator import EmulatorAdmin

from .conftest import journal_entries, marker, wait_until

pytestmark = pytest.mark.integration

Connect = Callable[..., prestoha.Connection]


def _leader_index(cluster: LocalCluster) -> int:
    leader = cluster.wait_for_leader(30)
    return cluster.index(leader.node_id)


def test_leader_kill_under_read_load_fails_no_query(
    healthy: LocalCluster, connect: Connect
) -> None:
    conn = connect()
    done: list[tuple[str, str | None, int]] = []
    failed: list[BaseException] = []
    stop = threading.Event()

    def loop() -> None:
        cur = conn.cursor()
        while not stop.is_set():
            try:
                cur.execute("SELECT count(*) FROM nation")
                assert cur.fetchall() == [[25]]
                assert cur.trace_token is not None
                done.append((cur.trace_token, cur.coordinator, len(cur.attempts)))
            except BaseException as exc:
                failed.append(exc)
                return

    threads = [threading.Thread(target=loop) for _ in range(4)]
    for t in threads:
        t.start()
    wait_until(lambda: len(done) > 20, 30, "queries before the kill")
    old = _leader_index(healthy)
    old_uri = healthy.coordinators[old]
    healthy.kill(old)
    before = len(done)
    wait_until(
        lambda: any(node != old_uri for _, node, _ in done[before:]) or bool(failed),
        30,
        "queries served by a new leader",
    )
    wait_until(lambda: len(done) > before + 40 or bool(failed), 30, "more queries after the kill")
    stop.set()
    for t in threads:
        t.join(30)
    assert failed == []
    # In "any" mode the reads above need no new leader: wait for the election itself.
    assert healthy.wait_for_leader(30, not_node=old).uri != old_uri
    # No query ran more often on a surviving coordinator than it had attempts.
    attempts = {token: n for token, _, n in done}
    seen: Counter[str] = Counter()
    for i, uri in enumerate(healthy.coordinators):
        if i == old:
            continue
        for q in EmulatorAdmin(uri).queries():
            if q.get("trace_token") in attempts:
                seen[q["trace_token"]] += 1
    assert seen, "the survivors recorded none of the queries"
    assert all(seen[t] <= attempts[t] for t in seen)


ORDERED = (
    "SELECT orderkey, custkey, totalprice, orderdate FROM tpch.sf1.orders "
    "ORDER BY orderkey LIMIT 1000000"
)


def _digest(rows: list[Any]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(repr(row).encode())
    return h.hexdigest()


def _read(cur: prestoha.Cursor, out: list[Any]) -> None:
    while batch := cur.fetchmany(50_000):
        out.extend(batch)


@pytest.mark.slow
def test_kill_mid_stream_resumes_with_exactly_the_fault_free_rows(
    healthy: LocalCluster, connect: Connect
) -> None:
    conn = connect()
    cur = conn.cursor()
    cur.execute(ORDERED)
    expected: list[Any] = []
    _read(cur, expected)
    assert len(expected) == 1_000_000

    cur.execute(ORDERED)
    got = cur.fetchmany(300_000)
    served_by = cur.coordinator
    assert served_by is not None
    healthy.kill(healthy.coordinators.index(served_by))
    _read(cur, got)
    assert len(got) == 1_000_000
    assert _digest(got) == _digest(expected)
    assert cur.coordinator != served_by
    assert len(cur.attempts) >= 2


def test_unordered_read_that_comes_back_different_raises_diverged(
    healthy: LocalCluster, connect: Connect
) -> None:
    conn = connect()
    cur = conn.cursor()
    cur.execute("SELECT orderkey FROM tpch.sf1.orders ORDER BY random() LIMIT 1000000")
    assert len(cur.fetchmany(1000)) == 1000
    served_by = cur.coordinator
    assert served_by is not None
    healthy.kill(healthy.coordinators.index(served_by))
    handed = 1000
    with pytest.raises(prestoha.ResultDivergedError) as info:
        while batch := cur.fetchmany(10_000):
            handed += len(batch)
    # The new run is compared on the rows returned before the call the failover hit: whole
    # batches after the first 1000. The rows that call had gathered from the lost run are
    # still handed out, then the error comes.
    compared = info.value.rows_compared
    assert compared % 10_000 == 1000
    assert 0 <= handed - compared < 10_000
    assert handed < 1_000_000
    assert "ORDER BY" in str(info.value)


@pytest.mark.parametrize("fetch", ["fetchall", "fetchmany"])
def test_rows_a_fetch_call_had_not_returned_are_taken_again_from_the_new_run(
    healthy: LocalCluster, connect: Connect, fetch: str
) -> None:
    # The order differs on every run, so a resume that kept rows gathered from the lost run
    # and went on with the new one could only raise ResultDivergedError; nothing was
    # returned to the caller yet, so the new run is used whole instead.
    conn = connect(prefetch=1)
    cur = conn.cursor()
    cur.execute("SELECT orderkey FROM tpch.sf1.orders ORDER BY random() LIMIT 1000000")
    served_by = cur.coordinator
    assert served_by is not None
    healthy.kill(healthy.coordinators.index(served_by))
    if fetch == "fetchall":
        rows = cur.fetchall()
    else:
        rows = cur.fetchmany(600_000)
        assert len(rows) == 600_000
        assert cur.coordinator != served_by  # the failover came inside the first call
        rows += cur.fetchmany(600_000)
    assert len(rows) == 1_000_000
    assert len({r[0] for r in rows}) == 1_000_000
    assert cur.coordinator != served_by
    assert len(cur.attempts) >= 2


def test_hung_leader_reads_complete_on_the_next_leader(
    healthy: LocalCluster, connect: Connect
) -> None:
    conn = connect(failover_timeout=20.0, request_timeout=2.0)
    cur = conn.cursor()
    cur.execute("SELECT 1")
    assert cur.fetchall() == [[1]]
    old = _leader_index(healthy)
    healthy.stop(old)
    try:
        for _ in range(5):
            cur.execute("SELECT count(*) FROM region")
            assert cur.fetchall() == [[5]]
            assert cur.coordinator != healthy.coordinators[old]
    finally:
        healthy.cont(old)


def _in_thread(conn: prestoha.Connection, sql: str) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``sql`` on a cursor of ``conn`` in a thread; its rows, cursor or error land in
    the returned dict."""
    out: dict[str, Any] = {}

    def run() -> None:
        cur = conn.cursor()
        out["cursor"] = cur
        try:
            cur.execute(sql)
            out["rows"] = cur.fetchall()
        except BaseException as exc:
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    return t, out


def test_a_hung_leader_is_left_at_the_short_read_timeout_of_the_first_page(
    healthy: LocalCluster, connect: Connect
) -> None:
    # request_timeout is long: only the read timeout that follows maxWait and the node's
    # round trip (known after the first query) lets the query leave the stopped leader.
    conn = connect(request_timeout=120.0, failover_timeout=120.0, probe_interval=None)
    warm = conn.cursor()
    warm.execute("SELECT 1")
    assert warm.fetchall() == [[1]]
    old = _leader_index(healthy)
    healthy.stop(old)
    try:
        t, out = _in_thread(conn, "SELECT count(*) FROM region")
        t.join(60)
        assert not t.is_alive(), "the query waited on the stopped leader"
        assert out.get("rows") == [[5]], out.get("error")
        cur = out["cursor"]
        assert cur.attempts[0].node == healthy.coordinators[old]
        assert cur.attempts[0].error.startswith("no answer")
        assert cur.coordinator != healthy.coordinators[old]
        assert conn.cluster.is_dead(healthy.coordinators[old])
    finally:
        healthy.cont(old)


def test_a_leader_change_breaks_a_first_page_request_to_a_hung_leader(
    healthy: LocalCluster, connect: Connect
) -> None:
    # A fresh connection knows no round trip yet: its first request waits the whole
    # request_timeout. Only the news of another leader can end it sooner.
    conn = connect(request_timeout=120.0, failover_timeout=120.0, probe_interval=None)
    old = _leader_index(healthy)
    old_uri = healthy.coordinators[old]
    healthy.stop(old)
    try:
        t, out = _in_thread(conn, "SELECT count(*) FROM region")
        wait_until(
            lambda: (
                conn.cluster.router.snapshot()[old_uri].in_flight > 0
                if old_uri in conn.cluster.router.snapshot()
                else False
            ),
            30,
            "the query to be sent to the stopped leader",
        )
        healthy.stop_agent(old)  # its znodes go: another node is elected
        t.join(60)
        assert not t.is_alive(), "the request in flight was not broken by the leader change"
        assert out.get("rows") == [[5]], out.get("error")
        cur = out["cursor"]
        assert cur.attempts[0].node == old_uri
        assert cur.attempts[0].error.endswith("is no longer the leader")
        assert not conn.cluster.is_dead(old_uri)  # silent, but nobody waited it out
    finally:
        healthy.cont(old)


def _running_insert(
    cluster: LocalCluster, conn: prestoha.Connection
) -> tuple[str, str, threading.Thread, list[BaseException]]:
    """Start a slow INSERT in a thread and wait until a coordinator began to run it;
    returns its journal marker, that coordinator's node id, the thread and its errors."""
    conn.cursor().execute("CREATE TABLE IF NOT EXISTS lake.default.lost (k bigint, v varchar)")
    mark = marker()
    sql = f"INSERT INTO lake.default.lost {mark} SELECT orderkey, comment FROM tpch.sf1.orders"
    raised: list[BaseException] = []

    def insert() -> None:
        try:
            conn.cursor().execute(sql)
        except BaseException as exc:
            raised.append(exc)

    t = threading.Thread(target=insert)
    t.start()
    wait_until(lambda: bool(journal_entries(cluster, mark)), 30, "the INSERT to start")
    return mark, journal_entries(cluster, mark)[0]["node_id"], t, raised


def test_write_lost_after_it_began_raises_outcome_unknown_and_never_reruns(
    healthy: LocalCluster, connect: Connect
) -> None:
    mark, node, t, raised = _running_insert(healthy, connect())
    healthy.kill(healthy.index(node))
    t.join(60)
    assert len(raised) == 1
    err = raised[0]
    assert isinstance(err, prestoha.QueryOutcomeUnknownError)
    assert err.node == healthy.coordinators[healthy.index(node)]
    assert "not run again" in str(err)
    # One attempt, on the node that died: the execution raised instead of sending it on,
    # and it has ended (the thread joined), so nothing can be sent later either.
    assert [a.node for a in err.attempts] == [err.node]
    assert not t.is_alive()
    assert len(journal_entries(healthy, mark)) == 1


def test_write_refused_before_registration_runs_exactly_once(
    healthy: LocalCluster, connect: Connect
) -> None:
    conn = connect()
    cur = conn.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS lake.default.once (k bigint)")
    leader = _leader_index(healthy)

    healthy.fail_next(leader, 1, 503)
    mark = marker()
    cur.execute(f"INSERT INTO lake.default.once {mark} VALUES 1")
    assert cur.rowcount == 1
    assert cur.attempts[0].error.startswith("HTTP 503")
    assert len(cur.attempts) == 2
    assert len(journal_entries(healthy, mark)) == 1

    healthy.kill(leader)
    mark = marker()
    cur.execute(f"INSERT INTO lake.default.once {mark} VALUES 2")
    assert cur.rowcount == 1
    assert cur.coordinator != healthy.coordinators[leader]
    entries = journal_entries(healthy, mark)
    assert len(entries) == 1
    assert entries[0]["trace_token"] == cur.trace_token


def test_session_state_survives_a_failover(healthy: LocalCluster, connect: Connect) -> None:
    conn = connect()
    cur = conn.cursor()
    cur.execute("USE tpch.sf1")
    cur.execute("SET SESSION query_max_run_time = '1h'")
    cur.execute("PREPARE by_key FROM SELECT orderkey FROM orders WHERE orderkey = ?")
    cur.execute("SELECT count(*) FROM orders")
    assert cur.fetchall() == [[1_500_000]]
    before = cur.coordinator
    assert before is not None
    healthy.kill(healthy.coordinators.index(before))

    cur.execute("SELECT count(*) FROM orders")
    assert cur.fetchall() == [[1_500_000]]
    assert cur.coordinator != before
    cur.execute("SHOW SESSION LIKE 'query_max_run_time'")
    assert cur.fetchall()[0][1] == "1h"
    cur.execute("EXECUTE by_key USING 7")
    assert cur.fetchall() == [[7]]


def test_restart_that_forgets_queries_resumes_reads(
    healthy: LocalCluster, connect: Connect
) -> None:
    conn = connect()
    cur = conn.cursor()
    cur.execute(ORDERED)
    first = cur.fetchmany(100_000)
    served_by = cur.coordinator
    assert served_by is not None
    healthy.restart(healthy.coordinators.index(served_by))
    rest: list[Any] = []
    _read(cur, rest)
    rows = first + rest
    assert len(rows) == 1_000_000
    assert [r[0] for r in rows[99_998:100_002]] == sorted(r[0] for r in rows[99_998:100_002])
    # refused while it restarted, or 404 Query not found once it was back: either way lost
    assert len(cur.attempts) >= 2
    assert cur.attempts[0].error


def test_restart_that_forgets_queries_fails_a_running_write(
    healthy: LocalCluster, connect: Connect
) -> None:
    mark, node, t, raised = _running_insert(healthy, connect())
    healthy.restart(healthy.index(node))
    t.join(60)
    assert len(raised) == 1
    assert isinstance(raised[0], prestoha.QueryOutcomeUnknownError)
    assert len(journal_entries(healthy, mark)) == 1


def test_a_starting_coordinator_sends_reads_elsewhere(healthy: LocalCluster) -> None:
    starting = healthy.coordinators[0]
    admin = EmulatorAdmin(starting)
    admin.set_faults(starting=True)
    conn = prestoha.connect(hosts=healthy.coordinators, mode="any", user="test", catalog="tpch")
    try:
        cur = conn.cursor()
        served = []
        for _ in range(20):
            cur.execute("SELECT count(*) FROM tiny.nation")
            assert cur.fetchall() == [[25]]
            served.append(cur.coordinator)
            for a in cur.attempts[:-1]:
                assert a.node == starting
                assert a.error.startswith("SERVER_STARTING_UP")
        assert starting not in served
    finally:
        admin.reset()
        conn.close()


def test_a_write_refused_by_a_starting_coordinator_is_not_sent_elsewhere(
    healthy: LocalCluster,
) -> None:
    with prestoha.connect(**healthy.connect_kwargs()) as setup:
        setup.cursor().execute("CREATE TABLE IF NOT EXISTS lake.default.once (k bigint)")
    starting = healthy.coordinators[0]
    admin = EmulatorAdmin(starting)
    admin.set_faults(starting=True)
    conn = prestoha.connect(hosts=healthy.coordinators, user="test", catalog="lake")
    try:
        mark = marker()
        with pytest.raises(prestoha.OperationalError) as info:
            conn.cursor().execute(f"INSERT INTO lake.default.once {mark} VALUES 3")
        assert not isinstance(info.value, prestoha.QueryOutcomeUnknownError)
        assert "did not run" in str(info.value)
        assert journal_entries(healthy, mark) == []
    finally:
        admin.reset()
        conn.close()


def test_503s_do_not_make_a_working_leader_unusable(
    healthy: LocalCluster, connect: Connect
) -> None:
    conn = connect(failover_timeout=8)
    leader = _leader_index(healthy)
    healthy.fail_next(leader, 5, 503)
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM region")
    assert cur.fetchall() == [[5]]
    assert cur.coordinator == healthy.coordinators[leader]
    assert [a.error.startswith("HTTP 503") for a in cur.attempts] == [True] * 5 + [False]
    cur.execute("SELECT 1")
    assert cur.fetchall() == [[1]]
