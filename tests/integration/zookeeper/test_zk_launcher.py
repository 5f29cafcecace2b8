"""The ZooKeeper launcher: a node killed and restarted keeps its data; an ensemble keeps
serving with one node down."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kazoo.client import KazooClient

from prestoha.testing.zookeeper import ZooKeeperEnsemble, four_letter_word

pytestmark = pytest.mark.integration

Eventually = Callable[..., Any]


def test_a_killed_node_restarts_with_its_data(
    zookeeper: ZooKeeperEnsemble, cluster_name: str
) -> None:
    path = f"/launcher/{cluster_name}"
    client = KazooClient(hosts=zookeeper.hosts)
    client.start(timeout=10)
    try:
        client.create(path, b"kept", makepath=True)
    finally:
        client.stop()
        client.close()
    assert four_letter_word(zookeeper.nodes[0].client_port, "ruok") == "imok"
    assert "Mode: standalone" in four_letter_word(zookeeper.nodes[0].client_port, "srvr")
    zookeeper.kill(0)
    assert not zookeeper.nodes[0].running and not zookeeper.nodes[0].serving()
    zookeeper.restart(0)
    client = KazooClient(hosts=zookeeper.hosts)
    client.start(timeout=10)
    try:
        assert client.get(path)[0] == b"kept"
    finally:
        client.stop()
        client.close()


def test_an_ensemble_serves_with_one_node_down(
    zookeeper_ensemble: ZooKeeperEnsemble, eventually: Eventually
) -> None:
    modes = {
        four_letter_word(n.client_port, "srvr").split("Mode: ")[1].split()[0]
        for n in zookeeper_ensemble.nodes
    }
    assert modes == {"leader", "follower"}
    zookeeper_ensemble.kill(0)
    client = KazooClient(hosts=zookeeper_ensemble.hosts)
    client.start(timeout=15)
    try:
        client.ensure_path("/launcher/ensemble")
        assert client.exists("/launcher/ensemble") is not None
    finally:
        client.stop()
        client.close()
    zookeeper_ensemble.restart(0)
    eventually(zookeeper_ensemble.nodes[0].serving, 30, "node 1 back in the quorum")
