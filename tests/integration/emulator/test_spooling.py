"""The spooling protocol through the unmodified ``trino`` client, on the real SQL engine."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import trino.dbapi
from trino.client import SegmentIterator
from trino.mapper import RowMapperFactory

from prestoha.testing.coordinator import Coordinator, SpoolingConfig

pytestmark = pytest.mark.integration

ORDERS = (
    "SELECT orderkey, custkey, orderstatus, totalprice, orderdate, orderpriority, clerk, "
    "shippriority, comment FROM tpch.sf1.orders ORDER BY orderkey LIMIT 200000"
)
ORDERS_ROWS = 200000
SMALL = "SELECT nationkey, name, regionkey, comment FROM tpch.tiny.nation ORDER BY nationkey"
ENCODING = "X-Trino-Query-Data-Encoding"


class Recorder(requests.Session):
    """A session that remembers, for each statement response, its encoding header and data."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[tuple[str | None, Any]] = []

    def request(self, method: str | bytes, url: str | bytes, *a: Any, **kw: Any) -> Any:
        response = super().request(method, url, *a, **kw)
        if "/v1/statement" in str(url) and method != "DELETE":
            doc = response.json()
            data = doc.get("data")
            if isinstance(data, dict):  # keep the shape, not the inline bytes
                data = {
                    "encoding": data["encoding"],
                    "segments": [
                        {k: v for k, v in s.items() if k != "data"} for s in data["segments"]
                    ],
                }
            elif data is not None:
                data = len(data)
            self.pages.append((response.headers.get(ENCODING), data))
        return response

    def segments(self) -> list[dict[str, Any]]:
        return [s for _, d in self.pages if isinstance(d, dict) for s in d["segments"]]


def digest(rows: Iterator[Any]) -> tuple[int, str]:
    h = hashlib.sha256()
    count = 0
    for row in rows:
        h.update(repr(row).encode())
        count += 1
    return count, h.hexdigest()


def connect(c: Coordinator, **kw: Any) -> trino.dbapi.Connection:
    return trino.dbapi.connect(host=c.uri, user="spool", **kw)


def wait_for_empty_store(c: Coordinator) -> None:
    assert c.registry is not None
    deadline = time.monotonic() + 10
    while len(c.registry.segments) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(c.registry.segments) == 0


@pytest.fixture(scope="module")
def spooler() -> Iterator[Coordinator]:
    config = SpoolingConfig(segment_size=512 * 1024)
    with Coordinator(node_id="spool", spooling=True, spooling_config=config) as c:
        yield c


@pytest.fixture(scope="module")
def direct_orders(spooler: Coordinator) -> tuple[int, str]:
    recorder = Recorder()
    cur = connect(spooler, encoding=None, http_session=recorder).cursor()
    cur.execute(ORDERS)
    result = digest(iter(cur))
    assert result[0] == ORDERS_ROWS
    assert all(header is None and not isinstance(d, dict) for header, d in recorder.pages)
    return result


@pytest.mark.parametrize("encoding", ["json", "json+zstd", "json+lz4"])
def test_each_encoding_reads_the_same_rows_as_the_direct_protocol(
    spooler: Coordinator, direct_orders: tuple[int, str], encoding: str
) -> None:
    recorder = Recorder()
    cur = connect(spooler, encoding=encoding, http_session=recorder).cursor()
    cur.execute(ORDERS)
    assert digest(iter(cur)) == direct_orders
    assert {header for header, _ in recorder.pages} == {encoding}
    assert {d["encoding"] for _, d in recorder.pages if isinstance(d, dict)} == {encoding}
    segments = recorder.segments()
    spooled = [s for s in segments if s["type"] == "spooled"]
    assert len(spooled) >= 10
    offsets = [s["metadata"]["rowOffset"] for s in segments]
    counts = [s["metadata"]["rowsCount"] for s in segments]
    assert offsets == [sum(counts[:i]) for i in range(len(counts))]
    assert sum(counts) == ORDERS_ROWS
    for s in spooled:
        assert ("uncompressedSize" in s["metadata"]) == (encoding != "json")
        assert s["uri"].startswith(f"{spooler.uri}/v1/spooled/download/")
        assert s["ackUri"].startswith(f"{spooler.uri}/v1/spooled/ack/")
        assert s["headers"] and all(len(v) == 1 for v in s["headers"].values())
    # The client acknowledges every spooled segment once it has decoded it.
    wait_for_empty_store(spooler)


@pytest.mark.parametrize("encoding", ["json+zstd", "json+lz4"])
def test_small_results_travel_inline(spooler: Coordinator, encoding: str) -> None:
    direct = connect(spooler, encoding=None).cursor()
    direct.execute(SMALL)
    expected = direct.fetchall()
    recorder = Recorder()
    cur = connect(spooler, encoding=encoding, http_session=recorder).cursor()
    cur.execute(SMALL)
    assert cur.fetchall() == expected
    (segment,) = recorder.segments()
    assert segment["type"] == "inline"
    assert segment["metadata"]["rowsCount"] == 25
    # About 3 kB of JSON: under the compression threshold, so sent as it is.
    assert "uncompressedSize" not in segment["metadata"]

    recorder = Recorder()
    cur = connect(spooler, encoding=encoding, http_session=recorder).cursor()
    cur.execute("SELECT orderkey, comment FROM tpch.tiny.orders ORDER BY orderkey LIMIT 500")
    assert len(cur.fetchall()) == 500
    (segment,) = recorder.segments()
    assert segment["type"] == "inline"
    assert segment["metadata"]["uncompressedSize"] > segment["metadata"]["segmentSize"]


def test_segment_cursor_hands_out_segments_that_decode_to_the_rows(
    spooler: Coordinator,
) -> None:
    sql = "SELECT orderkey, totalprice, orderdate, comment FROM tpch.tiny.orders ORDER BY orderkey"
    direct = connect(spooler, encoding=None, legacy_primitive_types=True).cursor()
    direct.execute(sql)
    expected = direct.fetchall()
    assert len(expected) == 15000
    conn = connect(spooler, encoding="json+zstd")
    cur = conn.cursor(cursor_style="segment")
    cur.execute(sql)
    segments = cur.fetchall()
    assert len(segments) >= 2
    assert {s.encoding for s in segments} == {"json+zstd"}
    assert any(type(s.segment).__name__ == "SpooledSegment" for s in segments)
    assert c_len(spooler) > 0  # nothing acknowledged yet
    mapper = RowMapperFactory().create(columns=[], legacy_primitive_types=True)
    assert list(SegmentIterator(segments, mapper)) == expected
    wait_for_empty_store(spooler)


def c_len(c: Coordinator) -> int:
    assert c.registry is not None
    return len(c.registry.segments)


def test_a_coordinator_without_spooling_ignores_the_header(spooler: Coordinator) -> None:
    spooler.faults.spooling = False
    try:
        recorder = Recorder()
        cur = connect(spooler, encoding="json+zstd", http_session=recorder).cursor()
        cur.execute(SMALL)
        assert len(cur.fetchall()) == 25
        assert recorder.pages
        assert all(h is None and not isinstance(d, dict) for h, d in recorder.pages)
    finally:
        spooler.faults.reset()
    assert spooler.faults.spooling is True  # reset restores the start setting
