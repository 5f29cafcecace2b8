"""The spooling protocol over raw HTTP: negotiation, segment download/ack, faults, expiry."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import trino.dbapi
from trino.client import SegmentIterator
from trino.mapper import RowMapperFactory

from prestoha.testing.coordinator import Coordinator, EmulatorAdmin, SpoolingConfig
from prestoha.testing.coordinator.process import EmulatorProcess

pytestmark = pytest.mark.integration

ENCODING = "X-Trino-Query-Data-Encoding"
# FakeEngine rows are about 20 bytes of JSON: a 64 kB segment holds over 1000 rows, so it is
# spooled even when compression makes it small.
CONFIG = SpoolingConfig(segment_size=64 * 1024)


@pytest.fixture
def spooler(fake_engine: Any) -> Iterator[Coordinator]:
    with Coordinator(
        node_id="spool", engine=fake_engine, spooling=True, spooling_config=CONFIG
    ) as c:
        yield c


def post(
    http: requests.Session, c: Coordinator, sql: str, encoding: str | None
) -> requests.Response:
    headers = {"X-Trino-User": "u"}
    if encoding is not None:
        headers[ENCODING] = encoding
    return http.post(f"{c.uri}/v1/statement", data=sql.encode(), headers=headers, timeout=5)


def first_data_page(
    http: requests.Session, c: Coordinator, sql: str, encoding: str | None
) -> tuple[list[requests.Response], dict[str, Any]]:
    """Every response up to and including the first one with ``data``."""
    responses = [post(http, c, sql, encoding)]
    doc = responses[0].json()
    while "data" not in doc:
        assert "nextUri" in doc, doc
        responses.append(http.get(doc["nextUri"], timeout=5))
        doc = responses[-1].json()
    return responses, doc


def spooled_segment(
    http: requests.Session, c: Coordinator, encoding: str = "json"
) -> tuple[dict[str, Any], dict[str, Any]]:
    _, doc = first_data_page(http, c, "rows 100000", encoding)
    (segment,) = doc["data"]["segments"]
    assert segment["type"] == "spooled"
    return doc, segment


def key_headers(segment: dict[str, Any]) -> dict[str, str]:
    return {name: values[0] for name, values in segment["headers"].items()}


def test_the_first_supported_encoding_is_chosen_and_named_on_every_answer(
    spooler: Coordinator, http: requests.Session
) -> None:
    responses, doc = first_data_page(http, spooler, "rows 10", "arrow, json+lz4 ,json")
    assert len(responses) >= 3  # POST, queued, executing
    assert [r.headers.get(ENCODING) for r in responses] == ["json+lz4"] * len(responses)
    data = doc["data"]
    assert set(data) == {"encoding", "segments"}  # Trino leaves out empty metadata
    assert data["encoding"] == "json+lz4"
    (segment,) = data["segments"]
    assert segment["type"] == "inline"
    raw = base64.b64decode(segment["data"])
    assert segment["metadata"] == {"rowOffset": 0, "rowsCount": 10, "segmentSize": len(raw)}
    assert json.loads(raw) == [[i, f"row-{i:08d}"] for i in range(10)]


@pytest.mark.parametrize("encoding", [None, "", "arrow,json+snappy", "JSON"])
def test_without_a_supported_encoding_the_direct_protocol_answers(
    spooler: Coordinator, http: requests.Session, encoding: str | None
) -> None:
    responses, doc = first_data_page(http, spooler, "rows 10", encoding)
    assert all(ENCODING not in r.headers for r in responses)
    assert doc["data"] == [[i, f"row-{i:08d}"] for i in range(10)]


def test_download_ack_and_unknown_segments(spooler: Coordinator, http: requests.Session) -> None:
    doc, segment = spooled_segment(http, spooler)
    meta = segment["metadata"]
    assert meta["rowOffset"] == 0
    assert "uncompressedSize" not in meta  # json is never compressed
    expires = dt.datetime.fromisoformat(meta["expiresAt"].replace("Z", "+00:00"))
    assert expires > dt.datetime.now(dt.timezone.utc)
    uri, ack = segment["uri"], segment["ackUri"]
    headers = key_headers(segment)

    assert http.get(uri, timeout=5).status_code == 403  # the key headers are required
    response = http.get(uri, headers=headers, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert len(response.content) == meta["segmentSize"]
    rows = json.loads(response.content)
    assert len(rows) == meta["rowsCount"] > 1000
    assert rows[0] == [0, "row-00000000"]
    assert rows[-1][0] == meta["rowsCount"] - 1
    # Downloads can be repeated until the segment is acknowledged.
    assert http.get(uri, headers=headers, timeout=5).content == response.content
    assert http.post(uri, headers=headers, timeout=5).status_code == 405

    assert http.get(ack, headers=headers, timeout=5).status_code == 200
    assert http.get(uri, headers=headers, timeout=5).status_code == 404
    assert http.get(ack, headers=headers, timeout=5).status_code == 404
    unknown = f"{spooler.uri}/v1/spooled/download/{doc['id']}-99-0123456789abcdef"
    missing = http.get(unknown, headers=headers, timeout=5)
    assert (missing.status_code, missing.text) == (404, "Segment not found")
    unknown_ack = unknown.replace("/download/", "/ack/")
    assert http.get(unknown_ack, headers=headers, timeout=5).status_code == 404
    assert http.delete(doc["nextUri"], timeout=5).status_code == 204


def test_faults_apply_to_downloads(spooler: Coordinator, http: requests.Session) -> None:
    doc, segment = spooled_segment(http, spooler, "json+zstd")
    uri, headers = segment["uri"], key_headers(segment)
    spooler.faults.close_mid_response = 1
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        http.get(uri, headers=headers, timeout=5)
    assert spooler.faults.close_mid_response == 0
    full = http.get(uri, headers=headers, timeout=5)
    assert len(full.content) == segment["metadata"]["segmentSize"]

    spooler.faults.hang = True
    try:
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(uri, headers=headers, timeout=0.5)
    finally:
        spooler.faults.hang = False

    spooler.faults.forget()
    assert http.get(uri, headers=headers, timeout=5).status_code == 404
    assert http.get(doc["nextUri"], timeout=5).status_code == 404
    assert spooler.registry is not None
    assert len(spooler.registry.segments) == 0


def test_a_page_pointing_at_a_spooled_segment_is_not_cut(
    spooler: Coordinator, http: requests.Session
) -> None:
    # close_mid_response cuts responses that carry rows; such a page only carries a link.
    _, doc = first_data_page(http, spooler, "rows 100000", "json")
    spooler.faults.close_mid_response = 1
    page = http.get(doc["nextUri"], timeout=5)
    assert page.json()["data"]["segments"][0]["type"] == "spooled"
    assert spooler.faults.close_mid_response == 1
    spooler.faults.reset()


def test_segments_expire(fake_engine: Any, http: requests.Session) -> None:
    config = SpoolingConfig(segment_size=64 * 1024, segment_ttl=0.5)
    with Coordinator(engine=fake_engine, spooling=True, spooling_config=config) as c:
        _, segment = spooled_segment(http, c)
        expires = dt.datetime.fromisoformat(segment["metadata"]["expiresAt"].replace("Z", "+00:00"))
        assert expires <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=0.5)
        deadline = time.monotonic() + 10
        while dt.datetime.now(dt.timezone.utc) <= expires and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.05)
        response = http.get(segment["uri"], headers=key_headers(segment), timeout=5)
        assert response.status_code == 404
        assert c.registry is not None
        # The reaper drops expired segments nobody asks for.
        deadline = time.monotonic() + 10
        while len(c.registry.segments) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(c.registry.segments) == 0


def test_spooled_rows_stream_lazily(
    spooler: Coordinator, fake_engine: Any, http: requests.Session
) -> None:
    _, doc = first_data_page(http, spooler, "rows 10000000", "json+zstd")
    (segment,) = doc["data"]["segments"]
    segment_rows = segment["metadata"]["rowsCount"]
    # The client holds on to page 0: the producer packs one more segment and then waits.
    deadline = time.monotonic() + 10
    previous = -1
    while fake_engine.pulled != previous:
        previous = fake_engine.pulled
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert segment_rows <= fake_engine.pulled <= 3 * segment_rows
    assert spooler.registry is not None
    assert len(spooler.registry.segments) <= 2
    assert http.delete(doc["nextUri"], timeout=5).status_code == 204


def test_the_admin_api_switches_spooling(fake_engine: Any, http: requests.Session) -> None:
    with Coordinator(engine=fake_engine, admin=True) as c, EmulatorAdmin(c.uri) as admin:
        assert admin.faults()["spooling"] is False
        _, doc = first_data_page(http, c, "rows 3", "json")
        assert isinstance(doc["data"], list)
        assert admin.set_faults(spooling=True)["spooling"] is True
        _, doc = first_data_page(http, c, "rows 3", "json")
        assert doc["data"]["encoding"] == "json"
        with pytest.raises(RuntimeError, match="spooling must be true or false"):
            admin.set_faults(spooling="yes")
        admin.reset()
        assert admin.faults()["spooling"] is False
        _, doc = first_data_page(http, c, "rows 3", "json")
        assert isinstance(doc["data"], list)


def test_the_spooling_flag_of_the_process(
    emulator_process: Callable[..., EmulatorProcess],
) -> None:
    proc = emulator_process(
        node_id="spool-proc", extra_args=("--spooling", "--spooling-segment-size", "131072")
    )
    sql = "SELECT orderkey, comment FROM tpch.tiny.orders ORDER BY orderkey"
    direct = trino.dbapi.connect(host=proc.uri, user="u", encoding=None).cursor()
    direct.execute(sql)
    expected = direct.fetchall()
    spooled = trino.dbapi.connect(host=proc.uri, user="u", encoding="json+lz4")
    cur = spooled.cursor(cursor_style="segment")
    cur.execute(sql)
    segments = cur.fetchall()
    assert len(segments) > 1
    assert {s.encoding for s in segments} == {"json+lz4"}
    rows = [r for s in segments for r in _rows_of(s)]
    assert rows == [list(r) for r in expected]


def _rows_of(segment: Any) -> list[Any]:
    mapper = RowMapperFactory().create(columns=[], legacy_primitive_types=True)
    return list(SegmentIterator(segment, mapper))
