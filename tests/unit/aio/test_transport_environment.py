"""What the asynchronous transport takes from the environment, as requests would: the
proxy variables and ``~/.netrc`` (read once per attempt, not on a thread per request).

A small HTTP server on 127.0.0.1 plays the proxy (or the coordinator itself) and records
what reached it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trino.auth
import trino.client

from prestoha.aio._transport import AsyncHttpTransport, new_client
from prestoha.execution import new_http_session

STATUS = {"id": "q1", "stats": {"state": "FINISHED"}, "columns": [], "data": []}


class _Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str | None]]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append(("POST", self.path, self.headers.get("Authorization")))
        body = json.dumps(STATUS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[int, list[tuple[str, str, str | None]]]]:
    seen: list[tuple[str, str, str | None]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


def submit(host: str, port: int, auth: Any = None) -> None:
    async def go() -> None:
        client = new_client(True)
        try:
            transport = AsyncHttpTransport(
                client=client,
                host=host,
                port=port,
                scheme="http",
                client_session=trino.client.ClientSession(user="ana"),
                http_session=new_http_session(True),
                auth=auth,
                connect_timeout=2.0,
                read_timeout=5.0,
            )
            await transport.submit_async("SELECT 1", {})
        finally:
            await client.close()

    asyncio.run(go())


def test_a_proxy_of_the_environment_carries_the_requests(
    recorder: tuple[int, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, seen = recorder
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    submit("c1.invalid", 8080)
    # a proxy is sent the absolute URL of the coordinator
    assert seen == [("POST", "http://c1.invalid:8080/v1/statement", None)]


def test_no_proxy_sends_straight_to_the_coordinator(
    recorder: tuple[int, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, seen = recorder
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:1")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    submit("127.0.0.1", port)
    assert seen == [("POST", "/v1/statement", None)]


def test_netrc_credentials_are_sent_when_the_connection_has_none(
    recorder: tuple[int, list[Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    port, seen = recorder
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login ana password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    submit("127.0.0.1", port)
    assert seen == [("POST", "/v1/statement", "Basic " + base64.b64encode(b"ana:s3cret").decode())]


def test_the_connection_credentials_win_over_netrc(
    recorder: tuple[int, list[Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    port, seen = recorder
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login ana password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    submit("127.0.0.1", port, auth=trino.auth.BasicAuthentication("bo", "pw"))
    assert seen == [("POST", "/v1/statement", "Basic " + base64.b64encode(b"bo:pw").decode())]
