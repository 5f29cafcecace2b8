"""A request in flight on one thread is broken from another (a leader change, a node
marked down), against a real socket that accepts and never answers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests
import responses
import trino.client

from prestoha.execution import HttpTransport, new_http_session
from prestoha.execution._interrupt import InFlightRequest


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose listener accepts connections (the kernel does) and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def test_an_interrupt_breaks_a_request_waiting_for_its_answer(silent_port: int) -> None:
    session = new_http_session(True)
    request = InFlightRequest()
    timer = threading.Timer(0.1, request.interrupt)
    timer.start()
    # Without the interrupt this would end in a ReadTimeout, after 30 s.
    with pytest.raises(requests.exceptions.ConnectionError), request.sending():
        session.get(f"http://127.0.0.1:{silent_port}/v1/info", timeout=(1.0, 30.0))
    timer.cancel()
    session.close()


def test_a_request_sent_after_the_interrupt_is_broken_too(silent_port: int) -> None:
    session = new_http_session(True)
    request = InFlightRequest()
    request.interrupt()
    with pytest.raises(requests.exceptions.ConnectionError), request.sending():
        session.get(f"http://127.0.0.1:{silent_port}/v1/info", timeout=(1.0, 30.0))
    session.close()


def test_requests_of_other_threads_are_left_alone(silent_port: int) -> None:
    session = new_http_session(True)
    request = InFlightRequest()
    request.interrupt()  # nothing in flight through it: the next request is not its own
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get(f"http://127.0.0.1:{silent_port}/v1/info", timeout=(1.0, 0.2))
    session.close()


URI = "http://c1.example:8080"


@responses.activate
def test_limit_wait_sets_max_wait_on_page_requests_and_the_read_timeout() -> None:
    seen: list[tuple[str, object]] = []

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        seen.append((request.url or "", request.req_kwargs["timeout"]))  # type: ignore[attr-defined]
        return 200, {}, '{"id": "q1", "stats": {"state": "FINISHED"}}'

    responses.add_callback(responses.GET, f"{URI}/v1/statement/queued/q1/x/1", answer)
    responses.add_callback(responses.POST, f"{URI}/v1/statement", answer)
    transport = HttpTransport(
        host="c1.example",
        port=8080,
        scheme="http",
        client_session=trino.client.ClientSession(user="ana"),
        http_session=new_http_session(True),
        auth=None,
        connect_timeout=1.0,
        read_timeout=5.0,
    )
    transport.limit_wait(0.25, 0.7)
    transport.submit("SELECT 1", {})
    transport.fetch(f"{URI}/v1/statement/queued/q1/x/1?maxWait=1s")
    (post_url, post_timeout), (get_url, get_timeout) = seen
    assert post_url == f"{URI}/v1/statement" and post_timeout == (1.0, 0.7)
    assert get_url == f"{URI}/v1/statement/queued/q1/x/1?maxWait=250ms"
    assert get_timeout == (1.0, 0.7)
