"""Columnar reads against a coordinator process: batches, DataFrames, early stop, mixing."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import prestoha
from prestoha.testing._local_processes import CoordinatorProcess

from .conftest import wait_until

pytestmark = pytest.mark.integration

BIG = "SELECT orderkey, comment FROM tpch.sf1.lineitem"  # 6M rows
#: Rows of (bigint, varchar, double, timestamp(3)), as the benchmarks read them.
STREAM = (
    "SELECT id, concat('row-', CAST(id AS varchar)) AS name, CAST(id AS double) AS value, "
    "TIMESTAMP '2024-01-01 00:00:00.000' + id * INTERVAL '1' SECOND AS ts "
    "FROM (SELECT a.i * 1000 + b.j AS id FROM UNNEST(sequence(0, 59)) AS a(i) "
    "CROSS JOIN UNNEST(sequence(0, 999)) AS b(j)) AS t ORDER BY id"
)
ROWS = 60_000


def _canceled(coordinator: CoordinatorProcess, query_id: str) -> bool:
    for q in coordinator.admin.queries():
        if q["query_id"] == query_id:
            return (q["state"], q.get("error_name")) == ("FAILED", "USER_CANCELED")
    raise AssertionError(f"{query_id} unknown to the coordinator")


def _expected_ts(i: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1) + dt.timedelta(seconds=i)


def test_a_table_holds_every_row_with_the_types_of_its_columns(conn: prestoha.Connection) -> None:
    table = conn.cursor().execute(STREAM).fetch_arrow_table()
    assert table.schema == pa.schema(
        [("id", pa.int64()), ("name", pa.string()), ("value", pa.float64()),
         ("ts", pa.timestamp("ms"))]
    )  # fmt: skip
    assert table.num_rows == ROWS
    assert table.column("id").to_pylist() == list(range(ROWS))
    assert table.column("name").to_pylist()[-1] == f"row-{ROWS - 1}"
    assert table.column("ts").to_pylist()[12_345] == _expected_ts(12_345)


def test_the_same_values_as_the_row_path(conn: prestoha.Connection) -> None:
    rows = conn.cursor().execute(STREAM).fetchall()
    table = conn.cursor().execute(STREAM).fetch_arrow_table()
    assert [list(r) for r in zip(*(c.to_pylist() for c in table.columns), strict=True)] == rows


@pytest.mark.parametrize("size", [1, 7_000, 25_000, 100_000])
def test_record_batches_have_the_size_asked_for(conn: prestoha.Connection, size: int) -> None:
    reader = conn.cursor().execute(STREAM).fetch_record_batch(size)
    sizes = [b.num_rows for b in reader] if size > 1 else None
    if sizes is None:  # one row at a time: only the start, the whole would be slow
        return
    assert sizes == [size] * (ROWS // size) + ([ROWS % size] if ROWS % size else [])


def test_one_row_batches_hand_out_row_after_row(conn: prestoha.Connection) -> None:
    reader = conn.cursor().execute(STREAM).fetch_record_batch(1)
    first = [reader.read_next_batch() for _ in range(5)]
    assert [b.num_rows for b in first] == [1] * 5
    assert [b.column(0)[0].as_py() for b in first] == [0, 1, 2, 3, 4]


def test_rows_read_then_batches_go_on_from_the_next_row(conn: prestoha.Connection) -> None:
    cur = conn.cursor().execute(STREAM)
    head = cur.fetchmany(10)
    rest = cur.fetch_arrow_table()
    assert [r[0] for r in head] == list(range(10))
    assert rest.column("id").to_pylist() == list(range(10, ROWS))
    assert rest.column("ts").to_pylist()[-1] == _expected_ts(ROWS - 1)


def test_batches_then_rows_go_on_from_the_next_row(conn: prestoha.Connection) -> None:
    cur = conn.cursor().execute(STREAM)
    reader = cur.fetch_record_batch(20_000)
    assert reader.read_next_batch().num_rows == 20_000
    rows = cur.fetchmany(5)
    assert rows == [[i, f"row-{i}", float(i), _expected_ts(i)] for i in range(20_000, 20_005)]
    assert cur.fetch_arrow_table().column("id").to_pylist() == list(range(20_005, ROWS))


def test_pandas_and_polars_frames(conn: prestoha.Connection) -> None:
    df = conn.cursor().execute(STREAM).fetch_df()
    assert len(df) == ROWS
    assert str(df["ts"].dtype) == "datetime64[ms]"
    assert df["id"].dtype == "int64"
    arrow_backed = conn.cursor().execute(STREAM).fetch_df(types_mapper=pd.ArrowDtype)  # type: ignore[attr-defined]
    assert str(arrow_backed["ts"].dtype) == "timestamp[ms][pyarrow]"
    frame = conn.cursor().execute(STREAM).fetch_polars()
    assert isinstance(frame, pl.DataFrame)
    assert frame.shape == (ROWS, 4)
    assert frame.schema["ts"] == pl.Datetime("ms")
    assert frame["value"].sum() == sum(range(ROWS))


def test_an_empty_result_has_its_schema(conn: prestoha.Connection) -> None:
    table = (
        conn.cursor().execute("SELECT nationkey, name FROM nation WHERE false").fetch_arrow_table()
    )
    assert table.num_rows == 0
    assert table.schema.names == ["nationkey", "name"]
    assert table.schema.field("nationkey").type == pa.int64()


def test_closing_the_reader_early_cancels_the_query(
    coordinator: CoordinatorProcess, conn: prestoha.Connection
) -> None:
    cur = conn.cursor()
    reader = cur.execute(BIG).fetch_record_batch(50_000)
    assert reader.read_next_batch().num_rows == 50_000
    query_id = cur.query_id
    assert query_id is not None
    reader.close()
    del reader
    wait_until(lambda: _canceled(coordinator, query_id), 10.0, "the query to be canceled")


def test_dataframe_chunks_come_through_arrow(conn: prestoha.Connection) -> None:
    frames = list(conn.cursor().execute(STREAM).fetch_df_chunks(25_000))
    assert [len(f) for f in frames] == [25_000, 25_000, 10_000]
    assert str(frames[0]["ts"].dtype) == "datetime64[ms]"  # a column, not Python objects
    assert frames[2]["id"].iloc[-1] == ROWS - 1
