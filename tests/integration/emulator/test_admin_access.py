"""The admin API and node state changes answer loopback clients only, whatever the bind address."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from prestoha.testing.coordinator import Coordinator, EmulatorAdmin
from prestoha.testing.coordinator.http.server import EmulatorServer, is_loopback
from prestoha.testing.coordinator.process import EmulatorProcess

pytestmark = pytest.mark.integration

OUTSIDER = "203.0.113.9"  # TEST-NET-3: nothing is ever sent there, the peer address is claimed


@pytest.fixture
def coordinator() -> Iterator[Coordinator]:
    with Coordinator(node_id="acl", admin=True) as c:
        yield c


def ask_as(
    c: Coordinator, peer: str, method: str, path: str, body: bytes = b""
) -> tuple[int, bytes]:
    """One request served by ``c``'s handler as if it came from ``peer``.

    The bytes travel over a real loopback connection; only the peer address the handler is
    given differs, as a socket would report a client on another host.
    """
    server = EmulatorServer(("127.0.0.1", 0), c)
    try:
        host, port = server.server_address[:2]
        with socket.create_connection((str(host), int(port)), timeout=5) as client:
            conn, _ = server.get_request()
            worker = threading.Thread(
                target=server.finish_request, args=(conn, (peer, 40000)), daemon=True
            )
            worker.start()
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: coordinator\r\nX-Trino-User: t\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            client.sendall(head.encode() + body)
            worker.join(5)  # the handler returns after one answer (Connection: close)
            server.shutdown_request(conn)
            data = b""
            while chunk := client.recv(65536):
                data += chunk
    finally:
        server.server_close()
    return int(data.split(b" ", 2)[1]), data.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize("peer", [OUTSIDER, "10.1.2.3", "::ffff:192.0.2.1", "2001:db8::1"])
def test_a_remote_client_cannot_switch_faults_or_the_node_state(
    coordinator: Coordinator, peer: str
) -> None:
    assert ask_as(coordinator, peer, "GET", "/_emulator/faults")[0] == 403
    status, _ = ask_as(coordinator, peer, "POST", "/_emulator/faults", b'{"hang": true}')
    assert status == 403
    assert ask_as(coordinator, peer, "POST", "/_emulator/forget")[0] == 403
    status, _ = ask_as(coordinator, peer, "PUT", "/v1/info/state", b'"SHUTTING_DOWN"')
    assert status == 403
    assert not coordinator.faults.hang
    assert not coordinator.faults.shutting_down
    # What any client of a coordinator may do still works.
    status, body = ask_as(coordinator, peer, "GET", "/v1/info")
    assert status == 200 and json.loads(body)["coordinator"] is True
    assert ask_as(coordinator, peer, "GET", "/v1/info/state") == (200, b'"ACTIVE"')


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_a_loopback_client_may(coordinator: Coordinator, peer: str) -> None:
    status, body = ask_as(coordinator, peer, "POST", "/_emulator/faults", b'{"latency_ms": 5}')
    assert status == 200 and json.loads(body)["latency_ms"] == 5
    assert ask_as(coordinator, peer, "PUT", "/v1/info/state", b'"SHUTTING_DOWN"')[0] == 200
    assert coordinator.faults.shutting_down
    assert ask_as(coordinator, peer, "PUT", "/v1/info/state", b'"ACTIVE"')[0] == 200


def test_emulators_listen_on_loopback_unless_told_otherwise(coordinator: Coordinator) -> None:
    assert coordinator.uri.startswith("http://127.0.0.1:")
    assert EmulatorProcess(node_id="x").host == "127.0.0.1"
    with EmulatorAdmin(coordinator.uri) as admin:
        assert admin.set_faults(latency_ms=1)["latency_ms"] == 1
    answer = requests.put(f"{coordinator.uri}/v1/info/state", json="SHUTTING_DOWN", timeout=5)
    assert answer.status_code == 200


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.9")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.1")
    assert not is_loopback("localhost")  # a name is not an address a socket reports
