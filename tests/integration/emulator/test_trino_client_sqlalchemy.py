"""trino's ``trino://`` SQLAlchemy dialect and pandas against the emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(coordinator: Coordinator) -> Iterator[sa.Engine]:
    eng = sa.create_engine(f"trino://tester@127.0.0.1:{coordinator.port}/memory/default")
    with eng.begin() as con:
        con.execute(sa.text("CREATE TABLE people (id bigint, name varchar(20), score double)"))
        con.execute(sa.text("INSERT INTO people VALUES (1, 'ann', 1.5), (2, 'bob', 2.5)"))
    yield eng
    eng.dispose()


def test_inspector(engine: sa.Engine) -> None:
    insp = sa.inspect(engine)
    assert "default" in insp.get_schema_names()
    assert "people" in insp.get_table_names("default")
    columns = {c["name"]: c for c in insp.get_columns("people", "default")}
    assert list(columns) == ["id", "name", "score"]
    assert isinstance(columns["id"]["type"], sa.BigInteger)
    assert isinstance(columns["name"]["type"], sa.String)
    assert columns["name"]["type"].length == 20
    assert isinstance(columns["score"]["type"], sa.Float)
    assert insp.has_table("people", "default")
    assert not insp.has_table("nobody", "default")


def test_reflected_table_select(engine: sa.Engine) -> None:
    people = sa.Table("people", sa.MetaData(), autoload_with=engine)
    with engine.connect() as con:
        rows = con.execute(sa.select(people.c.name).where(people.c.id == 2)).fetchall()
    assert [tuple(r) for r in rows] == [("bob",)]


def test_pandas_read_sql(engine: sa.Engine) -> None:
    frame = pd.read_sql(sa.text("SELECT id, name, score FROM people ORDER BY id"), engine)
    assert frame.to_dict("list") == {"id": [1, 2], "name": ["ann", "bob"], "score": [1.5, 2.5]}
    chunks = list(
        pd.read_sql(sa.text("SELECT nationkey FROM tpch.tiny.nation"), engine, chunksize=10)
    )
    assert [len(c) for c in chunks] == [10, 10, 5]
