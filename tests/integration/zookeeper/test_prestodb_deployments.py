"""Agents beside emulated PrestoDB 0.29x coordinators, with the real ZooKeeper.

Two deployments: active-standby coordinators whose agents elect a leader (the
``prestodb_local_cluster`` fixture), and disaggregated coordinators, all active, whose agents
run with ``--no-election`` and whose clients route in ``any`` mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kazoo.client import KazooClient

import prestoha
from prestoha.discovery import Topology, ZooKeeperDiscovery
from prestoha.discovery.records import ClusterPaths
from prestoha.testing._local_processes import AgentProcess, CoordinatorProcess
from prestoha.testing.cluster import LocalCluster
from prestoha.testing.zookeeper import ZooKeeperEnsemble

pytestmark = pytest.mark.integration

Eventually = Callable[..., Any]
WHO = "SELECT node_id FROM system.runtime.nodes"


def members(t: Topology) -> dict[str, Any]:
    return {m.node_id: m for m in t.members}


def who(conn: prestoha.Connection) -> str:
    cur = conn.cursor()
    cur.execute(WHO)
    return str(cur.fetchall()[0][0])


# -- active-standby: the election, mode="leader" ------------------------------------------


def test_agents_register_prestodb_coordinators_with_their_protocol(
    prestodb_local_cluster: LocalCluster,
) -> None:
    topology = prestodb_local_cluster.topology()
    assert topology.leader is not None
    found = members(topology)
    assert set(found) == {"c1", "c2", "c3"}
    # what each agent read from its coordinator's /v1/info
    assert {(m.version, m.protocol) for m in found.values()} == {("0.289", "presto")}


def test_leader_mode_follows_the_election_on_prestodb(
    prestodb_local_cluster: LocalCluster,
) -> None:
    cluster = prestodb_local_cluster
    kwargs = {**cluster.connect_kwargs(), "mode": "leader"}
    del kwargs["protocol"]  # auto: the member records say presto
    old = cluster.wait_for_leader(30)
    with prestoha.connect(**kwargs) as conn:
        assert who(conn) == old.node_id
        cluster.kill(cluster.index(old.node_id))
        new = cluster.wait_for_leader(30, not_node=old.node_id)
        assert new.epoch > old.epoch
        assert who(conn) == new.node_id


# -- disaggregated: every coordinator active, --no-election, mode="any" -------------------


@dataclass
class Disaggregated:
    """Two PrestoDB-flavor coordinators, each with an agent run with ``--no-election``."""

    zk_hosts: str
    cluster: str
    coordinators: list[CoordinatorProcess]
    agents: list[AgentProcess]

    @property
    def paths(self) -> ClusterPaths:
        return ClusterPaths.of("/prestoha", self.cluster)

    def discovery(self) -> ZooKeeperDiscovery:
        return ZooKeeperDiscovery(self.zk_hosts, cluster=self.cluster)

    def connect(self, **kwargs: Any) -> prestoha.Connection:
        # no protocol: auto reads it from the member records the agents wrote
        options = {"zk": self.zk_hosts, "cluster": self.cluster, "user": "test"}
        return prestoha.connect(**options, catalog="tpch", schema="tiny", **kwargs)


@pytest.fixture
def disaggregated(
    zookeeper: ZooKeeperEnsemble, cluster_name: str, tmp_path: Path, eventually: Eventually
) -> Iterator[Disaggregated]:
    coordinators = [
        CoordinatorProcess(f"d{i}", tmp_path / "coordinators", extra_args=("--flavor", "prestodb"))
        for i in (1, 2)
    ]
    agents: list[AgentProcess] = []
    try:
        for c in coordinators:
            c.start()
        for c in coordinators:
            assert c.uri is not None
            agent = AgentProcess(
                c.node_id,
                tmp_path / "agents",
                coordinator=c.uri,
                zk_hosts=zookeeper.hosts,
                cluster=cluster_name,
                root="/prestoha",
                interval=0.2,
                check_timeout=0.5,
                rise=2,
                fall=2,
                session_timeout=4.0,
                extra_args=("--no-election",),
            )
            agent.start()
            agents.append(agent)
        setup = Disaggregated(zookeeper.hosts, cluster_name, coordinators, agents)
        with ZooKeeperDiscovery(zookeeper.hosts, cluster=cluster_name) as discovery:
            eventually(
                lambda: set(members(discovery.topology())) == {"d1", "d2"},
                what="both coordinators registered",
            )
        yield setup
    finally:
        for agent in agents:
            agent.kill()
        for c in coordinators:
            c.kill()


def test_no_election_registers_every_coordinator_and_elects_nobody(
    disaggregated: Disaggregated, zk_client: KazooClient
) -> None:
    paths = disaggregated.paths
    with disaggregated.discovery() as d:
        topology = d.topology()
    assert topology.leader is None
    assert {(m.node_id, m.version, m.protocol) for m in topology.members} == {
        ("d1", "0.289", "presto"),
        ("d2", "0.289", "presto"),
    }
    assert zk_client.exists(paths.leader) is None
    assert not zk_client.exists(paths.election) or zk_client.get_children(paths.election) == []
    # an agent stopped with SIGTERM still deletes its member znode at once
    assert disaggregated.agents[0].terminate() == 0
    assert zk_client.exists(paths.member("d1")) is None
    assert zk_client.exists(paths.member("d2")) is not None


def test_any_mode_serves_from_what_the_agents_keep_registered(
    disaggregated: Disaggregated, eventually: Eventually
) -> None:
    d1, d2 = disaggregated.coordinators
    with disaggregated.discovery() as d, disaggregated.connect(mode="any") as conn:
        # a coordinator loading its catalogs is deregistered: everything goes to the other
        d1.admin.set_faults(starting=True)
        eventually(lambda: set(members(d.topology())) == {"d2"}, what="d1 deregistered")
        assert {who(conn) for _ in range(5)} == {"d2"}
        d1.admin.set_faults(starting=False)
        eventually(lambda: set(members(d.topology())) == {"d1", "d2"}, what="d1 back")
        # a killed coordinator: its agent deregisters it, queries keep succeeding
        d2.kill()
        assert {who(conn) for _ in range(5)} == {"d1"}
        eventually(lambda: set(members(d.topology())) == {"d1"}, what="d2 deregistered")


def test_leader_mode_finds_no_leader_on_a_cluster_without_election(
    disaggregated: Disaggregated,
) -> None:
    with disaggregated.connect(mode="leader", failover_timeout=1.0) as conn:
        cur = conn.cursor()
        with pytest.raises(prestoha.NoCoordinatorError, match="no leader was elected"):
            cur.execute(WHO)
