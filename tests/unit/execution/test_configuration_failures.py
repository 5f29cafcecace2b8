"""Failures that are the client's configuration, not the node's health: a TLS certificate
that does not verify, a request that could not be built, a ``nextUri`` elsewhere. Each raises a
``ConfigurationError`` saying what to fix, at once, and never marks a node down or ejects it."""

from __future__ import annotations

import ssl

import pytest
import requests
import responses
import trino.client

from prestoha import errors
from prestoha.execution import (
    Cause,
    FailureKind,
    HttpTransport,
    Phase,
    TransportError,
    classify,
    new_http_session,
)
from tests.unit.execution.fake import Fault
from tests.unit.execution.test_core import READ, WRITE, context, nodes, run

URI = "https://c1.example:8443"


def transport(user: str = "ana", next_uri_hosts: tuple[str, ...] = ()) -> HttpTransport:
    return HttpTransport(
        host="c1.example",
        port=8443,
        scheme="https",
        client_session=trino.client.ClientSession(
            user=user, headers={"Authorization": "Bearer s3cret"}
        ),
        http_session=new_http_session(True),
        auth=None,
        connect_timeout=1.0,
        read_timeout=1.0,
        next_uri_hosts=next_uri_hosts,
    )


def tls_error() -> requests.exceptions.SSLError:
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate")
    return requests.exceptions.SSLError(cert)


# -- the transport --------------------------------------------------------------------------


@responses.activate
@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example:8443/v1/statement/executing/q1/1",
        "http://c1.example:8443/v1/statement/executing/q1/1",  # a downgrade
        "https://c1.example:9443/v1/statement/executing/q1/1",
        "https://u:pw9@evil.example/v1/statement/executing/q1/1",
        "ftp://c1.example/x",
    ],
)
def test_a_next_uri_elsewhere_is_refused_before_anything_is_sent(uri: str) -> None:
    t = transport()
    with pytest.raises(TransportError) as info:
        t.fetch(uri)
    assert info.value.cause is Cause.FOREIGN_URI
    with pytest.raises(TransportError):
        t.cancel(uri)
    assert len(responses.calls) == 0  # the credentials went nowhere
    assert "pw9" not in str(info.value)


@responses.activate
def test_next_uri_hosts_lets_a_trusted_host_be_followed_but_never_to_plain_http() -> None:
    status = {"id": "q1", "stats": {"state": "FINISHED"}}
    responses.get("https://edge.example/v1/statement/executing/q1/1", json=status)
    t = transport(next_uri_hosts=("*.example",))
    assert t.fetch("https://edge.example/v1/statement/executing/q1/1").status == status
    with pytest.raises(TransportError) as info:
        t.fetch("http://edge.example/v1/statement/executing/q1/1")
    assert info.value.cause is Cause.FOREIGN_URI


@responses.activate
def test_the_coordinators_own_next_uri_is_followed() -> None:
    status = {"id": "q1", "stats": {"state": "FINISHED"}}
    responses.get(f"{URI}/v1/statement/executing/q1/1", json=status)
    assert transport().fetch(f"{URI}/v1/statement/executing/q1/1").status == status


@responses.activate
def test_a_certificate_that_does_not_verify_is_tls_not_a_lost_connection() -> None:
    responses.post(f"{URI}/v1/statement", body=tls_error())
    with pytest.raises(TransportError) as info:
        transport().submit("SELECT 1", {})
    assert info.value.cause is Cause.TLS
    failure = classify(info.value, Phase.SUBMIT)
    assert failure.kind is FailureKind.CONFIGURATION and not failure.node_down
    assert isinstance(failure.error, errors.ConfigurationError)
    assert failure.error.option == "verify"


@responses.activate
def test_a_header_that_cannot_be_sent_fails_locally_without_its_value() -> None:
    responses.post(f"{URI}/v1/statement", json={"id": "q1"})
    with pytest.raises(TransportError) as info:
        transport(user="ana\r\nX-Injected: 1").submit("SELECT 1", {})
    assert info.value.cause is Cause.NOT_SENT
    assert len(responses.calls) == 0
    assert "X-Injected" not in str(info.value) and "s3cret" not in str(info.value)
    failure = classify(info.value, Phase.SUBMIT)
    assert failure.kind is FailureKind.CONFIGURATION and not failure.node_down


class _Latin1Only(requests.adapters.HTTPAdapter):
    """What http.client does with a header value outside latin-1, before sending a byte."""

    def send(self, request: requests.PreparedRequest, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        raise UnicodeEncodeError("latin-1", "名前", 0, 2, "ordinal not in range(256)")


def test_a_header_outside_latin1_fails_locally() -> None:
    t = transport(user="名前")
    session = t._request._http_session
    session.mount("https://", _Latin1Only())
    with pytest.raises(TransportError) as info:
        t.submit("SELECT 1", {})
    assert info.value.cause is Cause.NOT_SENT
    assert classify(info.value, Phase.SUBMIT).kind is FailureKind.CONFIGURATION


@responses.activate
def test_a_spooled_segment_elsewhere_gets_no_credentials() -> None:
    from prestoha.protocol import RowDecoder

    responses.get("https://bucket.s3.example/seg1", body=b"[[1]]")
    decoder = RowDecoder(legacy_primitive_types=False)
    decoder.learn([{"name": "n", "type": "bigint", "typeSignature": {"rawType": "bigint"}}])
    data = {
        "encoding": "json",
        "segments": [
            {
                "type": "spooled",
                "uri": "https://bucket.s3.example/seg1",
                "ackUri": "https://bucket.s3.example/seg1/ack",
                "metadata": {"rowOffset": 0, "rowsCount": 1, "segmentSize": 5},
            }
        ],
    }
    responses.delete("https://bucket.s3.example/seg1/ack")
    responses.get("https://bucket.s3.example/seg1/ack")
    rows, _size = transport().segment_rows(data, decoder.mapper)
    assert rows == [[1]]
    sent = responses.calls[0].request.headers
    assert "Authorization" not in sent and "s3cret" not in str(dict(sent))


# -- the execution -------------------------------------------------------------------------


@pytest.mark.parametrize("cause", [Cause.TLS, Cause.NOT_SENT, Cause.FOREIGN_URI])
@pytest.mark.parametrize(("request_kind", "sql"), [("submit", WRITE), ("fetch", READ)])
def test_a_configuration_failure_is_raised_at_once_and_blames_no_node(
    cause: Cause, request_kind: str, sql: str
) -> None:
    a, b, c = nodes()
    for node in (a, b, c):
        node.fail(request_kind, 0, Fault(cause=cause))
    ctx, _ = context([a, b, c], mode="leader-preferred")
    with pytest.raises(errors.ConfigurationError):
        run(ctx, sql)
    snapshot = ctx.cluster.router.snapshot()
    assert all(s.state == "healthy" and s.total_failures == 0 for s in snapshot.values())
    assert sum(len(n.submitted) for n in (a, b, c)) == 1  # raised, not retried elsewhere
