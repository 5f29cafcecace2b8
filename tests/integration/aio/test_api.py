"""prestoha.aio's surface against one emulated coordinator: the same answers, attributes
and errors as the synchronous driver, awaited."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import trino.auth

import prestoha
import prestoha.aio
from prestoha import errors
from prestoha.testing._local_processes import CoordinatorProcess

from .conftest import run

pytestmark = pytest.mark.integration

NATIONS = "SELECT nationkey, name, regionkey FROM tpch.tiny.nation ORDER BY nationkey"


def _options(coordinator: CoordinatorProcess, **overrides: Any) -> dict[str, Any]:
    return {"hosts": [coordinator.uri], "user": "ana", "catalog": "tpch", "schema": "tiny"} | (
        overrides
    )


def test_execute_and_every_way_to_fetch(coordinator: CoordinatorProcess) -> None:
    with prestoha.connect(**_options(coordinator)) as sync:
        expected = sync.cursor().execute(NATIONS).fetchall()
    assert len(expected) == 25

    async def body() -> None:
        async with prestoha.aio.connect(**_options(coordinator)) as conn:
            cur = conn.cursor()
            assert cur.description is None
            assert await cur.execute(NATIONS) is cur
            desc = cur.description
            assert desc is not None
            assert [(d[0], d[1]) for d in desc] == [
                ("nationkey", "bigint"),
                ("name", "varchar(25)"),
                ("regionkey", "bigint"),
            ]
            assert cur.rowcount == -1
            assert cur.query_id is not None
            assert cur.coordinator == coordinator.uri
            assert await cur.fetchone() == expected[0]
            assert await cur.fetchmany(4) == expected[1:5]
            cur.arraysize = 3
            assert await cur.fetchmany() == expected[5:8]
            assert await cur.fetchall() == expected[8:]
            assert await cur.fetchone() is None
            assert await cur.fetchall() == []
            assert cur.stats is not None and cur.stats["state"] == "FINISHED"

            await cur.execute(NATIONS)
            assert [row async for row in cur] == expected

            await cur.execute(
                "SELECT name FROM nation WHERE regionkey = ? AND nationkey < ?", [1, 3]
            )
            assert await cur.fetchall() == [["ARGENTINA"], ["BRAZIL"]]

            await cur.execute(NATIONS)
            table = await cur.fetch_arrow_table()
            assert isinstance(table, pa.Table)
            assert table.column_names == ["nationkey", "name", "regionkey"]
            assert table.to_pylist() == [
                {"nationkey": k, "name": n, "regionkey": r} for k, n, r in expected
            ]
            await cur.execute(NATIONS)
            assert (await cur.fetchone()) == expected[0]
            stream = cur.fetch_record_batch(10)
            assert stream.schema.names == ["nationkey", "name", "regionkey"]
            assert [b.num_rows async for b in stream] == [10, 10, 4]
            await cur.execute(NATIONS)
            frame = await cur.fetch_df()
            assert isinstance(frame, pd.DataFrame)
            assert frame["name"].tolist() == [n for _, n, _ in expected]
            await cur.execute(NATIONS)
            polars = await cur.fetch_polars()
            assert isinstance(polars, pl.DataFrame)
            assert polars["regionkey"].to_list() == [r for _, _, r in expected]
            await cur.execute(NATIONS)
            assert (await (cur.fetch_record_batch(7)).read_all()).num_rows == 25

            described = await cur.describe("SELECT nationkey, name FROM nation")
            assert [d.name for d in described] == ["nationkey", "name"]

    run(body())


def test_writes_report_their_rowcount(coordinator: CoordinatorProcess) -> None:
    table = f"memory.default.t_{uuid.uuid4().hex[:8]}"

    async def body() -> None:
        async with prestoha.aio.connect(**_options(coordinator)) as conn:
            cur = conn.cursor()
            await cur.execute(f"CREATE TABLE {table} (a bigint, b varchar)")
            await cur.execute(f"INSERT INTO {table} VALUES (1, 'one'), (2, 'two')")
            assert cur.rowcount == 2
            assert cur.update_type == "INSERT"
            await cur.executemany(f"INSERT INTO {table} VALUES (?, ?)", [(3, "c"), (4, "d")])
            assert cur.rowcount == 2
            await cur.execute(f"SELECT count(*), max(a) FROM {table}")
            assert await cur.fetchall() == [[4, 4]]

    run(body())


def test_a_transaction_commits_or_rolls_back_on_its_coordinator(
    coordinator: CoordinatorProcess,
) -> None:
    table = f"memory.default.tx_{uuid.uuid4().hex[:8]}"

    async def body() -> list[list[Any]]:
        async with prestoha.aio.connect(**_options(coordinator)) as conn:
            cur = conn.cursor()
            await cur.execute(f"CREATE TABLE {table} (a bigint)")
            tx = await conn.start_transaction()
            await cur.execute(f"INSERT INTO {table} VALUES 1")
            await tx.rollback()
            with pytest.raises(prestoha.ProgrammingError):
                await tx.commit()  # that transaction is over
            tx = await conn.start_transaction()
            await cur.execute(f"INSERT INTO {table} VALUES 2")
            await tx.commit()
            # and one that `async with` commits when it ends
            await conn.start_transaction()
            await cur.execute(f"INSERT INTO {table} VALUES 3")
        async with prestoha.aio.connect(**_options(coordinator)) as conn:
            cur = conn.cursor()
            await cur.execute(f"SELECT a FROM {table} ORDER BY a")
            return await cur.fetchall()

    assert run(body()) == [[2], [3]]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT nope FROM nation",
        "SELEC 1",
        "SELECT 1 / 0",
        "SELECT * FROM tpch.tiny.no_such_table",
    ],
)
def test_errors_are_those_of_the_sync_driver(coordinator: CoordinatorProcess, sql: str) -> None:
    with prestoha.connect(**_options(coordinator)) as sync, pytest.raises(prestoha.Error) as info:
        sync.cursor().execute(sql).fetchall()
    expected = info.value
    assert isinstance(expected, errors.QueryError)

    async def body() -> tuple[BaseException, int]:
        async with prestoha.aio.connect(**_options(coordinator)) as conn:
            cur = conn.cursor()
            with pytest.raises(prestoha.Error) as info:
                await cur.execute(sql)
                await cur.fetchall()
            return info.value, len(cur.attempts)

    got, attempts = run(body())
    assert type(got) is type(expected)
    assert isinstance(got, errors.QueryError)
    assert (got.error_name, got.error_type) == (expected.error_name, expected.error_type)
    assert attempts == 1  # the query itself failed: never retried


def test_bad_sql_is_a_user_error(coordinator: CoordinatorProcess) -> None:
    async def body() -> None:
        async with prestoha.aio.connect(**_options(coordinator)) as conn:
            with pytest.raises(errors.UserError) as info:
                await conn.cursor().execute("SELECT nope FROM nation")
            assert info.value.error_name == "COLUMN_NOT_FOUND"
            assert isinstance(info.value, conn.Error)

    run(body())


def test_async_with_closes_the_connection_and_its_cursors(
    coordinator: CoordinatorProcess,
) -> None:
    async def body() -> None:
        async with prestoha.aio.connect(**_options(coordinator)) as conn:
            async with conn.cursor() as cur:
                await cur.execute("SELECT 1")
                assert await cur.fetchall() == [[1]]
            with pytest.raises(prestoha.InterfaceError):
                await cur.execute("SELECT 1")
            other = conn.cursor()
            assert not conn.closed
        assert conn.closed
        with pytest.raises(prestoha.InterfaceError):
            await other.execute("SELECT 1")
        with pytest.raises(prestoha.InterfaceError):
            conn.cursor()
        await conn.close()  # twice is fine

        conn = await prestoha.aio.connect(**_options(coordinator))
        await conn.close()
        assert conn.closed

    run(body())


def test_running_an_async_connections_query_synchronously_is_a_clear_error(
    coordinator: CoordinatorProcess,
) -> None:
    async def body() -> None:
        async with prestoha.aio.connect(**_options(coordinator)) as conn:
            # The connection's synchronous core: what a caller that does not await reaches.
            with pytest.raises(prestoha.InterfaceError) as info:
                conn._core.cursor().execute("SELECT 1")
            assert "prestoha.connect()" in str(info.value)
            assert "await" in str(info.value)
            cur = conn.cursor()  # the connection is still good for awaited queries
            await cur.execute("SELECT 1")
            assert await cur.fetchall() == [[1]]

    run(body())


def test_auth_the_async_client_cannot_send_is_refused_at_connect(
    coordinator: CoordinatorProcess,
) -> None:
    https = _options(coordinator, hosts=["https://c1:8443"])
    cert = trino.auth.CertificateAuthentication("client.pem", "client.key")
    with pytest.raises(prestoha.NotSupportedError) as info:
        prestoha.aio.connect(**https, auth=cert)
    assert "CertificateAuthentication" in str(info.value)
    # the ones it can send are taken
    basic = trino.auth.BasicAuthentication("ana", "secret")
    jwt = trino.auth.JWTAuthentication("token")
    for auth in (basic, jwt):
        connecting = prestoha.aio.connect(**https, auth=auth)
        assert connecting is not None


def test_a_bad_option_fails_at_connect_before_anything_is_awaited(
    coordinator: CoordinatorProcess,
) -> None:
    with pytest.raises(prestoha.ConfigurationError) as info:
        prestoha.aio.connect(**_options(coordinator), mode="primary")
    assert info.value.option == "mode"
    with pytest.raises(prestoha.ConfigurationError) as info:
        prestoha.aio.connect(**_options(coordinator), prefetch="lots")
    assert info.value.option == "prefetch"
    with pytest.raises(prestoha.ConfigurationError):
        prestoha.aio.connect(hosts=["not a url at all"])
