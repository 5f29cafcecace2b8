"""Columnar reads across a coordinator lost mid-stream: real processes, real SIGKILL."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pytest

import prestoha
from prestoha.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration

Connect = Callable[..., prestoha.Connection]

ORDERED = (
    "SELECT orderkey, custkey, totalprice, orderdate FROM tpch.sf1.orders "
    "ORDER BY orderkey LIMIT 1000000"
)


def _table(reader: pa.RecordBatchReader, out: list[pa.RecordBatch]) -> pa.Table:
    out.extend(reader)
    return pa.Table.from_batches(out, schema=reader.schema).combine_chunks()


@pytest.mark.slow
@pytest.mark.parametrize("rows_first", [0, 1234], ids=["batches", "rows-then-batches"])
def test_kill_mid_stream_resumes_the_batches_with_exactly_the_fault_free_rows(
    healthy: LocalCluster, connect: Connect, rows_first: int
) -> None:
    cur = connect().cursor()
    expected = cur.execute(ORDERED).fetch_arrow_table().combine_chunks()
    assert expected.num_rows == 1_000_000

    cur.execute(ORDERED)
    head = cur.fetchmany(rows_first) if rows_first else []
    reader = cur.fetch_record_batch(100_000)
    got = [reader.read_next_batch() for _ in range(3)]
    served_by = cur.coordinator
    assert served_by is not None
    healthy.kill(healthy.coordinators.index(served_by))
    table = _table(reader, got)

    assert [r[0] for r in head] == expected.column(0).to_pylist()[:rows_first]
    assert [b.num_rows for b in got[:-1]] == [100_000] * (len(got) - 1)
    assert table.equals(expected.slice(rows_first))
    assert cur.coordinator != served_by
    assert len(cur.attempts) >= 2


def test_batches_of_an_unordered_read_that_comes_back_different_raise_diverged(
    healthy: LocalCluster, connect: Connect
) -> None:
    cur = connect().cursor()
    cur.execute("SELECT orderkey FROM tpch.sf1.orders ORDER BY random() LIMIT 1000000")
    reader = cur.fetch_record_batch(10_000)
    assert reader.read_next_batch().num_rows == 10_000
    served_by = cur.coordinator
    assert served_by is not None
    healthy.kill(healthy.coordinators.index(served_by))
    handed = 10_000
    with pytest.raises(prestoha.ResultDivergedError) as info:
        for batch in reader:
            handed += batch.num_rows
    assert info.value.rows_compared % 10_000 == 0
    assert handed < 1_000_000
