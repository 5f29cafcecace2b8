"""One attempt: a statement sent to one coordinator, its pages fetched by a background thread.

The thread speaks the protocol through the official client's ``TrinoRequest`` with a
single HTTP try per request (prestoha owns every retry) and hands each page to the
execution through a bounded queue, so it stays at most ``prefetch`` pages ahead of the
caller. The caller can abandon the attempt at any moment: the thread stops after its
current request and the query is cancelled on the coordinator.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import requests
import trino.client
import trino.exceptions
from trino.mapper import RowMapperFactory

from prestoha._taxonomy import Phase, http_status_error, request_not_sent
from prestoha._workers import submit
from prestoha.cluster import Coordinator
from prestoha.paging import PageBuffer, PrefetchLimit

__all__ = ["AttemptEnded", "AttemptFailed", "AttemptRunner", "Page", "row_digest_update"]

log = logging.getLogger("prestoha.execution")

_SESSION_HEADER_SUFFIXES = (
    "set-catalog",
    "set-schema",
    "set-path",
    "set-session",
    "clear-session",
    "set-role",
    "added-prepare",
    "deallocated-prepare",
    "started-transaction-id",
    "clear-transaction-id",
    "set-authorization-user",
    "reset-authorization-user",
)


@dataclass
class Page:
    """One answer of the coordinator, rows already mapped to Python values."""

    query_id: str
    columns: list[dict[str, Any]] | None
    rows: list[Any]
    stats: dict[str, Any]
    update_type: str | None
    update_count: int | None
    warnings: list[Any]
    info_uri: str
    final: bool
    #: Session-changing response headers (``X-Trino-Set-Catalog`` ...), lower-cased names.
    headers: dict[str, list[str]] = field(default_factory=dict)
    #: The running digest of every row of this attempt before this page (when digests are on).
    digest_before: Any = None
    #: Bytes of spooled segments this page's rows came from (0 for the direct protocol).
    segment_bytes: int = 0


@dataclass
class AttemptFailed:
    """The attempt's thread hit an error."""

    exc: BaseException
    phase: Phase
    query_id: str | None


@dataclass
class AttemptEnded:
    """Every page was delivered."""


Event = Union[Page, AttemptFailed, AttemptEnded]  # noqa: UP007 - a runtime alias on 3.10


def row_digest_update(digest: Any, rows: list[Any]) -> None:
    """Feed rows into a running digest; the same rows give the same digest whatever the
    page boundaries were (each row's encoding is followed by one separator)."""
    if rows:
        _update_rows(digest, rows)


def _encode_rows_repr(rows: list[Any]) -> bytes:
    return ("\x1e".join(map(repr, rows)) + "\x1e").encode("utf-8", "surrogatepass")


def _update_rows_repr(digest: Any, rows: list[Any]) -> None:
    digest.update(_encode_rows_repr(rows))


try:
    import orjson

    _loads: Any = orjson.loads

    def _update_rows(digest: Any, rows: list[Any]) -> None:
        # orjson writes a list as "[" + ",".join(rows) + "]": the bytes between the
        # brackets, then ",", are the same for the same rows however they were paged.
        # It is about ten times cheaper than repr(), which matters on every row; the
        # memoryview spares two copies of a page's worth of bytes.
        try:
            encoded = orjson.dumps(rows, default=repr)
        except TypeError:  # a value orjson refuses (an integer past 64 bits): row by row
            digest.update(b"".join(map(_encode_row, rows)))
            return
        digest.update(memoryview(encoded)[1:-1])
        digest.update(b",")

    def _encode_row(row: Any) -> bytes:
        try:
            return bytes(orjson.dumps(row, default=repr)) + b","
        except TypeError:
            return b"\x00" + repr(row).encode("utf-8", "surrogatepass") + b"\x00,"

except ImportError:  # orjson is a dependency of trino on CPython, not on every Python
    _loads = json.loads
    _update_rows = _update_rows_repr


def new_digest() -> Any:
    """A fresh running digest of handed-out rows."""
    return hashlib.blake2b(digest_size=16)


class _DefaultHeadersOnly(requests.Session):
    """A session whose default headers cannot be changed.

    ``TrinoRequest`` copies the headers of its own query into the session's defaults.
    Every request passes its headers explicitly anyway, so the defaults are kept to
    requests' own: otherwise one query's headers (a prepared statement, a transaction
    id) would leak into another query that shares the connection pool.
    """

    @property
    def headers(self) -> Any:
        return requests.utils.default_headers()

    @headers.setter
    def headers(self, value: Any) -> None:
        pass


