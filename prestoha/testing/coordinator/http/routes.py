"""URL routing of the emulator: the statement protocol, node information and the admin API."""

from __future__ import annotations

import json
import os
import re
import resource
import time
import urllib.parse
from typing import Any, Protocol

from .faults import Faults
from .protocol import QueryRegistry
from .query import DEFAULT_TARGET_RESULT_SIZE, MAX_WAIT, NOT_FOUND
from .reply import Reply, text_reply
from .results import dumps
from .spooling import WrongSegmentKey

__all__ = ["CoordinatorLike", "Routes", "airlift_duration", "parse_data_size", "parse_duration"]

_STATEMENT = re.compile(r"^/v1/statement/(queued|executing)/([^/]+)/([^/]+)/(-?\d+)$")
# PrestoDB: /v1/statement/{queued|executing}/{queryId}/{token}?slug=... (QueryResourceUtil).
_PRESTO_STATEMENT = re.compile(r"^/v1/statement/(queued|executing)/([^/]+)/(-?\d+)$")
_PRESTO_QUERY = re.compile(r"^/v1/query/([^/]+)$")
_PRESTO_STAGE = re.compile(r"^/v1/stage/[^/]+$")
_SPOOLED = re.compile(r"^/v1/spooled/(download|ack)/([^/]+)$")
_PARTIAL_CANCEL = re.compile(r"^/v1/statement/executing/partialCancel/[^/]+/\d+/[^/]+/\d+$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|h|d)\s*$")
_DATA_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|kB|KB|MB|GB|TB|PB)\s*$")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
_UNIT_BYTES = {"B": 1, "kB": 1 << 10, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}
_UNIT_BYTES.update({"TB": 1 << 40, "PB": 1 << 50})


def parse_duration(text: str | None) -> float | None:
    """An airlift ``Duration`` string (``1s``, ``500ms``) in seconds; None if absent or bad."""
    if not text:
        return None
    m = _DURATION.match(text)
    return float(m.group(1)) * _UNIT_SECONDS[m.group(2)] if m else None


def parse_data_size(text: str | None) -> int | None:
    """An airlift ``DataSize`` string (``1MB``, ``16kB``) in bytes; None if absent or bad."""
    if not text:
        return None
    m = _DATA_SIZE.match(text)
    return int(float(m.group(1)) * _UNIT_BYTES[m.group(2)]) if m else None


def airlift_duration(seconds: float) -> str:
    """Seconds as airlift prints a ``Duration``: the largest unit >= 1, two decimals (``3.21m``)."""
    value = max(seconds, 0.0)
    for unit in ("d", "h", "m", "s", "ms", "us"):
        scaled = value / _UNIT_SECONDS[unit]
        if scaled >= 1.0:
            return f"{scaled:.2f}{unit}"
    return f"{value / _UNIT_SECONDS['ns']:.2f}ns"


