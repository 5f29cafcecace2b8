"""Clients of a three-node ensemble: one node lost changes nothing; all lost, they serve the
cached topology marked stale, and recover when ZooKeeper returns."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from prestoha import events
from prestoha.discovery import Topology, ZooKeeperDiscovery
from prestoha.testing.cluster import LocalCluster
from prestoha.testing.zookeeper import four_letter_word

pytestmark = pytest.mark.integration

Eventually = Callable[..., Any]


def serving_node(cluster: LocalCluster, session_id: int) -> int:
    """The index of the ZooKeeper node a session is connected to."""
    for j, node in enumerate(cluster.zookeeper.nodes):
        if node.running and f"sid=0x{session_id:x}" in four_letter_word(node.client_port, "cons"):
            return j
    raise AssertionError(f"session 0x{session_id:x} is connected to no node")


def test_losing_one_node_changes_nothing_losing_all_serves_the_cache(
    local_cluster_factory: Callable[..., LocalCluster],
    eventually: Eventually,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cluster = local_cluster_factory(coordinators=2, zookeeper_nodes=3)
    discovery = ZooKeeperDiscovery(cluster.zk_hosts, cluster=cluster.cluster)
    try:
        before = discovery.topology()
        assert before.leader is not None and len(before.members) == 2
        seen: list[Topology] = []
        discovery.subscribe(seen.append)
        session = discovery.session_id
        assert session is not None
        states: list[str] = []
        unsubscribe = events.subscribe(
            lambda _event, **fields: states.append(fields["state"]), frozenset({"discovery"})
        )

        # the node this client talks to dies: it moves to another, nobody notices. A topology
        # goes stale only while the session is still away after the grace, so once it is
        # connected again whatever was going to be published has been.
        killed = serving_node(cluster, session)
        cluster.kill_zookeeper(killed)
        try:
            eventually(lambda: states[-1:] == ["connected"], 15, "the session reconnected")
        finally:
            unsubscribe()
        assert states[0] == "suspended", states
        assert discovery.session_id == session
        assert serving_node(cluster, session) != killed
        now = discovery.topology()
        assert (now.members, now.leader, now.stale) == (before.members, before.leader, False)
        assert all(not t.stale for t in seen), seen

        # every node dies: the cached topology is served, marked stale, with a warning
        with caplog.at_level(logging.WARNING, logger="prestoha.discovery"):
            for j, node in enumerate(cluster.zookeeper.nodes):
                if node.running:
                    cluster.kill_zookeeper(j)
            stale = discovery.wait_for(lambda t: t.stale, 20)
        assert stale is not None
        assert (stale.members, stale.leader) == (before.members, before.leader)
        assert any("unreachable" in r.getMessage() for r in caplog.records)

        # ZooKeeper returns: fresh again, with a leader and both members
        for j in range(3):
            cluster.restart_zookeeper(j, wait=j == 2)
        fresh = discovery.wait_for(
            lambda t: not t.stale and t.leader is not None and len(t.members) == 2, 30
        )
        assert fresh is not None
    finally:
        discovery.close()