def new_http_session(verify: bool | str) -> requests.Session:
    """An HTTP connection pool for one coordinator."""
    session = _DefaultHeadersOnly()
    session.verify = verify
    return session


class AttemptRunner:
    """Runs one statement on one coordinator in a background thread."""

    def __init__(
        self,
        coordinator: Coordinator,
        sql: str,
        *,
        client_session: trino.client.ClientSession,
        http_session: requests.Session,
        auth: Any,
        connect_timeout: float,
        read_timeout: float,
        extra_headers: Mapping[str, str],
        prefetch: PrefetchLimit,
        digest: bool,
        legacy_primitive_types: bool,
    ) -> None:
        self.coordinator = coordinator
        self.sql = sql
        self._request = trino.client.TrinoRequest(
            host=coordinator.host,
            port=coordinator.port,
            client_session=client_session,
            http_session=http_session,
            http_scheme=coordinator.scheme,
            auth=auth,
            max_attempts=1,
            request_timeout=(connect_timeout, read_timeout),
        )
        self._extra_headers = dict(extra_headers)
        self._events: PageBuffer[Event] = PageBuffer(prefetch)
        self._stop = threading.Event()
        self._digest = new_digest() if digest else None
        self._legacy = legacy_primitive_types
        self._mapper: Any = None
        self._next_uri: str | None = None
        self._lock = threading.Lock()
        self.query_id: str | None = None
        self.started = time.monotonic()
        #: Seconds the POST took to be answered: the node's latency as routing sees it.
        self.submit_latency: float | None = None
        self._exited = threading.Event()

    def start(self) -> None:
        submit(self._run)

    def next_event(self, timeout: float) -> Event | None:
        """The next page or outcome, or None if nothing came within ``timeout``."""
        return self._events.get(timeout)

    @property
    def finished(self) -> bool:
        return self._exited.is_set()

    def abandon(self, cancel: bool = True) -> None:
        """Stop fetching; cancel the query on the coordinator unless it already ended.

        Never blocks on the coordinator: a sick node may not answer the cancel either.
        """
        self._stop.set()
        self._events.close()
        with self._lock:
            next_uri, self._next_uri = self._next_uri, None
        if cancel and next_uri:
            submit(lambda: self._cancel(next_uri))

    def join(self, timeout: float) -> None:
        self._exited.wait(timeout)

    def _cancel(self, uri: str) -> None:
        try:
            self._request.delete(uri)
        except Exception as exc:  # a sick node may refuse the cancel too
            log.debug("cancel of %s on %s failed: %s", self.query_id, self.coordinator.uri, exc)

    def _put(self, event: Event, nbytes: int = 0) -> bool:
        if self._stop.is_set():
            return False
        rows = len(event.rows) if isinstance(event, Page) else 0
        return self._events.put(event, nbytes=nbytes, nrows=rows)

    def _run(self) -> None:
        try:
            self._fetch()
        finally:
            self._exited.set()

    def _fetch(self) -> None:
        phase = Phase.SUBMIT
        answered = 0  # pages answered after the POST
        try:
            response = self._request.post(self.sql, self._extra_headers)
            self.submit_latency = time.monotonic() - self.started
            page = self._page(response)
            phase = Phase.EXECUTE
            if not self._put(page, _held_bytes(page, response)):
                return
            while not page.final:
                with self._lock:
                    uri = self._next_uri
                if uri is None or self._stop.is_set() or not self._events.wait_for_room():
                    return
                response = self._request.get(uri)
                answered += 1
                page = self._page(response)
                if not self._put(page, _held_bytes(page, response)):
                    return
            self._put(AttemptEnded())
        except BaseException as exc:  # every failure goes to the execution to be classified
            if phase is Phase.EXECUTE and answered == 0 and request_not_sent(exc):
                # Trino starts a query on the first GET of its queued URI; that GET never
                # left this machine, so the query never started.
                phase = Phase.SUBMIT
            if not self._stop.is_set():
                self._put(AttemptFailed(exc, phase, self.query_id))

    def _page(self, response: requests.Response) -> Page:
        if response.status_code != 200:
            raise http_status_error(response.status_code, response.content)
        status = _read_status(response)
        if status is None:
            # An empty body or an error answer: the official client raises its own typed
            # error for it, the one the failure taxonomy classifies.
            self._request.process(response)
            raise trino.exceptions.TrinoConnectionError("the coordinator answered no status")
        query_id: str = status["id"]
        next_uri: str | None = status.get("nextUri")
        columns: list[dict[str, Any]] | None = status.get("columns") or None
        self.query_id = query_id
        with self._lock:
            self._next_uri = None if self._stop.is_set() else next_uri
        if self._mapper is None and columns:
            self._mapper = RowMapperFactory().create(
                columns=columns, legacy_primitive_types=self._legacy
            )
        raw = status.pop("data", None) or []
        segment_bytes = 0
        if isinstance(raw, dict):
            rows, segment_bytes = self._decode_segments(raw)
        else:
            rows = _map_releasing(self._mapper, raw) if (self._mapper is not None and raw) else []
        del raw
        digest_before = None
        if self._digest is not None:
            digest_before = self._digest.copy()
            row_digest_update(self._digest, rows)
        return Page(
            query_id=query_id,
            columns=columns,
            rows=rows,
            stats=dict(status.get("stats") or {}),
            update_type=status.get("updateType"),
            update_count=status.get("updateCount"),
            warnings=list(status.get("warnings") or []),
            info_uri=status.get("infoUri", ""),
            final=next_uri is None,
            headers=_session_headers(response),
            digest_before=digest_before,
            segment_bytes=segment_bytes,
        )

    def _decode_segments(self, data: dict[str, Any]) -> tuple[list[Any], int]:
        """Rows of a spooling-protocol page, inline or downloaded, decoded by the official
        client's segment classes; and the bytes they took."""
        if self._mapper is None or not data.get("segments"):
            return [], 0
        client: Any = trino.client  # its segment classes are not typed
        encoding = data["encoding"]
        metadata = data.get("metadata")
        segments = []
        size = 0
        for raw in data["segments"]:
            kind = raw.get("type")
            segment: Any
            if kind == "inline":
                segment = client.InlineSegment(raw)
            elif kind == "spooled":
                segment = client.SpooledSegment(
                    raw,
                    self._request.unauthenticated(),  # type: ignore[no-untyped-call]
                    coordinator_host=self.coordinator.host,
                    custom_headers={},
                )
            else:
                raise ValueError(f"unknown result segment type {kind!r}")
            size += int(raw.get("metadata", {}).get("segmentSize", 0))
            segments.append(client.DecodableSegment(encoding, metadata, segment))
        return list(client.SegmentIterator(segments, self._mapper)), size


