"""pandas' SQL contract through ``prestoha://`` (after pandas' own test_sql.py, which cannot
take a third-party engine): read_sql, read_sql_query, read_sql_table, to_sql, chunksize, dtypes.
"""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

import prestoha
from prestoha.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration

MakeEngine = Callable[..., sa.Engine]
NATIONS = "SELECT nationkey, name, regionkey FROM nation ORDER BY nationkey"


def test_read_sql_query(make_engine: MakeEngine) -> None:
    frame = pd.read_sql_query(NATIONS, make_engine())
    assert list(frame.columns) == ["nationkey", "name", "regionkey"]
    assert len(frame) == 25
    assert frame.iloc[0].tolist() == [0, "ALGERIA", 0]
    assert frame["nationkey"].tolist() == list(range(25))


def test_read_sql_delegate_sends_only_the_query(
    make_engine: MakeEngine, record_statements: Callable[[sa.Engine], Any]
) -> None:
    engine = make_engine()
    sent = record_statements(engine)
    by_string = pd.read_sql(NATIONS, engine)
    by_text = pd.read_sql(sa.text(NATIONS), engine)
    # pandas asks has_table(<the SQL>) first; the dialect answers without a query
    assert sent.sent == [NATIONS, NATIONS]
    pd.testing.assert_frame_equal(by_string, by_text)
    pd.testing.assert_frame_equal(by_string, pd.read_sql_query(NATIONS, engine))


def test_read_sql_with_a_table_name_and_read_sql_table(make_engine: MakeEngine) -> None:
    engine = make_engine()
    table = pd.read_sql("nation", engine)
    assert len(table) == 25
    assert list(table.columns) == ["nationkey", "name", "regionkey", "comment"]
    regions = pd.read_sql_table("region", engine, schema="tiny", columns=["regionkey", "name"])
    assert sorted(regions["name"]) == ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
    with pytest.raises(ValueError, match="not found"):
        pd.read_sql_table("no_such_table", engine)


def test_parameters(make_engine: MakeEngine) -> None:
    engine = make_engine()
    qmark = pd.read_sql_query(
        "SELECT name FROM nation WHERE regionkey = ? ORDER BY name", engine, params=(1,)
    )
    named = pd.read_sql_query(
        sa.text("SELECT name FROM nation WHERE regionkey = :r ORDER BY name"),
        engine,
        params={"r": 1},
    )
    assert qmark["name"].tolist() == ["ARGENTINA", "BRAZIL", "CANADA", "PERU", "UNITED STATES"]
    pd.testing.assert_frame_equal(qmark, named)


def test_api_chunksize_read(make_engine: MakeEngine) -> None:
    engine = make_engine()
    chunks = list(pd.read_sql_query(NATIONS, engine, chunksize=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    whole = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(whole, pd.read_sql_query(NATIONS, engine))
    assert [len(c) for c in pd.read_sql("nation", engine, chunksize=20)] == [20, 5]


def test_api_read_sql_with_chunksize_no_result(make_engine: MakeEngine) -> None:
    chunks = list(
        pd.read_sql_query(
            "SELECT nationkey, name FROM nation WHERE 1 = 0", make_engine(), chunksize=5
        )
    )
    assert len(chunks) == 1
    assert chunks[0].empty
    assert list(chunks[0].columns) == ["nationkey", "name"]


def test_abandoned_chunk_generator_returns_its_connection(make_engine: MakeEngine) -> None:
    engine = make_engine()
    chunks = pd.read_sql_query(
        "SELECT orderkey, custkey FROM orders ORDER BY orderkey", engine, chunksize=100
    )
    first = next(chunks)
    assert first["orderkey"].tolist()[:3] == [1, 2, 3]
    assert engine.pool.checkedout() == 1
    chunks.close()  # stops early: the query is cancelled and the connection goes back
    assert engine.pool.checkedout() == 0
    # the returned connection works
    assert pd.read_sql_query("SELECT count(*) AS n FROM orders", engine)["n"][0] == 15000


# One value of each Trino type, and how pandas holds it (pandas' defaults: coerce_float=True).
TYPES: list[tuple[str, str, str, Any]] = [
    ("b", "true", "bool", True),
    ("ti", "CAST(1 AS TINYINT)", "int64", 1),
    ("si", "CAST(2 AS SMALLINT)", "int64", 2),
    ("i", "3", "int64", 3),
    ("bi", "CAST(4 AS BIGINT)", "int64", 4),
    ("r", "CAST(1.5 AS REAL)", "float64", 1.5),
    ("d", "CAST(2.5 AS DOUBLE)", "float64", 2.5),
    ("dec", "CAST(3.25 AS DECIMAL(10, 2))", "float64", 3.25),
    ("v", "'x'", "str", "x"),
    ("c", "CAST('ab' AS CHAR(3))", "str", "ab "),
    ("vb", "X'0102'", "object", b"\x01\x02"),
    ("dt", "DATE '2026-01-02'", "object", datetime.date(2026, 1, 2)),
    ("tm", "TIME '10:11:12.123'", "object", datetime.time(10, 11, 12, 123000)),
    ("ts", "TIMESTAMP '2026-01-02 03:04:05.123'", "datetime64[us]",
     pd.Timestamp("2026-01-02 03:04:05.123")),
    ("ts6", "TIMESTAMP '2026-01-02 03:04:05.123456'", "datetime64[us]",
     pd.Timestamp("2026-01-02 03:04:05.123456")),
    ("tstz", "TIMESTAMP '2026-01-02 03:04:05.123 UTC'", "datetime64[us, UTC]",
     pd.Timestamp("2026-01-02 03:04:05.123", tz="UTC")),
    ("j", """JSON '{"a":1}'""", "str", '{"a":1}'),
    ("u", "UUID '12151fd2-7586-11e9-8f9e-2a86e4085a59'", "object",
     uuid.UUID("12151fd2-7586-11e9-8f9e-2a86e4085a59")),
    ("arr", "ARRAY[1, 2]", "object", [1, 2]),
    ("m", "MAP(ARRAY['k'], ARRAY[1])", "object", {"k": 1}),
    ("rw", "ROW(1, 'a')", "object", (1, "a")),
    ("ids", "INTERVAL '2' DAY", "timedelta64[us]", pd.Timedelta(days=2)),
    ("nb", "CAST(NULL AS BIGINT)", "object", None),
    ("nv", "CAST(NULL AS VARCHAR)", "object", None),
]  # fmt: skip


def test_dtypes_for_each_trino_type(make_engine: MakeEngine) -> None:
    sql = "SELECT " + ", ".join(f"{expr} AS {name}" for name, expr, _, _ in TYPES)
    frame = pd.read_sql_query(sql, make_engine())
    for name, _, dtype, value in TYPES:
        assert str(frame[name].dtype) == dtype, name
        assert frame[name][0] == value if value is not None else frame[name][0] is None, name
    exact = pd.read_sql_query(
        "SELECT CAST(3.25 AS DECIMAL(10, 2)) AS dec", make_engine(), coerce_float=False
    )
    assert exact["dec"][0] == decimal.Decimal("3.25")
    nulls = pd.read_sql_query(
        "SELECT x FROM (VALUES 1, NULL, 3) AS t(x) ORDER BY x NULLS LAST", make_engine()
    )
    assert str(nulls["x"].dtype) == "float64"
    assert math.isnan(nulls["x"][2])


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(n),
            "amount": [i * 1.25 for i in range(n)],
            "label": [f"row {i}" for i in range(n)],
            "flag": [i % 2 == 0 for i in range(n)],
            "at": pd.date_range("2026-01-01", periods=n, freq="h").astype("datetime64[us]"),
        }
    )


