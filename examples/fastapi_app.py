"""A FastAPI app on ``prestoha.aio``: one connection for the app, a query per request.

    pip install 'prestoha[aio]' fastapi uvicorn
    PRESTOHA_ZK=127.0.0.1:2181 uvicorn examples.fastapi_app:app
    curl http://127.0.0.1:8000/regions/europe/nations

The connection is opened when the app starts and closed when it stops (its lifespan); every
request opens a cursor on it. A query that outlives ``QUERY_TIMEOUT`` is cancelled on its
coordinator and the client gets a 504. A coordinator that dies under a request is the
driver's business: the read goes on elsewhere (docs/async.md).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request

import prestoha
import prestoha.aio

#: Seconds a request may wait for its query.
QUERY_TIMEOUT = float(os.environ.get("QUERY_TIMEOUT", "10"))

NATIONS = (
    "SELECT n.name FROM nation n JOIN region r ON n.regionkey = r.regionkey "
    "WHERE r.name = ? ORDER BY n.name"
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with prestoha.aio.connect(
        zk=os.environ.get("PRESTOHA_ZK", "127.0.0.1:2181"),
        cluster=os.environ.get("PRESTOHA_CLUSTER", "default"),
        user="fastapi-example",
        catalog="tpch",
        schema="tiny",
    ) as conn:
        app.state.trino = conn
        yield


app = FastAPI(lifespan=lifespan)


async def query(conn: prestoha.aio.AsyncConnection, sql: str, params: list[Any]) -> list[Any]:
    async with conn.cursor() as cur:
        await cur.execute(sql, params)
        return await cur.fetchall()


@app.get("/regions/{region}/nations")
async def nations(region: str, request: Request) -> dict[str, Any]:
    conn: prestoha.aio.AsyncConnection = request.app.state.trino
    try:
        # On timeout the task running the query is cancelled, which cancels the query.
        rows = await asyncio.wait_for(query(conn, NATIONS, [region.upper()]), QUERY_TIMEOUT)
    except asyncio.TimeoutError:
        raise HTTPException(504, f"the query took more than {QUERY_TIMEOUT:g} s") from None
    except prestoha.NoCoordinatorError as e:
        raise HTTPException(503, str(e)) from None
    if not rows:
        raise HTTPException(404, f"no region named {region!r}")
    return {"region": region.upper(), "nations": [name for (name,) in rows]}