def _held_bytes(page: Page, response: requests.Response) -> int:
    """About how much memory a buffered page holds: its rows as Python objects (several
    times their JSON), so a ``prefetch`` size bounds memory, not bytes on the wire."""
    return max(len(response.content), estimated_size(page.rows))


def estimated_size(rows: list[Any]) -> int:
    """Bytes ``rows`` take as Python objects, estimated from three of them (the first, the
    middle and the last), each row with its values one level deep."""
    if not rows:
        return 0
    samples = (rows[0], rows[len(rows) // 2], rows[-1])
    total = 0
    for row in samples:
        total += sys.getsizeof(row) + 8  # and the pointer to it in the page
        for value in row:
            total += sys.getsizeof(value)
    return total * len(rows) // len(samples)


def _read_status(response: requests.Response) -> dict[str, Any] | None:
    """The JSON status of a 200 answer, decoded straight from its bytes; None when it is
    empty, not an object, or an error (the official client then raises its own error)."""
    body = response.content
    if not body or not body.strip():
        return None
    status = _loads(body)
    if not isinstance(status, dict) or status.get("error") or "id" not in status:
        return None
    return status


_MAP_STEP = 1024


def _map_releasing(mapper: Any, raw: list[Any]) -> list[Any]:
    """Map a page's JSON rows to Python values a slice at a time, letting go of each JSON
    row once mapped: decoding a page holds about one copy of its rows, not two."""
    if len(raw) <= _MAP_STEP:
        mapped: list[Any] = mapper.map(raw)
        return mapped
    out: list[Any] = []
    for start in range(0, len(raw), _MAP_STEP):
        chunk = raw[start : start + _MAP_STEP]
        raw[start : start + _MAP_STEP] = [None] * len(chunk)
        out.extend(mapper.map(chunk))
    return out


def _session_headers(response: requests.Response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    raw = response.raw
    items: list[tuple[str, str]]
    if raw is not None and hasattr(raw, "headers") and hasattr(raw.headers, "items"):
        # urllib3 keeps repeated headers apart (one X-Trino-Set-Session per property).
        items = list(raw.headers.items())
    else:
        items = list(response.headers.items())
    for name, value in items:
        lower = name.lower()
        if not lower.startswith(("x-trino-", "x-presto-")):
            continue
        suffix = lower.split("-", 2)[2]
        if suffix in _SESSION_HEADER_SUFFIXES:
            found.setdefault(lower, []).append(value)
    return found
