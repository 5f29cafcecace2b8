"""SQLAlchemy, pandas and the CLI with ``protocol=presto`` on the session's PrestoDB-flavor cluster.

Reflection goes through PrestoDB's ``information_schema`` (``InformationSchemaMetadata``:
``schemata``, ``tables``, ``columns`` with a ``comment`` column, ``views``). PrestoDB has no
``system.metadata.table_comments`` (Trino's ``TableCommentSystemTable``; PrestoDB's
``SystemTablesModule`` binds none): the dialect does not ask for it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

from prestoha.testing.cluster import LocalCluster
from prestoha.testing.coordinator import EmulatorAdmin

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(prestodb_local_cluster: LocalCluster) -> Iterator[sa.Engine]:
    url = prestodb_local_cluster.sqlalchemy_url()  # tpch.tiny
    assert "protocol=presto" in url
    eng = sa.create_engine(url)
    yield eng
    eng.dispose()


def sent(cluster: LocalCluster) -> list[str]:
    """Every statement the cluster's coordinators received."""
    return [q["sql"] for uri in cluster.coordinators for q in EmulatorAdmin(uri).queries()]


def test_reflection(engine: sa.Engine) -> None:
    insp = sa.inspect(engine)
    assert {"tiny", "sf1", "information_schema"} <= set(insp.get_schema_names())
    assert set(insp.get_table_names()) == {
        "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier",
    }  # fmt: skip
    assert insp.has_table("nation") and not insp.has_table("no_such_table")
    columns = [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns("nation")]
    assert columns == [
        ("nationkey", "BIGINT", False),
        ("name", "VARCHAR(25)", False),
        ("regionkey", "BIGINT", False),
        ("comment", "VARCHAR(152)", False),
    ]
    with pytest.raises(sa.exc.NoSuchTableError):
        insp.get_columns("no_such_table")


def test_table_comments_are_not_read_from_a_table_prestodb_lacks(
    engine: sa.Engine, prestodb_local_cluster: LocalCluster
) -> None:
    insp = sa.inspect(engine)
    assert insp.get_table_comment("region") == {"text": None}
    with pytest.raises(sa.exc.NoSuchTableError):
        insp.get_table_comment("no_such_table")
    assert not any("table_comments" in sql for sql in sent(prestodb_local_cluster))


def test_reflected_table_and_core_select(engine: sa.Engine) -> None:
    region = sa.Table("region", sa.MetaData(), autoload_with=engine)
    query = sa.select(region.c.name).where(region.c.regionkey == 2)
    with engine.connect() as con:
        assert con.execute(query).scalar_one() == "ASIA"
        bound = sa.text("SELECT name FROM region WHERE regionkey = :k")
        assert con.execute(bound, {"k": 1}).scalar_one() == "AMERICA"


def test_pandas(engine: sa.Engine) -> None:
    frame = pd.read_sql(
        "SELECT regionkey, name, ARRAY[regionkey] AS ks FROM region ORDER BY regionkey", engine
    )
    assert list(frame["name"]) == ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
    assert list(frame["ks"]) == [[0], [1], [2], [3], [4]]
    assert list(pd.read_sql_table("region", engine)["regionkey"]) == [0, 1, 2, 3, 4]


def test_cli_query(prestodb_local_cluster: LocalCluster) -> None:
    sql = (
        "SELECT name, MAP(ARRAY['k'], ARRAY[regionkey]) AS m, "
        "CAST(ROW(regionkey, name) AS ROW(k bigint, n varchar)) AS r "
        "FROM region ORDER BY regionkey LIMIT 2"
    )
    hosts = ",".join(prestodb_local_cluster.coordinators)
    args = ["query", "--protocol", "presto", "--hosts", hosts, "--user", "cli"]
    args += ["--catalog", "tpch", "--schema", "tiny", "--format", "json", sql]
    done = subprocess.run(
        [sys.executable, "-m", "prestoha", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines == [
        {"name": "AFRICA", "m": {"k": 0}, "r": [0, "AFRICA"]},
        {"name": "AMERICA", "m": {"k": 1}, "r": [1, "AMERICA"]},
    ]
