"""Trino's spooling protocol: encoding negotiation, segments and the in-memory segment store.

A client asks for it with ``X-Trino-Query-Data-Encoding: json+zstd,json+lz4,json``; when
spooling is on, the first encoding the emulator supports wins and every result page carries
``data`` as ``{"encoding": ..., "segments": [...]}`` instead of a list of rows. Small segments
are inlined (base64 in the page); larger ones are stored here and served coordinator-proxy style
by ``GET /v1/spooled/download/{id}`` until ``GET /v1/spooled/ack/{id}`` deletes them or they
expire. Segment bytes are a JSON array of rows, compressed when at least
``compression_threshold`` bytes: a zstd frame that carries its content size, or a raw LZ4 block.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import importlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ENCODINGS",
    "Segment",
    "SegmentPacker",
    "SegmentStore",
    "SpoolingConfig",
    "WrongSegmentKey",
    "available_encodings",
    "data_json",
    "select_encoding",
]

log = logging.getLogger("prestoha.testing.coordinator.http.spooling")

ENCODINGS = ("json+zstd", "json+lz4", "json")
"""Every encoding the emulator can speak, in Trino's order of preference."""

_KIB = 1024
_MIB = 1024 * 1024


def _optional(module: str) -> Any:
    # The codecs are in the ``testing`` extra; without one, its encoding is not offered.
    try:
        return importlib.import_module(module)
    except ImportError:  # pragma: no cover - depends on the environment
        return None


_zstd: Any = _optional("zstandard")
_lz4_block: Any = _optional("lz4.block")


def available_encodings() -> tuple[str, ...]:
    """The encodings of :data:`ENCODINGS` whose codec library is importable here."""
    missing = {"json+zstd": _zstd is None, "json+lz4": _lz4_block is None}
    return tuple(e for e in ENCODINGS if not missing.get(e, False))


