"""The HTTP transport against answers scripted with ``responses``: what a coordinator's
HTTP answer becomes for the execution core."""

from __future__ import annotations

import json

import pytest
import requests
import responses
import trino.client
import trino.exceptions

from prestoha.execution import Cause, HttpTransport, TransportError, new_http_session

URI = "http://c1.example:8080"


def transport(read_timeout: float = 5.0) -> HttpTransport:
    return HttpTransport(
        host="c1.example",
        port=8080,
        scheme="http",
        client_session=trino.client.ClientSession(user="ana", catalog="tpch", schema="tiny"),
        http_session=new_http_session(True),
        auth=None,
        connect_timeout=1.0,
        read_timeout=read_timeout,
    )


STATUS = {"id": "q1", "nextUri": f"{URI}/v1/statement/queued/q1/1", "stats": {"state": "QUEUED"}}


@responses.activate
def test_a_submit_sends_the_session_and_reads_the_status_and_session_headers() -> None:
    responses.post(
        f"{URI}/v1/statement",
        json=STATUS,
        headers=[("X-Trino-Set-Session", "a=1"), ("X-Trino-Set-Session", "b=2")],
    )
    answer = transport().submit("SELECT 1", {"X-Trino-Trace-Token": "t1"})
    assert answer.status == STATUS
    assert answer.size == len(json.dumps(STATUS))
    sent = responses.calls[0].request
    assert sent.body in (b"SELECT 1", "SELECT 1")
    assert sent.headers["X-Trino-User"] == "ana"
    assert sent.headers["X-Trino-Catalog"] == "tpch"
    assert sent.headers["X-Trino-Trace-Token"] == "t1"
    assert answer.headers == {"x-trino-set-session": ["a=1", "b=2"]}  # kept apart


@responses.activate
@pytest.mark.parametrize("status", [429, 502, 503, 504, 404, 410, 500])
def test_a_status_other_than_200_is_typed_with_its_code(status: int) -> None:
    responses.get(f"{URI}/v1/statement/executing/q1/2", status=status, body="Query not found")
    with pytest.raises(TransportError) as info:
        transport().fetch(f"{URI}/v1/statement/executing/q1/2")
    assert info.value.cause is Cause.HTTP_STATUS
    assert info.value.status == status
    assert info.value.body == "Query not found"


@responses.activate
def test_a_failed_query_is_the_official_clients_typed_error() -> None:
    body = {
        "id": "q1",
        "stats": {"state": "FAILED"},
        "error": {
            "message": "line 1:15: Table 'x' does not exist",
            "errorCode": 46,
            "errorName": "TABLE_NOT_FOUND",
            "errorType": "USER_ERROR",
            "failureInfo": {"type": "io.trino.spi.TrinoException"},
        },
    }
    responses.get(f"{URI}/v1/statement/executing/q1/2", json=body)
    with pytest.raises(trino.exceptions.TrinoUserError) as info:
        transport().fetch(f"{URI}/v1/statement/executing/q1/2")
    assert info.value.error_name == "TABLE_NOT_FOUND"


@responses.activate
@pytest.mark.parametrize(
    ("body", "cause"),
    [(b"<html>bad gateway</html>", Cause.MALFORMED), (b"", Cause.NO_STATUS)],
    ids=["html", "empty"],
)
def test_a_body_that_is_not_a_status_is_typed(body: bytes, cause: Cause) -> None:
    responses.get(f"{URI}/v1/statement/executing/q1/2", body=body)
    with pytest.raises(TransportError) as info:
        transport().fetch(f"{URI}/v1/statement/executing/q1/2")
    assert info.value.cause is cause


@responses.activate
@pytest.mark.parametrize(
    ("raised", "cause"),
    [
        (requests.exceptions.ConnectTimeout("connect timed out"), Cause.CONNECT_TIMEOUT),
        (requests.exceptions.ReadTimeout("read timed out"), Cause.NO_ANSWER),
        (requests.exceptions.ChunkedEncodingError("cut"), Cause.CUT),
        (requests.exceptions.ConnectionError(ConnectionResetError(104, "reset")), Cause.RESET),
        (
            requests.exceptions.ConnectionError(ConnectionRefusedError(111, "refused")),
            Cause.REFUSED,
        ),
    ],
    ids=["connect-timeout", "read-timeout", "cut", "reset", "refused"],
)
def test_connection_failures_are_typed_by_exception_not_message(
    raised: Exception, cause: Cause
) -> None:
    responses.post(f"{URI}/v1/statement", body=raised)
    with pytest.raises(TransportError) as info:
        transport().submit("SELECT 1", {})
    assert info.value.cause is cause


@responses.activate
def test_a_cancel_is_a_delete_of_the_next_uri() -> None:
    responses.delete(f"{URI}/v1/statement/executing/q1/2", status=204)
    transport().cancel(f"{URI}/v1/statement/executing/q1/2")
    assert [c.request.method for c in responses.calls] == ["DELETE"]


def test_the_proxy_environment_is_read_once_per_coordinator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = new_http_session(True)
    first = session.merge_environment_settings(f"{URI}/v1/statement", {}, None, True, None)
    assert first["proxies"]["http"] == "http://proxy.example:3128"
    first["proxies"]["http"] = "changed by the caller"  # what requests does with its copy
    monkeypatch.setenv("HTTP_PROXY", "http://other.example:3128")
    again = session.merge_environment_settings(f"{URI}/v1/statement/x", {}, None, True, None)
    assert again["proxies"]["http"] == "http://proxy.example:3128"
    fresh = new_http_session(True)  # a new pool reads the environment again
    later = fresh.merge_environment_settings(f"{URI}/v1/statement", {}, None, True, None)
    assert later["proxies"]["http"] == "http://other.example:3128"
