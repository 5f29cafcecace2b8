"""``prestoha+aio://`` with SQLAlchemy's asyncio extension, on an emulated coordinator process.

Each test runs its coroutine with ``asyncio.run``; the answers of the asynchronous engine are
checked against the synchronous ``prestoha://`` engine on the same coordinator, and against
the tpch schema Trino publishes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import prestoha
import prestoha.aio
from prestoha.sqlalchemy.aio import PrestohaAioDialect
from prestoha.testing._local_processes import CoordinatorProcess

pytestmark = pytest.mark.integration

T = TypeVar("T")

# io.trino.plugin.tpch.TpchMetadata: the nation table of every tpch schema.
NATION_COLUMNS = [
    ("nationkey", "BIGINT"),
    ("name", "VARCHAR(25)"),
    ("regionkey", "BIGINT"),
    ("comment", "VARCHAR(152)"),
]


def _url(coordinator: CoordinatorProcess, driver: str, database: str = "tpch/tiny") -> str:
    return f"{driver}://test@{coordinator.uri.split('://', 1)[1]}/{database}"


@pytest.fixture
def sync_engine(coordinator: CoordinatorProcess) -> Iterator[sa.Engine]:
    engine = sa.create_engine(_url(coordinator, "prestoha"))
    yield engine
    engine.dispose()


def run_with_engine(
    coordinator: CoordinatorProcess,
    body: Callable[[AsyncEngine], Awaitable[T]],
    database: str = "tpch/tiny",
) -> T:
    """``body(engine)`` on a new event loop, the engine disposed on that loop after it."""

    async def main() -> T:
        engine = create_async_engine(_url(coordinator, "prestoha+aio", database))
        try:
            return await body(engine)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _mark() -> str:
    return f"/* t-{uuid.uuid4().hex} */"


def _queries_marked(coordinator: CoordinatorProcess, mark: str) -> list[dict[str, Any]]:
    return [q for q in coordinator.admin.queries() if mark in q["sql"]]


def test_the_url_loads_the_async_dialect(coordinator: CoordinatorProcess) -> None:
    async def body(engine: AsyncEngine) -> Any:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            return engine.dialect, raw.driver_connection

    dialect, driver_connection = run_with_engine(coordinator, body)
    assert isinstance(dialect, PrestohaAioDialect)
    assert dialect.is_async
    assert isinstance(driver_connection, prestoha.aio.AsyncConnection)
    assert driver_connection.closed  # the engine was disposed


@pytest.mark.parametrize(
    ("query", "refused"),
    [("externalAuthentication=true", "OAuth2"), ("cert=/c.pem&key=/k.pem", "Certificate")],
)
def test_an_authentication_prestoha_aio_cannot_send_fails_at_create(
    query: str, refused: str
) -> None:
    url = f"prestoha+aio://u@c1:8443/tpch?http_scheme=https&{query}"
    with pytest.raises(prestoha.NotSupportedError, match=refused):
        create_async_engine(url)
    sa.create_engine(url.replace("prestoha+aio://", "prestoha://")).dispose()  # sync takes it


def test_select_with_parameters_matches_the_sync_engine(
    coordinator: CoordinatorProcess, sync_engine: sa.Engine
) -> None:
    query = sa.text(
        "SELECT n.name, r.name AS region FROM nation n JOIN region r "
        "ON n.regionkey = r.regionkey WHERE n.regionkey = :r ORDER BY n.name"
    )

    async def body(engine: AsyncEngine) -> tuple[list[tuple[Any, ...]], str | None]:
        async with engine.connect() as conn:
            rows = [tuple(r) for r in (await conn.execute(query, {"r": 1})).all()]
            schema = conn.dialect.default_schema_name
        return rows, schema

    rows, schema = run_with_engine(coordinator, body)
    with sync_engine.connect() as conn:
        expected = [tuple(r) for r in conn.execute(query, {"r": 1}).all()]
    assert len(expected) == 5  # tpch: five nations in each of the five regions
    assert rows == expected
    assert schema == "tiny"


def test_reflection_through_run_sync(
    coordinator: CoordinatorProcess, sync_engine: sa.Engine
) -> None:
    def reflect(conn: sa.Connection) -> dict[str, Any]:
        insp = sa.inspect(conn)
        nation = sa.Table("nation", sa.MetaData(), autoload_with=conn)
        return {
            "schemas": insp.get_schema_names(),
            "tables": insp.get_table_names("tiny"),
            "columns": [(c["name"], str(c["type"])) for c in insp.get_columns("nation", "tiny")],
            "has_nation": insp.has_table("nation", "tiny"),
            "has_nothing": insp.has_table("no_such_table", "tiny"),
            "table": [c.name for c in nation.c],
        }

    async def body(engine: AsyncEngine) -> tuple[dict[str, Any], Exception]:
        async with engine.connect() as conn:
            found = await conn.run_sync(reflect)
            try:
                await conn.run_sync(lambda c: sa.inspect(c).get_columns("no_such_table"))
            except Exception as e:  # checked below
                return found, e
        raise AssertionError("get_columns of a missing table raised nothing")

    found, missing = run_with_engine(coordinator, body)
    with sync_engine.connect() as conn:
        expected_tables = sa.inspect(conn).get_table_names("tiny")
    assert found["columns"] == NATION_COLUMNS
    assert found["table"] == [name for name, _ in NATION_COLUMNS]
    assert found["tables"] == expected_tables
    assert {"nation", "region", "lineitem"} <= set(found["tables"])
    assert "tiny" in found["schemas"]
    assert found["has_nation"] is True
    assert found["has_nothing"] is False
    assert isinstance(missing, sa.exc.NoSuchTableError)


def test_a_stream_reads_every_row_page_by_page(
    coordinator: CoordinatorProcess, sync_engine: sa.Engine
) -> None:
    mark = _mark()
    query = f"{mark} SELECT * FROM lineitem ORDER BY orderkey, linenumber"

    async def body(engine: AsyncEngine) -> tuple[int, list[str], list[tuple[Any, ...]]]:
        async with engine.connect() as conn:
            result = await conn.stream(sa.text(query))
            first = [(r.orderkey, r.linenumber) for r in await result.fetchmany(3)]
            # Rows are handed out while the query still runs: nothing waited for its end.
            states = [q["state"] for q in _queries_marked(coordinator, mark)]
            count = 3
            async for partition in result.partitions(5000):
                count += len(partition)
            return count, states, first

    count, states, first = run_with_engine(coordinator, body)
    with sync_engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM lineitem")).scalar()
    assert count == total
    assert states == ["RUNNING"]
    assert first == [(1, 1), (1, 2), (1, 3)]
    assert [q["state"] for q in _queries_marked(coordinator, mark)] == ["FINISHED"]


def test_a_stream_closed_early_cancels_its_query(coordinator: CoordinatorProcess) -> None:
    mark = _mark()

    async def body(engine: AsyncEngine) -> tuple[list[Any], list[tuple[str, str]]]:
        async with engine.connect() as conn:
            result = await conn.stream(sa.text(f"{mark} SELECT * FROM lineitem"))
            rows = await result.fetchmany(10)
            await result.close()
            # Asked while the connection is still open: closing the result did it.
            states = [(q["state"], q["error_name"]) for q in _queries_marked(coordinator, mark)]
        return rows, states

    rows, states = run_with_engine(coordinator, body)
    assert len(rows) == 10
    assert states == [("FAILED", "USER_CANCELED")]


def test_a_timeout_cancels_the_query_and_the_engine_goes_on(
    coordinator: CoordinatorProcess,
) -> None:
    mark = _mark()
    # The query is registered at once, but its first rows are 30 s late.
    coordinator.admin.set_faults(random_latency={"ms": 30_000, "share": 1.0})

    async def body(engine: AsyncEngine) -> tuple[BaseException, int]:
        async with engine.connect() as conn:
            try:
                late = conn.execute(sa.text(f"{mark} SELECT count(*) FROM nation"))
                await asyncio.wait_for(late, 1.0)
            except asyncio.TimeoutError as e:
                caught: BaseException = e
            else:
                raise AssertionError("the late query finished within the timeout")
        coordinator.admin.reset()
        async with engine.connect() as conn:
            after = (await conn.execute(sa.text("SELECT count(*) FROM region"))).scalar_one()
        return caught, after

    caught, after = run_with_engine(coordinator, body)
    assert isinstance(caught, asyncio.TimeoutError)
    assert after == 5
    [query] = _queries_marked(coordinator, mark)
    assert (query["state"], query["error_name"]) == ("FAILED", "USER_CANCELED")


def test_create_insert_and_read_back(coordinator: CoordinatorProcess) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    meta = sa.MetaData()
    events = sa.Table(
        "events",
        meta,
        sa.Column("id", sa.BigInteger),
        sa.Column("kind", sa.String(20)),
    )

    async def body(engine: AsyncEngine) -> tuple[int, list[tuple[Any, ...]], list[str]]:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            await conn.run_sync(lambda c: meta.create_all(c))
            try:
                inserted = await conn.execute(
                    events.insert(), [{"id": i, "kind": f"k{i % 3}"} for i in range(7)]
                )
                rows = await conn.execute(
                    sa.select(events.c.kind, sa.func.count())
                    .group_by(events.c.kind)
                    .order_by(events.c.kind)
                )
                tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
                return inserted.rowcount, [tuple(r) for r in rows], tables
            finally:
                await conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")

    rowcount, counts, tables = run_with_engine(coordinator, body, database=f"lake/{schema}")
    assert rowcount == 7
    assert counts == [("k0", 3), ("k1", 2), ("k2", 2)]
    assert tables == ["events"]


def test_a_transaction_commits_or_rolls_back(coordinator: CoordinatorProcess) -> None:
    # The memory catalog: a transaction's writes are undone by its rollback.
    schema = f"t_{uuid.uuid4().hex[:12]}"

    async def count(engine: AsyncEngine) -> int:
        async with engine.connect() as conn:
            return int((await conn.exec_driver_sql("SELECT count(*) FROM kept")).scalar_one())

    async def body(engine: AsyncEngine) -> tuple[str, list[int]]:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            await conn.exec_driver_sql("CREATE TABLE kept (id bigint)")
        counts = []
        txn = engine.execution_options(isolation_level="READ COMMITTED")
        async with txn.connect() as conn:
            level = await conn.get_isolation_level()
            await conn.exec_driver_sql("INSERT INTO kept VALUES (1), (2)")
            await conn.rollback()
            counts.append(await count(engine))
            await conn.exec_driver_sql("INSERT INTO kept VALUES (3)")
            counts.append(await count(engine))  # not committed yet: not seen elsewhere
            await conn.commit()
        counts.append(await count(engine))
        return level, counts

    level, counts = run_with_engine(coordinator, body, database=f"memory/{schema}")
    assert level == "READ COMMITTED"
    assert counts == [0, 0, 1]
