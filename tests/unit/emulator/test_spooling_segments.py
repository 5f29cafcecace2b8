"""The emulator's spooling pieces on their own: negotiation, packing, the segment store."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from trino.client import CompressedQueryDataDecoderFactory
from trino.mapper import RowMapperFactory

from prestoha.testing.coordinator.http.spooling import (
    ENCODINGS,
    SegmentPacker,
    SegmentStore,
    SpoolingConfig,
    WrongSegmentKey,
    available_encodings,
    select_encoding,
)

KEY = "x-amz-server-side-encryption-customer-key"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def rows_json(n: int, start: int = 0) -> bytes:
    return json.dumps([[i, f"comment number {i} " * 3] for i in range(start, start + n)]).encode()[
        1:-1
    ]


def decode(encoding: str, data: bytes, metadata: dict[str, Any]) -> Any:
    """Decode as the unmodified trino client does (raw values)."""
    mapper = RowMapperFactory().create(columns=[], legacy_primitive_types=True)
    return CompressedQueryDataDecoderFactory(mapper).create(encoding).decode(data, metadata)


def test_codecs_are_installed_here() -> None:
    assert available_encodings() == ENCODINGS


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["json+zstd,json+lz4,json"], "json+zstd"),
        ([" arrow , json+lz4 "], "json+lz4"),
        (["arrow,,json+snappy"], None),
        (["", "json"], "json"),
        ([], None),
    ],
)
def test_select_encoding_takes_the_first_supported(header: list[str], expected: str | None) -> None:
    assert select_encoding(header, ENCODINGS) == expected


def test_select_encoding_only_offers_enabled_encodings() -> None:
    assert select_encoding(["json+zstd,json"], ("json",)) == "json"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"segment_size": 0},
        {"inline_max_bytes": -1},
        {"segment_ttl": 0},
        {"segment_ttl": True},
        {"max_store_bytes": 1.5},
        {"encodings": ("json", "arrow")},
    ],
)
def test_config_refuses_bad_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SpoolingConfig(**kwargs)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_small_segments_are_inline_and_uncompressed(encoding: str) -> None:
    packer = SegmentPacker(
        encoding=encoding, config=SpoolingConfig(), store=SegmentStore(), query_id="q"
    )
    seg = packer.pack(rows_json(3), 3)
    doc = seg.to_json("http://h:1")
    assert doc["type"] == "inline"
    assert "uncompressedSize" not in doc["metadata"]
    data = base64.b64decode(doc["data"])
    assert doc["metadata"] == {"rowOffset": 0, "rowsCount": 3, "segmentSize": len(data)}
    assert decode(encoding, data, doc["metadata"]) == json.loads(b"[" + rows_json(3) + b"]")


@pytest.mark.parametrize("encoding", ["json+zstd", "json+lz4"])
def test_larger_segments_are_compressed(encoding: str) -> None:
    store = SegmentStore()
    config = SpoolingConfig(inline_max_bytes=0)
    packer = SegmentPacker(encoding=encoding, config=config, store=store, query_id="q")
    first = packer.pack(rows_json(400), 400)
    second = packer.pack(rows_json(500, 400), 500)
    doc = second.to_json("http://h:1")
    assert doc["type"] == "spooled"
    meta = doc["metadata"]
    assert meta["rowOffset"] == 400
    assert meta["rowsCount"] == 500
    assert meta["uncompressedSize"] == len(rows_json(500, 400)) + 2
    assert meta["segmentSize"] < meta["uncompressedSize"]
    assert meta["expiresAt"].endswith("Z")
    assert doc["uri"] == f"http://h:1/v1/spooled/download/{second.segment_id}"
    assert doc["ackUri"] == f"http://h:1/v1/spooled/ack/{second.segment_id}"
    assert all(len(v) == 1 for v in doc["headers"].values())
    headers = {k: v[0] for k, v in doc["headers"].items()}
    assert second.segment_id is not None
    data = store.get(second.segment_id, headers)
    assert data is not None
    assert len(data) == meta["segmentSize"]
    assert decode(encoding, data, meta) == json.loads(b"[" + rows_json(500, 400) + b"]")
    assert first.segment_id != second.segment_id


def test_json_segments_are_never_compressed() -> None:
    config = SpoolingConfig(inline_max_bytes=0)
    packer = SegmentPacker(encoding="json", config=config, store=SegmentStore(), query_id="q")
    seg = packer.pack(rows_json(2000), 2000)
    assert not seg.inline
    assert seg.uncompressed_size is None
    assert seg.size == len(rows_json(2000)) + 2


def test_more_rows_than_the_inline_limit_are_spooled() -> None:
    config = SpoolingConfig(inline_max_rows=10)
    packer = SegmentPacker(encoding="json", config=config, store=SegmentStore(), query_id="q")
    assert packer.pack(rows_json(10), 10).inline
    assert not packer.pack(rows_json(11), 11).inline


def test_store_checks_the_key_and_ack_deletes() -> None:
    store = SegmentStore()
    sid, headers = store.put("q", 1, b"[[1]]", ttl=60)
    lowered = {k.lower(): v for k, v in headers.items()}
    with pytest.raises(WrongSegmentKey):
        store.get(sid, {})
    with pytest.raises(WrongSegmentKey):
        store.ack(sid, {KEY: "bm90IHRoZSBrZXk="})
    assert store.get(sid, lowered) == b"[[1]]"
    assert store.ack(sid, lowered) is True
    assert store.get(sid, lowered) is None
    assert store.ack(sid, lowered) is False
    assert store.get("unknown", lowered) is None
    assert len(store) == 0
    assert store.nbytes == 0


def test_store_expires_segments() -> None:
    clock = Clock()
    store = SegmentStore(clock=clock)
    sid, headers = store.put("q", 1, b"[[1]]", ttl=10)
    other, _ = store.put("q", 2, b"[[2]]", ttl=30)
    clock.now += 9.9
    assert store.get(sid, headers) == b"[[1]]"
    clock.now += 0.2
    assert store.get(sid, headers) is None
    assert store.purge_expired() == 0  # already dropped by the lookup
    clock.now += 20
    assert store.purge_expired() == 1
    assert other not in store._segments
    assert store.nbytes == 0


def test_store_stays_within_its_bound_by_dropping_the_oldest() -> None:
    store = SegmentStore(max_bytes=100)
    ids = [store.put("q", i, bytes(40), ttl=60)[0] for i in range(4)]
    assert store.nbytes == 80
    assert len(store) == 2
    assert store.evicted == 2
    assert list(store._segments) == ids[2:]
    # A segment larger than the bound is still kept (alone): the query must go on.
    store.put("q", 9, bytes(150), ttl=60)
    assert len(store) == 1
    assert store.clear() == 1