@pytest.mark.parametrize("catalog", ["lake", "memory"])
@pytest.mark.parametrize("method", [None, "multi"])
def test_to_sql_round_trip(
    make_engine: MakeEngine,
    record_statements: Callable[[sa.Engine], Any],
    catalog: str,
    method: str | None,
) -> None:
    engine = make_engine(catalog, "default")
    name = f"frame_{uuid.uuid4().hex[:10]}"
    frame = _frame(23)
    sent = record_statements(engine)
    try:
        written = frame.to_sql(name, engine, index=False, method=method, chunksize=10)
        assert written == 23
        inserts = [s for s in sent.sent if s.startswith("INSERT")]
        assert len(inserts) == 3  # one multi-row INSERT per chunk of 10, either way
        back = pd.read_sql_query(f"SELECT * FROM {name} ORDER BY id", engine)
        pd.testing.assert_frame_equal(back, frame)
        # append and replace
        frame.head(3).to_sql(name, engine, index=False, if_exists="append", method=method)
        assert pd.read_sql_query(f"SELECT count(*) AS n FROM {name}", engine)["n"][0] == 26
        frame.head(2).to_sql(name, engine, index=False, if_exists="replace", method=method)
        assert pd.read_sql_query(f"SELECT count(*) AS n FROM {name}", engine)["n"][0] == 2
        with pytest.raises(ValueError, match="already exists"):
            frame.to_sql(name, engine, index=False)
    finally:
        with engine.begin() as con:
            con.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def test_to_sql_float32_goes_into_real(make_engine: MakeEngine) -> None:
    engine = make_engine("lake", "default")
    name = f"f32_{uuid.uuid4().hex[:10]}"
    frame = pd.DataFrame({"x": pd.Series([0.5, 1.25, -2.0], dtype="float32")})
    try:
        frame.to_sql(name, engine, index=False)
        types = pd.read_sql_query(
            f"SELECT data_type FROM information_schema.columns WHERE table_name = '{name}'",
            engine,
        )
        assert types["data_type"].tolist() == ["real"]
        back = pd.read_sql_query(f"SELECT x FROM {name} ORDER BY x", engine)
        assert back["x"].tolist() == [-2.0, 0.5, 1.25]
    finally:
        with engine.begin() as con:
            con.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def test_con_unknown_dbapi2_class_warns_and_works(local_cluster: LocalCluster) -> None:
    with (
        prestoha.connect(**local_cluster.connect_kwargs()) as conn,
        pytest.warns(UserWarning, match="pandas only supports SQLAlchemy"),
    ):
        frame = pd.read_sql(NATIONS, conn)
    assert len(frame) == 25