class CoordinatorLike(Protocol):
    """What the routes read and switch on the coordinator they serve (see ``Coordinator``)."""

    @property
    def node_id(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def environment(self) -> str: ...

    @property
    def host(self) -> str: ...

    @property
    def admin(self) -> bool: ...

    @property
    def started_at(self) -> float: ...

    @property
    def faults(self) -> Faults: ...


def _json(value: Any, status: int = 200) -> Reply:
    return Reply(status, dumps(value))


class Routes:
    """Maps (method, path) to the protocol and info resources."""

    def __init__(self, coordinator: CoordinatorLike, registry: QueryRegistry) -> None:
        self.coordinator = coordinator
        self.registry = registry

    # -- node information -------------------------------------------------------------------

    def _uptime(self) -> str:
        return airlift_duration(time.monotonic() - self.coordinator.started_at)

    def info(self) -> dict[str, Any]:
        """``GET /v1/info``."""
        c = self.coordinator
        return {
            "nodeVersion": {"version": c.version},
            "environment": c.environment,
            "coordinator": True,
            "starting": c.faults.starting,
            "uptime": self._uptime(),
        }

    def state(self) -> str:
        """``GET /v1/info/state``."""
        return "SHUTTING_DOWN" if self.coordinator.faults.shutting_down else "ACTIVE"

    def status(self) -> dict[str, Any]:
        """``GET /v1/status`` (a ``NodeStatus``)."""
        c = self.coordinator
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        cpus = os.cpu_count() or 1
        load = os.getloadavg()[0] / cpus if hasattr(os, "getloadavg") else 0.0
        return {
            "nodeId": c.node_id,
            "nodeVersion": {"version": c.version},
            "environment": c.environment,
            "coordinator": True,
            "uptime": self._uptime(),
            "externalAddress": c.host,
            "internalAddress": c.host,
            "memoryInfo": {
                "availableProcessors": cpus,
                "totalNodeMemory": f"{rss}B",
                "pool": {"maxBytes": rss, "reservedBytes": 0, "reservedRevocableBytes": 0},
            },
            "processors": cpus,
            "processCpuLoad": 0.0,
            "systemCpuLoad": min(load, 1.0),
            "heapUsed": rss,
            "heapAvailable": rss,
            "nonHeapUsed": 0,
        }

    # -- the statement protocol -------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, body: bytes, headers: list[tuple[str, str]], base: str
    ) -> Reply:
        """Answer one non-admin request."""
        split = urllib.parse.urlsplit(raw_path)
        path = split.path
        if path == "/v1/statement":
            if method != "POST":
                return text_reply(405, "Method Not Allowed")
            return self.registry.post(body, headers, base)
        presto = self.registry.flavor == "prestodb"
        m = None if presto else _STATEMENT.match(path)
        params = urllib.parse.parse_qs(split.query)
        if presto:
            answer = self._presto_only(method, path)
            if answer is not None:
                return answer
            m = _PRESTO_STATEMENT.match(path)
        if m:
            if presto:
                kind, query_id, token = m.group(1), m.group(2), int(m.group(3))
                slug = next(iter(params.get("slug", [])), "")
            else:
                kind, query_id, slug, token = m.group(1), m.group(2), m.group(3), int(m.group(4))
            if method == "GET":
                if kind == "queued":
                    return self.registry.queued(query_id, slug, token, base)
                wait = parse_duration(next(iter(params.get("maxWait", [])), None))
                size = parse_data_size(next(iter(params.get("targetResultSize", [])), None))
                return self.registry.executing(
                    query_id,
                    slug,
                    token,
                    base,
                    max_wait=MAX_WAIT if wait is None else wait,
                    target_size=DEFAULT_TARGET_RESULT_SIZE if size is None else size,
                )
            if method == "DELETE":
                return self.registry.cancel(query_id, slug)
            if method == "HEAD":
                return self.registry.heartbeat(query_id, slug)
            return text_reply(405, "Method Not Allowed")
        if _PARTIAL_CANCEL.match(path):
            return Reply(204) if method == "DELETE" else text_reply(405, "Method Not Allowed")
        m = _SPOOLED.match(path)
        if m:
            if method != "GET":
                return text_reply(405, "Method Not Allowed")
            return self.spooled(m.group(1), urllib.parse.unquote(m.group(2)), headers)
        return self._info_routes(method, path, body)

    def _presto_only(self, method: str, path: str) -> Reply | None:
        """PrestoDB resources the Trino flavors do not have; None for any other path."""
        m = _PRESTO_QUERY.match(path)
        if m and method == "DELETE":
            # QueryResource.cancelQuery (what presto-python-client's cancel() calls): 204.
            return self.registry.cancel_by_id(m.group(1))
        if _PRESTO_STAGE.match(path) and method == "DELETE":
            return Reply(204)  # StageResource.cancelStage, the partialCancelUri
        return None

    def spooled(self, action: str, segment_id: str, headers: list[tuple[str, str]]) -> Reply:
        """``GET /v1/spooled/download/{id}`` (the bytes) or ``/v1/spooled/ack/{id}`` (delete)."""
        lowered = {k.lower(): v for k, v in headers}
        store = self.registry.segments
        try:
            if action == "ack":
                if not store.ack(segment_id, lowered):
                    return text_reply(404, "Segment not found")
                return Reply(200, b"", "text/plain")
            data = store.get(segment_id, lowered)
        except WrongSegmentKey:
            return text_reply(403, "Invalid segment key")
        if data is None:
            return text_reply(404, "Segment not found")
        return Reply(200, data, "application/octet-stream", has_rows=True)

    def _info_routes(self, method: str, path: str, body: bytes) -> Reply:
        reading = method in ("GET", "HEAD")
        if path == "/v1/info" and reading:
            return _json(self.info())
        if path == "/v1/info/state":
            if reading:
                return _json(self.state())
            if method == "PUT":
                return self._put_state(body)
        if path == "/v1/info/coordinator" and reading:
            return Reply(200, b"", "text/plain")
        if path == "/v1/status" and reading:
            return _json(self.status())
        if path.startswith("/ui/query.html") and reading:
            return Reply(200, b"<html><body>prestoha emulator</body></html>", "text/html")
        return text_reply(404, "Not Found" if not path.startswith("/v1/statement") else NOT_FOUND)

    def _put_state(self, body: bytes) -> Reply:
        try:
            state = json.loads(body or b"null")
        except ValueError:
            state = None
        if state == "SHUTTING_DOWN":
            self.coordinator.faults.shutting_down = True
            return Reply(200)
        if state == "ACTIVE":
            self.coordinator.faults.shutting_down = False
            return Reply(200)
        return text_reply(400, f"Invalid state transition to {state!r}")

    # -- the admin API ----------------------------------------------------------------------

    def local_only(self, method: str, raw_path: str) -> bool:
        """Whether only a loopback client may make this request (admin API, node state change)."""
        if raw_path.startswith("/_emulator/"):
            return True
        return method == "PUT" and urllib.parse.urlsplit(raw_path).path == "/v1/info/state"

    def is_admin(self, raw_path: str) -> bool:
        """Whether this request is for the admin API (and the API is enabled)."""
        return self.coordinator.admin and raw_path.startswith("/_emulator/")

    def admin(self, method: str, raw_path: str, body: bytes) -> Reply:
        """``/_emulator/...``: faults, reset, forget, queries."""
        path = urllib.parse.urlsplit(raw_path).path
        faults = self.coordinator.faults
        if path == "/_emulator/faults" and method == "GET":
            return _json(faults.snapshot())
        if path == "/_emulator/faults" and method == "POST":
            try:
                fields = json.loads(body or b"{}")
                if not isinstance(fields, dict):
                    raise ValueError("the body must be a JSON object")
                return _json(faults.update(fields))
            except ValueError as exc:
                return _json({"error": str(exc)}, 400)
        if path == "/_emulator/reset" and method == "POST":
            faults.reset()
            return _json(faults.snapshot())
        if path == "/_emulator/forget" and method == "POST":
            count = len(self.registry.summaries())
            self.registry.forget()
            return _json({"forgotten": count})
        if path == "/_emulator/queries" and method == "GET":
            return _json(self.registry.summaries())
        return _json({"error": f"no admin resource {method} {path}"}, 404)
