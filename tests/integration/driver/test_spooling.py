"""The spooling protocol (result segments) gives the same rows and fails over the same way."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

import prestoha
from prestoha.testing._local_processes import CoordinatorProcess
from prestoha.testing.cluster import LocalCluster
from prestoha.testing.coordinator import EmulatorAdmin

pytestmark = pytest.mark.integration

ORDERED = (
    "SELECT orderkey, custkey, totalprice, orderdate, comment FROM tpch.sf1.orders "
    "ORDER BY orderkey LIMIT {n}"
)


def _digest(cur: prestoha.Cursor) -> tuple[int, str]:
    h = hashlib.sha256()
    n = 0
    for batch in cur.iter_batches(50_000):
        n += len(batch)
        for row in batch:
            h.update(repr(row).encode())
    return n, h.hexdigest()


@pytest.fixture
def spooling(coordinator: CoordinatorProcess) -> Iterator[CoordinatorProcess]:
    coordinator.admin.set_faults(spooling=True)
    yield coordinator
    coordinator.admin.reset()


def _read(uri: str, sql: str, encoding: str | None) -> tuple[tuple[int, str], int]:
    conn = prestoha.connect(hosts=[uri], user="ana", encoding=encoding)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        result = _digest(cur)
        return result, cur.segment_bytes
    finally:
        conn.close()


@pytest.mark.slow
def test_a_million_rows_as_zstd_segments_match_the_direct_protocol(
    spooling: CoordinatorProcess,
) -> None:
    sql = ORDERED.format(n=1_000_000)
    plain, plain_segments = _read(spooling.uri, sql, None)
    spooled, segment_bytes = _read(spooling.uri, sql, "json+zstd")
    assert plain[0] == 1_000_000
    assert plain_segments == 0
    assert segment_bytes > 0
    assert spooled == plain


@pytest.mark.parametrize("encoding", ["json", "json+lz4"])
def test_other_encodings_match_the_direct_protocol(
    spooling: CoordinatorProcess, encoding: str
) -> None:
    sql = ORDERED.format(n=100_000)
    plain, _ = _read(spooling.uri, sql, None)
    spooled, segment_bytes = _read(spooling.uri, sql, encoding)
    assert segment_bytes > 0
    assert spooled == plain


def test_failover_mid_stream_with_segments(local_cluster: LocalCluster) -> None:
    for uri in local_cluster.coordinators:
        EmulatorAdmin(uri).set_faults(spooling=True)
    sql = ORDERED.format(n=250_000)
    conn = prestoha.connect(**local_cluster.connect_kwargs(), encoding="json+zstd")
    try:
        cur = conn.cursor()
        cur.execute(sql)
        expected = _digest(cur)
        cur.execute(sql)
        first: list[Any] = cur.fetchmany(80_000)
        served_by = cur.coordinator
        assert served_by is not None
        local_cluster.kill(local_cluster.coordinators.index(served_by))
        h = hashlib.sha256()
        for row in first:
            h.update(repr(row).encode())
        n = len(first)
        for batch in cur.iter_batches(50_000):
            n += len(batch)
            for row in batch:
                h.update(repr(row).encode())
        assert (n, h.hexdigest()) == expected
        assert cur.coordinator != served_by
        assert cur.segment_bytes > 0
    finally:
        conn.close()
