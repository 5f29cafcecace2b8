"""prestoha.aio keeps the sync driver's failover promises, on real processes: ZooKeeper,
emulated coordinators with their agents, real SIGKILL and SIGSTOP."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Coroutine
from typing import Any

import pyarrow as pa
import pytest

import prestoha
import prestoha.aio
from prestoha.testing.cluster import LocalCluster
from prestoha.testing.coordinator import EmulatorAdmin

from .conftest import PATIENCE, journal_entries, marker, run, until

pytestmark = pytest.mark.integration

NATIONS = "SELECT nationkey, name FROM tpch.tiny.nation ORDER BY nationkey LIMIT 5"
FIRST_NATIONS = [[0, "ALGERIA"], [1, "ARGENTINA"], [2, "BRAZIL"], [3, "CANADA"], [4, "EGYPT"]]
LINEITEM = "SELECT * FROM tpch.tiny.lineitem ORDER BY orderkey, linenumber"
LINEITEM_ROWS = 60_175

#: Rows read so far, and a coroutine that reads the rest.
ReadRest = tuple[list[Any], Coroutine[Any, Any, list[Any]]]
#: Where a query ended (its coordinator) and how it got there (its attempts).
Outcome = tuple[str | None, tuple[prestoha.Attempt, ...]]


def _digest(rows: list[Any]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(repr(row).encode())
    return h.hexdigest()


async def _leader_index(cluster: LocalCluster) -> int:
    leader = await asyncio.to_thread(cluster.wait_for_leader, PATIENCE)
    return cluster.index(leader.node_id)


def test_leader_kill_under_50_tasks_fails_no_query(healthy: LocalCluster) -> None:
    done: list[tuple[str, str | None, tuple[prestoha.Attempt, ...]]] = []
    failed: list[BaseException] = []

    async def body() -> tuple[int, str]:
        async with prestoha.aio.connect(**healthy.connect_kwargs()) as conn:
            stop = asyncio.Event()

            async def reads() -> None:
                cur = conn.cursor()
                while not stop.is_set():
                    try:
                        await cur.execute(NATIONS)
                        assert await cur.fetchall() == FIRST_NATIONS
                        assert cur.trace_token is not None
                        done.append((cur.trace_token, cur.coordinator, cur.attempts))
                    except Exception as exc:
                        failed.append(exc)
                        return

            tasks = [asyncio.create_task(reads()) for _ in range(50)]
            await until(lambda: len(done) > 100 or bool(failed), "queries before the kill")
            old = await _leader_index(healthy)
            old_uri = healthy.coordinators[old]
            healthy.kill(old)
            before = len(done)
            await until(
                lambda: any(node != old_uri for _, node, _ in done[before:]) or bool(failed),
                "queries served by another coordinator",
            )
            await until(
                lambda: len(done) > before + 200 or bool(failed), "more queries after the kill"
            )
            stop.set()
            await asyncio.gather(*tasks)
            return old, old_uri

    old, old_uri = run(body())
    assert failed == []
    # Queries in flight when the leader died moved: their first attempt was on it, their
    # answer came from another coordinator.
    moved = [
        attempts
        for _, node, attempts in done
        if len(attempts) >= 2 and attempts[0].node == old_uri and node != old_uri
    ]
    assert moved, "no query was caught by the kill and moved"
    # No query ran more often on a surviving coordinator than it had attempts there.
    attempts_on: dict[str, Counter[str]] = {
        token: Counter(a.node for a in attempts) for token, _, attempts in done
    }
    seen: Counter[tuple[str, str]] = Counter()
    for i, uri in enumerate(healthy.coordinators):
        if i == old:
            continue
        for q in EmulatorAdmin(uri).queries():
            if q.get("trace_token") in attempts_on:
                seen[q["trace_token"], uri] += 1
    assert seen, "the survivors recorded none of the queries"
    assert all(n <= attempts_on[token][uri] for (token, uri), n in seen.items())


def test_a_read_on_a_hung_node_completes_elsewhere(healthy: LocalCluster) -> None:
    # prefetch=1: one page ahead, so the rest of the result is still on the node it hangs.
    options = {"failover_timeout": 20.0, "request_timeout": 2.0, "prefetch": 1}

    async def body() -> tuple[list[Any], list[Any], str, Outcome]:
        async with prestoha.aio.connect(**healthy.connect_kwargs(), **options) as conn:
            cur = conn.cursor()
            await cur.execute(LINEITEM)
            expected = await cur.fetchall()
            await cur.execute(LINEITEM)
            got = await cur.fetchmany(5000)
            served_by = cur.coordinator
            assert served_by is not None
            stopped = healthy.coordinators.index(served_by)
            healthy.stop(stopped)
            try:
                got += await cur.fetchall()
            finally:
                healthy.cont(stopped)
            return expected, got, served_by, (cur.coordinator, cur.attempts)

    expected, got, served_by, (coordinator, attempts) = run(body())
    assert len(expected) == LINEITEM_ROWS
    assert _digest(got) == _digest(expected)
    assert coordinator != served_by
    assert attempts[0].node == served_by
    assert len(attempts) >= 2


async def _rest_by_rows(cur: prestoha.aio.AsyncCursor, how: str, head: int) -> ReadRest:
    """Read ``head`` rows of ``cur``'s query by ``how``; returns them and a coroutine that
    reads the rest the same way."""
    if how == "fetchmany":
        got = await cur.fetchmany(head)

        async def rest() -> list[Any]:
            out = []
            while batch := await cur.fetchmany(7000):
                out += batch
            return out

        return got, rest()
    rows = aiter(cur)
    got = []
    async for row in rows:
        got.append(row)
        if len(got) == head:
            break

    async def rest_iterated() -> list[Any]:
        return [row async for row in rows]

    return got, rest_iterated()


@pytest.mark.parametrize("how", ["async-for", "fetchmany"])
def test_kill_mid_stream_resumes_with_exactly_the_fault_free_rows(
    healthy: LocalCluster, how: str
) -> None:
    async def body() -> tuple[list[Any], list[Any], str, Outcome]:
        async with prestoha.aio.connect(**healthy.connect_kwargs(), prefetch=1) as conn:
            cur = conn.cursor()
            await cur.execute(LINEITEM)
            expected = [row async for row in cur]
            await cur.execute(LINEITEM)
            got, rest = await _rest_by_rows(cur, how, 10_000)
            served_by = cur.coordinator
            assert served_by is not None
            healthy.kill(healthy.coordinators.index(served_by))
            got += await rest
            return expected, got, served_by, (cur.coordinator, cur.attempts)

    expected, got, served_by, (coordinator, attempts) = run(body())
    assert len(expected) == LINEITEM_ROWS
    assert len(got) == LINEITEM_ROWS
    assert _digest(got) == _digest(expected)
    assert coordinator != served_by
    assert attempts[0].node == served_by
    assert len(attempts) >= 2


def test_kill_mid_stream_resumes_the_record_batches_with_exactly_the_fault_free_rows(
    healthy: LocalCluster,
) -> None:
    async def body() -> tuple[pa.Table, pa.Table, str, Outcome]:
        async with prestoha.aio.connect(**healthy.connect_kwargs(), prefetch=1) as conn:
            cur = conn.cursor()
            await cur.execute(LINEITEM)
            expected = await cur.fetch_arrow_table()
            await cur.execute(LINEITEM)
            stream = cur.fetch_record_batch(4000)
            got = [await anext(stream) for _ in range(3)]
            served_by = cur.coordinator
            assert served_by is not None
            healthy.kill(healthy.coordinators.index(served_by))
            got += [batch async for batch in stream]
            table = pa.Table.from_batches(got, schema=stream.schema)
            return expected, table, served_by, (cur.coordinator, cur.attempts)

    expected, table, served_by, (coordinator, attempts) = run(body())
    assert expected.num_rows == LINEITEM_ROWS
    assert table.num_rows == LINEITEM_ROWS
    assert table.combine_chunks().equals(expected.combine_chunks())
    assert coordinator != served_by
    assert attempts[0].node == served_by
    assert len(attempts) >= 2


def test_write_lost_after_it_began_raises_outcome_unknown_and_never_reruns(
    healthy: LocalCluster,
) -> None:
    mark = marker()
    sql = f"INSERT INTO lake.default.lost {mark} SELECT orderkey, comment FROM tpch.sf1.orders"

    async def body() -> tuple[BaseException | None, str]:
        async with prestoha.aio.connect(**healthy.connect_kwargs()) as conn:
            await conn.cursor().execute(
                "CREATE TABLE IF NOT EXISTS lake.default.lost (k bigint, v varchar)"
            )
            insert = asyncio.create_task(conn.cursor().execute(sql))
            await until(lambda: bool(journal_entries(healthy, mark)), "the INSERT to start")
            node = journal_entries(healthy, mark)[0]["node_id"]
            healthy.kill(healthy.index(node))
            done, _ = await asyncio.wait([insert], timeout=PATIENCE)
            assert done, "the INSERT did not end after its coordinator died"
            return insert.exception(), healthy.coordinators[healthy.index(node)]

    err, node_uri = run(body())
    assert isinstance(err, prestoha.QueryOutcomeUnknownError)
    assert err.node == node_uri
    assert "not run again" in str(err)
    # One attempt, on the node that died; the execution has ended, so nothing can be sent
    # later either.
    assert [a.node for a in err.attempts] == [node_uri]
    assert len(journal_entries(healthy, mark)) == 1