@dataclass(frozen=True)
class SpoolingConfig:
    """How the emulator cuts, inlines, compresses and keeps segments (keyword-only knobs).

    Defaults follow Trino's (``protocol.spooling.inlining.max-rows`` 1000 and ``max-size``
    128 kB, compression threshold 8 kB) except the segment size, kept smaller than Trino's 8 MB
    so a Python client starts on rows sooner.
    """

    segment_size: int = 4 * _MIB
    """Target size in bytes of a segment's uncompressed JSON (a result page in spooling mode)."""
    inline_max_bytes: int = 128 * _KIB
    """A segment of at most this many bytes (as sent) and ``inline_max_rows`` rows is inlined."""
    inline_max_rows: int = 1000
    """A segment with more rows than this is always spooled."""
    compression_threshold: int = 8 * _KIB
    """Segments smaller than this (uncompressed) are sent uncompressed."""
    segment_ttl: float = 600.0
    """Seconds a spooled segment can be downloaded before it expires (404 afterwards)."""
    max_store_bytes: int = 256 * _MIB
    """Bound of the segment store; beyond it the oldest segments are dropped (with a warning)."""
    encodings: tuple[str, ...] = field(default_factory=available_encodings)
    """Encodings offered to clients (a subset of :data:`ENCODINGS`)."""

    def __post_init__(self) -> None:
        for name in ("segment_size", "max_store_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("inline_max_bytes", "inline_max_rows", "compression_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        ttl = self.segment_ttl
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl > 0:
            raise ValueError(f"segment_ttl must be a positive number of seconds, got {ttl!r}")
        unknown = [e for e in self.encodings if e not in ENCODINGS]
        if unknown:
            raise ValueError(
                f"unknown encoding(s) {', '.join(unknown)}; supported: {', '.join(ENCODINGS)}"
            )
        unavailable = [e for e in self.encodings if e not in available_encodings()]
        if unavailable:
            raise ValueError(
                f"encoding(s) {', '.join(unavailable)} need a codec library that is not "
                "installed (pip install 'prestoha[testing]')"
            )


def select_encoding(header_values: list[str], supported: tuple[str, ...]) -> str | None:
    """The first encoding of the client's preference list that is supported, else None.

    As Trino's ``PreferredQueryDataEncoderSelector``: comma-separated, items trimmed, empty and
    unknown items skipped; None means the direct protocol.
    """
    for value in header_values:
        for item in value.split(","):
            encoding = item.strip()
            if encoding and encoding in supported:
                return encoding
    return None


@dataclass(frozen=True)
class Segment:
    """One segment of a result page: inline bytes, or a reference to the store."""

    row_offset: int
    rows: int
    size: int  # bytes as sent (compressed or not)
    uncompressed_size: int | None  # only when compressed
    inline_data: str | None = None  # base64, for an inline segment
    segment_id: str | None = None  # for a spooled segment
    headers: Mapping[str, str] = field(default_factory=dict)
    expires_at: str | None = None

    @property
    def inline(self) -> bool:
        """Whether the rows travel inside the page."""
        return self.inline_data is not None

    @property
    def json_size(self) -> int:
        """Bytes of the rows' JSON (uncompressed)."""
        return self.uncompressed_size if self.uncompressed_size is not None else self.size

    def to_json(self, base: str) -> dict[str, Any]:
        """The segment object of ``data.segments``; spooled URIs point at ``base``."""
        metadata: dict[str, Any] = {
            "rowOffset": self.row_offset,
            "rowsCount": self.rows,
            "segmentSize": self.size,
        }
        if self.uncompressed_size is not None:
            metadata["uncompressedSize"] = self.uncompressed_size
        if self.inline_data is not None:
            return {"type": "inline", "data": self.inline_data, "metadata": metadata}
        metadata["expiresAt"] = self.expires_at
        return {
            "type": "spooled",
            "uri": f"{base}/v1/spooled/download/{self.segment_id}",
            "ackUri": f"{base}/v1/spooled/ack/{self.segment_id}",
            "headers": {name: [value] for name, value in self.headers.items()},
            "metadata": metadata,
        }


def data_json(encoding: str, segments: list[Segment], base: str) -> dict[str, Any]:
    """The ``data`` object of a spooling page (Trino omits the empty ``metadata``)."""
    return {"encoding": encoding, "segments": [s.to_json(base) for s in segments]}


# The segment key travels the way Trino's filesystem spooling manager sends SSE-C keys to
# clients: three headers the client must send back on download and ack.
_KEY_ALGORITHM = "x-amz-server-side-encryption-customer-algorithm"
_KEY = "x-amz-server-side-encryption-customer-key"
_KEY_MD5 = "x-amz-server-side-encryption-customer-key-md5"


def _key_headers() -> dict[str, str]:
    key = secrets.token_bytes(32)
    digest = hashlib.md5(key, usedforsecurity=False).digest()
    return {
        _KEY_ALGORITHM: "AES256",
        _KEY: base64.b64encode(key).decode("ascii"),
        _KEY_MD5: base64.b64encode(digest).decode("ascii"),
    }


class WrongSegmentKey(Exception):
    """A download or ack without the segment's key headers."""


@dataclass
class _Stored:
    data: bytes
    key: str
    query_id: str
    expires: float  # monotonic


class SegmentStore:
    """Spooled segments in memory: bounded in bytes, expiring, deleted on ack; thread-safe."""

    def __init__(
        self, *, max_bytes: int = 256 * _MIB, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_bytes = max_bytes
        self._clock = clock
        self._segments: OrderedDict[str, _Stored] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.evicted = 0  # segments dropped to stay within max_bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._segments)

    @property
    def nbytes(self) -> int:
        """Bytes held now."""
        with self._lock:
            return self._bytes

    def put(self, query_id: str, seq: int, data: bytes, ttl: float) -> tuple[str, dict[str, str]]:
        """Keep ``data``; return its id and the headers a download must carry."""
        segment_id = f"{query_id}-{seq}-{secrets.token_hex(8)}"
        headers = _key_headers()
        stored = _Stored(data, headers[_KEY], query_id, self._clock() + ttl)
        with self._lock:
            self._purge_expired_locked()
            while self._segments and self._bytes + len(data) > self.max_bytes:
                _, old = self._segments.popitem(last=False)
                self._bytes -= len(old.data)
                self.evicted += 1
                log.warning("segment store full: dropped segment of query %s", old.query_id)
            self._segments[segment_id] = stored
            self._bytes += len(data)
        return segment_id, headers

    def _lookup(self, segment_id: str, headers: Mapping[str, str]) -> _Stored | None:
        stored = self._segments.get(segment_id)
        if stored is None:
            return None
        if stored.expires <= self._clock():
            self._drop_locked(segment_id)
            return None
        key = (headers.get(_KEY) or "").encode("utf-8", "replace")
        if not secrets.compare_digest(key, stored.key.encode("ascii")):
            raise WrongSegmentKey(segment_id)
        return stored

    def get(self, segment_id: str, headers: Mapping[str, str]) -> bytes | None:
        """The segment's bytes, or None if it is unknown or expired.

        ``headers`` are the request headers with lower-case names; raises
        :class:`WrongSegmentKey` when they lack the segment's key.
        """
        with self._lock:
            stored = self._lookup(segment_id, headers)
        return None if stored is None else stored.data

    def ack(self, segment_id: str, headers: Mapping[str, str]) -> bool:
        """Delete the segment; False if it is unknown or expired (see :meth:`get`)."""
        with self._lock:
            if self._lookup(segment_id, headers) is None:
                return False
            self._drop_locked(segment_id)
            return True

    def _drop_locked(self, segment_id: str) -> None:
        stored = self._segments.pop(segment_id, None)
        if stored is not None:
            self._bytes -= len(stored.data)

    def _purge_expired_locked(self) -> int:
        now = self._clock()
        expired = [sid for sid, s in self._segments.items() if s.expires <= now]
        for sid in expired:
            self._drop_locked(sid)
        return len(expired)

    def purge_expired(self) -> int:
        """Drop expired segments; return how many."""
        with self._lock:
            return self._purge_expired_locked()

    def clear(self) -> int:
        """Drop every segment (a restart loses them); return how many there were."""
        with self._lock:
            count = len(self._segments)
            self._segments.clear()
            self._bytes = 0
            return count


def _iso_instant(seconds_from_now: float) -> str:
    when = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=seconds_from_now)
    return when.isoformat(timespec="microseconds").replace("+00:00", "Z")


class SegmentPacker:
    """Turns the pages of one query into segments (called from its producer thread)."""

    def __init__(
        self, *, encoding: str, config: SpoolingConfig, store: SegmentStore, query_id: str
    ) -> None:
        if encoding not in config.encodings:
            raise ValueError(f"encoding {encoding!r} is not enabled")
        self.encoding = encoding
        self.config = config
        self.store = store
        self.query_id = query_id
        self.offset = 0
        self._seq = 0
        self._zstd: Any = None

    def _compress(self, data: bytes) -> bytes:
        if self.encoding == "json+zstd":
            if self._zstd is None:
                # The default compressor writes the content size into the frame header, which
                # the Python client's one-shot decompressor needs.
                self._zstd = _zstd.ZstdCompressor()
            compressed: bytes = self._zstd.compress(data)
            return compressed
        block: bytes = _lz4_block.compress(data, store_size=False)
        return block

    def pack(self, rows_json: bytes, count: int) -> Segment:
        """A segment for ``count`` rows; ``rows_json`` is the inside of their JSON array."""
        data = b"[" + rows_json + b"]"
        uncompressed: int | None = None
        if self.encoding != "json" and len(data) >= self.config.compression_threshold:
            uncompressed = len(data)
            data = self._compress(data)
        offset = self.offset
        self.offset += count
        cfg = self.config
        if count <= cfg.inline_max_rows and len(data) <= cfg.inline_max_bytes:
            inline = base64.b64encode(data).decode("ascii")
            return Segment(offset, count, len(data), uncompressed, inline_data=inline)
        self._seq += 1
        segment_id, headers = self.store.put(self.query_id, self._seq, data, cfg.segment_ttl)
        return Segment(
            offset,
            count,
            len(data),
            uncompressed,
            segment_id=segment_id,
            headers=headers,
            expires_at=_iso_instant(cfg.segment_ttl),
        )
