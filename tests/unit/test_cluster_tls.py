"""A coordinator whose TLS certificate does not verify is a configuration problem, not a dead
node: neither the prober nor the hang check marks it down (it says so once, at WARNING)."""

from __future__ import annotations

import logging
import ssl
import threading

import pytest
import requests
import responses

from prestoha.cluster import Cluster, Coordinator, Prober
from prestoha.discovery import StaticDiscovery

URI = "https://c1.example:8443"


def tls_error() -> requests.exceptions.SSLError:
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate")
    return requests.exceptions.SSLError(cert)


@responses.activate
def test_the_prober_never_marks_a_node_down_for_its_certificate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    responses.get(f"{URI}/v1/info", body=tls_error())
    cluster = Cluster(StaticDiscovery([URI, "https://c2.example:8443"]), probe_interval=None)
    prober = Prober(
        cluster.router, cluster.topology, 1.0, leader_only=False, verify="/etc/custom-ca.pem"
    )
    with caplog.at_level(logging.WARNING, "prestoha.cluster"):
        assert prober.probe(URI) is False
        assert prober.probe(URI) is False
    assert not cluster.is_down(URI)
    assert cluster.router.snapshot()[URI].total_failures == 0
    warnings = [r for r in caplog.records if "does not verify" in r.getMessage()]
    assert len(warnings) == 1 and "verify=" in warnings[0].getMessage()


@responses.activate
def test_the_prober_still_marks_a_refusing_node_down() -> None:
    responses.get(f"{URI}/v1/info", body=requests.exceptions.ConnectionError("refused"))
    cluster = Cluster(StaticDiscovery([URI, "https://c2.example:8443"]), probe_interval=None)
    prober = Prober(cluster.router, cluster.topology, 1.0, leader_only=False, verify=True)
    prober.probe(URI)
    assert cluster.is_dead(URI)


@responses.activate
def test_the_hang_check_never_marks_a_node_down_for_its_certificate() -> None:
    responses.get(f"{URI}/v1/info", body=tls_error())
    cluster = Cluster(StaticDiscovery([URI, "https://c2.example:8443"]), probe_interval=None)
    cluster.check_alive(Coordinator.from_uri("c1", URI))
    for thread in threading.enumerate():
        if thread.name == "prestoha-hang-check":
            thread.join(5)
    assert len(responses.calls) == 1
    assert not cluster.is_dead(URI)
