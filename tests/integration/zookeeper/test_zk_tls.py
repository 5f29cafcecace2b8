"""ZooKeeper over TLS against the real server: a secure client port with a throwaway CA that
requires client certificates (``ssl.clientAuth=need``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from prestoha.agent import Agent, AgentConfig, CheckResult, Outcome, build_parser
from prestoha.discovery import ZooKeeperDiscovery, parse_tls
from prestoha.errors import DiscoveryError
from prestoha.testing.zookeeper import (
    TlsFiles,
    ZooKeeperEnsemble,
    ZooKeeperNotInstalledError,
    make_tls_files,
)

pytestmark = pytest.mark.integration

Eventually = Callable[..., Any]


@pytest.fixture(scope="module")
def secure_zk() -> Iterator[ZooKeeperEnsemble]:
    try:
        ensemble = ZooKeeperEnsemble(tls=True, client_auth="need").start()
    except ZooKeeperNotInstalledError as exc:
        pytest.skip(str(exc))
    try:
        yield ensemble
    finally:
        ensemble.close()


def tls_args(files: TlsFiles) -> list[str]:
    return [
        *("--zk-ca", str(files.ca), "--zk-cert", str(files.client_cert)),
        *("--zk-key", str(files.client_key)),
    ]


def test_an_agent_and_a_driver_talk_to_zookeeper_over_tls(
    secure_zk: ZooKeeperEnsemble, cluster_name: str, eventually: Eventually
) -> None:
    files = secure_zk.tls_files
    assert files is not None
    argv = ["--coordinator", "http://127.0.0.1:8081", "--zk", secure_zk.tls_hosts]
    config = AgentConfig.from_args(
        build_parser().parse_args([*argv, "--cluster", cluster_name, *tls_args(files)]), env={}
    )
    agent = Agent(config, check=lambda: CheckResult(Outcome.HEALTHY))
    agent.registrar.start()
    try:
        eventually(lambda: agent.step() and agent.registrar.leader_epoch, 20, "agent leads")
        tls = parse_tls(True, str(files.ca), str(files.client_cert), str(files.client_key))
        with ZooKeeperDiscovery(secure_zk.tls_hosts, cluster=cluster_name, tls=tls) as d:
            topology = d.topology()
            assert [m.node_id for m in topology.members] == [config.node_id]
            assert topology.leader is not None and topology.leader.node_id == config.node_id
    finally:
        agent.registrar.shutdown()


# kazoo 2.11 leaves the socket of a failed TLS handshake to the garbage collector
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_client_with_another_ca_is_refused_with_what_to_fix(
    secure_zk: ZooKeeperEnsemble, tmp_path: Path
) -> None:
    files = secure_zk.tls_files
    assert files is not None
    other = make_tls_files(tmp_path / "other", name="someone else's CA")
    tls = parse_tls(True, str(other.ca), str(files.client_cert), str(files.client_key))
    with pytest.raises(DiscoveryError) as caught:
        ZooKeeperDiscovery(secure_zk.tls_hosts, tls=tls, connect_timeout=2.0)
    message = str(caught.value)
    assert "certificate of 127.0.0.1" in message and "not trusted" in message
    assert "zk_ca" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_plain_client_cannot_use_the_secure_port(secure_zk: ZooKeeperEnsemble) -> None:
    with pytest.raises(DiscoveryError, match="could not be reached"):
        ZooKeeperDiscovery(secure_zk.tls_hosts, connect_timeout=1.0)
