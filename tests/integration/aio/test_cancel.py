"""A cancelled task leaves nothing behind: no query running on the coordinator, and (once
the connection is closed) no connection to it."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

import prestoha.aio
from prestoha.testing._local_processes import CoordinatorProcess
from prestoha.testing.coordinator import EmulatorAdmin

from .conftest import connections_to, run, until

pytestmark = pytest.mark.integration

BIG = "SELECT orderkey, comment FROM tpch.sf1.lineitem"  # 6M rows: never read to its end here


def _state(uri: str, query_id: str) -> tuple[str, str | None]:
    # A session of its own, closed at once: its connection is not one of the driver's.
    with EmulatorAdmin(uri) as admin:
        for q in admin.queries():
            if q["query_id"] == query_id:
                return q["state"], q.get("error_name")
    raise AssertionError(f"{query_id} unknown to the coordinator")


async def _read_rows(cur: prestoha.aio.AsyncCursor, read: list[int]) -> None:
    async for _ in cur:
        read[0] += 1


async def _read_batches(cur: prestoha.aio.AsyncCursor, read: list[int]) -> None:
    async for batch in cur.fetch_record_batch(5000):
        read[0] += batch.num_rows


async def _cancel_mid_stream(cur: prestoha.aio.AsyncCursor, how: str) -> int:
    """Read ``cur``'s query in a loop that ``how`` cancels; returns the rows it read."""
    read = [0]
    if how == "timeout":
        # The loop's only waits are the driver's: the timeout lands inside one of them.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await _read_rows(cur, read)
        return read[0]
    loop = _read_batches if how == "cancel-batches" else _read_rows
    task = asyncio.create_task(loop(cur, read))
    await until(lambda: read[0] >= 20_000 or task.done(), "rows read before the cancel")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return read[0]


@pytest.mark.parametrize(
    "how",
    [
        pytest.param(
            "timeout",
            marks=pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout: 3.11"),
        ),
        "cancel-rows",
        "cancel-batches",
    ],
)
def test_a_cancelled_fetch_loop_cancels_its_query_and_close_leaves_no_connection(
    coordinator: CoordinatorProcess, how: str
) -> None:
    uri = coordinator.uri
    assert uri is not None
    before = connections_to(coordinator.port)

    async def body() -> dict[str, Any]:
        conn = await prestoha.aio.connect(hosts=[uri], user="ana", catalog="tpch")
        cur = conn.cursor()
        await cur.execute(BIG)
        query_id = cur.query_id
        assert query_id is not None
        assert _state(uri, query_id) == ("RUNNING", None)
        read = await _cancel_mid_stream(cur, how)
        await until(lambda: _state(uri, query_id)[0] != "RUNNING", "the query to leave RUNNING")
        outcome = {"read": read, "state": _state(uri, query_id)}
        outcome["open"] = connections_to(coordinator.port) - before
        await conn.close()
        outcome["after_close"] = connections_to(coordinator.port) - before
        return outcome

    outcome = run(body())
    assert 0 < outcome["read"] < 6_001_215
    assert outcome["state"] == ("FAILED", "USER_CANCELED")
    assert outcome["open"], "the connection had no connection to its coordinator to close"
    assert outcome["after_close"] == set()


def test_a_task_cancelled_in_its_own_code_cancels_the_query_of_its_cursor_block(
    coordinator: CoordinatorProcess,
) -> None:
    # The loop awaits something of its own between rows: the cancellation may land there,
    # outside the driver; leaving the cursor's `async with` still cancels the query.
    uri = coordinator.uri
    assert uri is not None

    async def body() -> tuple[int, tuple[str, str | None]]:
        async with prestoha.aio.connect(hosts=[uri], user="ana") as conn:
            started: list[str] = []
            read = [0]

            async def loop() -> None:
                async with conn.cursor() as cur:
                    await cur.execute(BIG)
                    assert cur.query_id is not None
                    started.append(cur.query_id)
                    async for _ in cur:
                        read[0] += 1
                        await asyncio.sleep(0)

            task = asyncio.create_task(loop())
            await until(lambda: read[0] >= 5000 or task.done(), "rows read before the cancel")
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            query_id = started[0]
            await until(lambda: _state(uri, query_id)[0] != "RUNNING", "the query to leave RUNNING")
            return read[0], _state(uri, query_id)

    read, state = run(body())
    assert 0 < read < 6_001_215
    assert state == ("FAILED", "USER_CANCELED")
