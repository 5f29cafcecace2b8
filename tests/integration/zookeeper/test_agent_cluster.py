"""Agents beside emulated coordinators: election, failover, deregistration, rise.

All tests share one LocalCluster (ZooKeeper + 3 coordinators + 3 agents) that the
``local_cluster`` fixture heals before each test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kazoo.client import KazooClient

from prestoha.discovery import Topology
from prestoha.discovery.records import ClusterPaths
from prestoha.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration

Eventually = Callable[..., Any]


def member_ids(t: Topology) -> set[str]:
    return {m.node_id for m in t.members}


@pytest.fixture
def zk(local_cluster: LocalCluster) -> Any:
    client = KazooClient(hosts=local_cluster.zk_hosts)
    client.start(timeout=10)
    yield client
    client.stop()
    client.close()


def test_three_agents_elect_exactly_one_leader(local_cluster: LocalCluster, zk: Any) -> None:
    paths = ClusterPaths.of(local_cluster.root, local_cluster.cluster)
    topology = local_cluster.topology()
    assert member_ids(topology) == {"c1", "c2", "c3"}
    assert topology.leader is not None
    leader = topology.leader
    assert leader.uri == local_cluster.coordinators[local_cluster.index(leader.node_id)]
    # one leader znode, three contenders in kazoo's Lock layout, the first one leads
    contenders = zk.Lock(paths.election).contenders()
    assert sorted(contenders) == ["c1", "c2", "c3"]
    assert contenders[0] == leader.node_id
    # every member record carries what /v1/info said
    assert {(m.environment, m.version) for m in topology.members} == {("test", "475")}


def test_killing_the_leaders_coordinator_elects_another(local_cluster: LocalCluster) -> None:
    old = local_cluster.wait_for_leader(30)
    local_cluster.kill(local_cluster.index(old.node_id))
    new = local_cluster.wait_for_leader(30, not_node=old.node_id)
    assert new.epoch > old.epoch
    t = local_cluster.discovery.wait_for(lambda t: old.node_id not in member_ids(t), 30)
    assert t is not None and new.node_id in member_ids(t)


def test_killing_the_leaders_agent_elects_another_after_the_session_expires(
    local_cluster: LocalCluster,
) -> None:
    old = local_cluster.wait_for_leader(30)
    local_cluster.kill_agent(local_cluster.index(old.node_id))
    new = local_cluster.wait_for_leader(30, not_node=old.node_id)
    assert new.epoch > old.epoch
    t = local_cluster.topology()
    # the znodes went together: with its session
    assert old.node_id not in member_ids(t)


def test_sigterm_deletes_the_agents_znodes(local_cluster: LocalCluster, zk: Any) -> None:
    paths = ClusterPaths.of(local_cluster.root, local_cluster.cluster)
    leader = local_cluster.wait_for_leader(30)
    i = local_cluster.index(leader.node_id)
    assert local_cluster.stop_agent(i) == 0
    # the agent exited after deleting: nothing of it is left, at once
    assert zk.exists(paths.member(leader.node_id)) is None
    data = zk.get(paths.leader)[0] if zk.exists(paths.leader) else b""
    assert leader.node_id.encode() not in data
    assert leader.node_id not in zk.Lock(paths.election).contenders()
    # a follower's SIGTERM too
    follower = next(n for n in local_cluster.node_ids if n != leader.node_id)
    assert local_cluster.stop_agent(local_cluster.index(follower)) == 0
    assert zk.exists(paths.member(follower)) is None


def test_a_coordinator_that_comes_back_is_registered_again(local_cluster: LocalCluster) -> None:
    node = local_cluster.node_ids[1]
    local_cluster.kill(1)
    assert local_cluster.discovery.wait_for(lambda t: node not in member_ids(t), 30) is not None
    local_cluster.restart(1)
    assert local_cluster.discovery.wait_for(lambda t: node in member_ids(t), 30) is not None


def test_a_starting_coordinator_is_not_registered(
    local_cluster: LocalCluster, eventually: Eventually
) -> None:
    node = local_cluster.node_ids[2]
    admin = local_cluster.coordinator(2).admin
    admin.set_faults(starting=True)
    assert local_cluster.discovery.wait_for(lambda t: node not in member_ids(t), 30) is not None
    # a fresh agent never registers it while it says starting
    local_cluster.restart_agent(2)
    agent_log = local_cluster.agent(2).log_path
    eventually(lambda: agent_log.read_text().count("coordinator check failed: starting") >= 2)
    assert node not in member_ids(local_cluster.topology())
    admin.set_faults(starting=False)
    assert local_cluster.discovery.wait_for(lambda t: node in member_ids(t), 30) is not None


def test_a_hung_coordinator_is_deregistered(local_cluster: LocalCluster) -> None:
    node = local_cluster.node_ids[0]
    local_cluster.stop(0)
    assert local_cluster.discovery.wait_for(lambda t: node not in member_ids(t), 30) is not None
    local_cluster.cont(0)
    assert local_cluster.discovery.wait_for(lambda t: node in member_ids(t), 30) is not None
