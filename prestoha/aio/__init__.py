"""prestoha for asyncio: ``await prestoha.aio.connect(...)``, the same failover driver.

The options, the failure taxonomy, resubmission, verified replay, routing, hedging and
paging are those of :func:`prestoha.connect`, run by the same execution core: only the
waiting differs (see docs/async.md). Needs ``pip install 'prestoha[aio]'`` (aiohttp).

    async with prestoha.aio.connect(hosts=["http://c1:8080", "http://c2:8080"]) as conn:
        cur = conn.cursor()
        await cur.execute("SELECT count(*) FROM tpch.tiny.orders")
        print(await cur.fetchone())
"""

from __future__ import annotations

from prestoha.aio._connection import AsyncConnection, AsyncTransaction, connect
from prestoha.aio._cursor import AsyncCursor, RecordBatchStream

__all__ = ["AsyncConnection", "AsyncCursor", "AsyncTransaction", "RecordBatchStream", "connect"]
