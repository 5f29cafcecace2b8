"""``prestoha+aio://`` through ZooKeeper: a stream and reflection across a leader SIGKILL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from prestoha.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration

QUERY = "SELECT orderkey, linenumber, comment FROM lineitem ORDER BY orderkey, linenumber"


def _aio(url: str) -> str:
    return url.replace("prestoha://", "prestoha+aio://", 1)


def test_a_stream_and_reflection_survive_a_leader_kill(
    local_cluster: LocalCluster,
    make_engine: Callable[..., sa.Engine],
    url_for: Callable[..., str],
) -> None:
    url = url_for("tpch", "tiny")
    with make_engine(url).connect() as conn:
        expected = [tuple(r) for r in conn.execute(sa.text(QUERY))]
        expected_columns = sa.inspect(conn).get_columns("orders")
    leader = local_cluster.index(local_cluster.wait_for_leader(30).node_id)

    async def main() -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
        engine = create_async_engine(_aio(url))
        sa.event.listen(engine.sync_engine, "after_cursor_execute", lambda *a: cursors.append(a[1]))
        try:
            async with engine.connect() as conn:
                result = await conn.stream(sa.text(QUERY))
                rows = [tuple(r) for r in await result.fetchmany(1000)]
                # The stream's query runs on the leader (mode=leader): it dies under it.
                await asyncio.to_thread(local_cluster.kill, leader)
                async for partition in result.partitions(4096):
                    rows.extend(tuple(r) for r in partition)
                columns = await conn.run_sync(lambda c: sa.inspect(c).get_columns("orders"))
            return rows, columns
        finally:
            await engine.dispose()

    cursors: list[Any] = []
    rows, columns = asyncio.run(main())
    assert rows == expected
    # The stream's query was resubmitted to another coordinator, its first rows verified.
    assert len(cursors[0].attempts) >= 2, cursors[0].attempts
    assert [(c["name"], str(c["type"])) for c in columns] == [
        (c["name"], str(c["type"])) for c in expected_columns
    ]
    assert local_cluster.wait_for_leader(30).node_id != local_cluster.node_ids[leader]
