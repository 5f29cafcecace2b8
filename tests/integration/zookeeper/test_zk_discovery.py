"""ZooKeeperDiscovery against a real ZooKeeper server, with znodes written by hand."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from kazoo.client import KazooClient

from prestoha.discovery import Leader, Member, Topology, ZooKeeperDiscovery
from prestoha.discovery.records import ClusterPaths, encode_leader, encode_member
from prestoha.errors import ConfigurationError, DiscoveryError
from prestoha.testing.zookeeper import ZooKeeperEnsemble, free_ports

pytestmark = pytest.mark.integration

Eventually = Callable[..., Any]


def put_member(zk: KazooClient, paths: ClusterPaths, node_id: str, port: int) -> Member:
    member = Member(node_id=node_id, uri=f"http://127.0.0.1:{port}")
    zk.create(paths.member(node_id), encode_member(member), makepath=True)
    return member


def put_leader(zk: KazooClient, paths: ClusterPaths, node_id: str, port: int, epoch: int) -> Leader:
    leader = Leader(node_id=node_id, uri=f"http://127.0.0.1:{port}", epoch=epoch)
    # as an agent does: the epoch counter's version has reached the epoch first
    zk.ensure_path(paths.epoch)
    while zk.exists(paths.epoch).version < epoch:
        zk.set(paths.epoch, b"")
    if zk.exists(paths.leader):
        zk.set(paths.leader, encode_leader(leader))
    else:
        zk.create(paths.leader, encode_leader(leader), makepath=True)
    return leader


def test_topology_follows_the_znodes(
    zookeeper: ZooKeeperEnsemble, zk_client: KazooClient, cluster_name: str
) -> None:
    paths = ClusterPaths.of("/prestoha", cluster_name)
    with ZooKeeperDiscovery(zookeeper.hosts, cluster=cluster_name) as d:
        assert d.topology().members == () and d.topology().leader is None
        seen: list[Topology] = []
        d.subscribe(seen.append)
        c1 = put_member(zk_client, paths, "c1", 8081)
        c2 = put_member(zk_client, paths, "c2", 8082)
        leader = put_leader(zk_client, paths, "c1", 8081, 1)
        t = d.wait_for(lambda t: len(t.members) == 2 and t.leader is not None, 10)
        assert t is not None
        assert set(t.members) == {c1, c2} and t.leader == leader and not t.stale
        zk_client.delete(paths.member("c1"))
        zk_client.delete(paths.leader)
        t = d.wait_for(lambda t: t.leader is None and len(t.members) == 1, 10)
        assert t is not None and t.members == (c2,)
        versions = [s.version for s in seen]
        assert versions == sorted(versions) and len(set(versions)) == len(versions)
        assert seen[-1] == t


def test_bad_records_stale_epochs_and_foreign_hosts_are_ignored_with_a_warning(
    zookeeper: ZooKeeperEnsemble,
    zk_client: KazooClient,
    cluster_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    paths = ClusterPaths.of("/prestoha", cluster_name)
    good = put_member(zk_client, paths, "c1", 8081)
    zk_client.create(paths.member("broken"), b"{definitely not json", makepath=True)
    zk_client.create(paths.member("liar"), encode_member(Member("c9", "http://127.0.0.1:1")))
    zk_client.create(
        paths.member("evil"), encode_member(Member("evil", "https://attacker.example.org:443"))
    )
    put_leader(zk_client, paths, "c1", 8081, 7)
    with (
        caplog.at_level(logging.WARNING, logger="prestoha.discovery"),
        ZooKeeperDiscovery(zookeeper.hosts, cluster=cluster_name, allowed_hosts="127.0.0.1") as d,
    ):
        t = d.topology()
        assert t.members == (good,)
        assert t.leader is not None and t.leader.epoch == 7
        # a leader record going back in time is refused
        put_leader(zk_client, paths, "c1", 8081, 6)
        t = d.wait_for(lambda t: t.leader is None, 10)
        assert t is not None and any("epoch 6" in p for p in t.problems)
        # and one pointing outside allowed_hosts too
        zk_client.set(
            paths.leader, encode_leader(Leader("evil", "https://attacker.example.org:443", 8))
        )
        t = d.wait_for(
            lambda t: any("allowed_hosts" in p and "leader" in p for p in t.problems), 10
        )
        assert t is not None and t.leader is None and t.members == (good,)
        # more changes do not repeat the warnings
        put_member(zk_client, paths, "c2", 8082)
        assert d.wait_for(lambda t: len(t.members) == 2, 10) is not None
    messages = [r.getMessage() for r in caplog.records if r.name == "prestoha.discovery"]
    for needle in ("members/broken", "members/liar", "epoch 6", "member evil", "leader evil"):
        assert sum(needle in m for m in messages) == 1, (needle, messages)
    # a client that is not restricted still sees the foreign member (the filter is per user)
    with ZooKeeperDiscovery(zookeeper.hosts, cluster=cluster_name) as open_d:
        assert {m.node_id for m in open_d.topology().members} == {"c1", "c2", "evil"}


def test_two_hundred_users_share_one_session(
    zookeeper: ZooKeeperEnsemble, cluster_name: str, eventually: Eventually
) -> None:
    before = zookeeper.sessions()
    users: list[ZooKeeperDiscovery] = []
    errors: list[BaseException] = []

    def open_some(n: int) -> None:
        try:
            for _ in range(n):
                users.append(ZooKeeperDiscovery.shared(zookeeper.hosts, cluster=cluster_name))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_some, args=(20,)) for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len(users) == 200
    assert zookeeper.sessions() == before + 1
    # the same ensemble spelled differently is still the same session
    other = ZooKeeperDiscovery(f" {zookeeper.hosts}/ ", cluster=cluster_name)
    assert zookeeper.sessions() == before + 1
    other.close()
    for user in users[:-1]:
        user.close()
        user.close()  # closing twice gives back one share only
    assert zookeeper.sessions() == before + 1
    users[-1].close()
    # the server drops a closed session's connection a moment after answering the close
    eventually(lambda: zookeeper.sessions() == before, 10, "the shared session closed")


def test_unreachable_zookeeper_raises_discovery_error_naming_the_hosts() -> None:
    (port,) = free_ports(1)
    before = ZooKeeperDiscovery.open_sessions()
    with pytest.raises(DiscoveryError, match=f"127.0.0.1:{port}"):
        ZooKeeperDiscovery(f"127.0.0.1:{port}", connect_timeout=1)
    assert ZooKeeperDiscovery.open_sessions() == before


@pytest.mark.parametrize("hosts", ["", "zk1:notaport", "a:1,,b:2"])
def test_bad_host_strings_raise_configuration_error(hosts: str) -> None:
    with pytest.raises(ConfigurationError):
        ZooKeeperDiscovery(hosts)


def test_unreadable_znodes_are_reported_not_fatal(
    zookeeper: ZooKeeperEnsemble, cluster_name: str
) -> None:
    from kazoo.security import make_digest_acl

    paths = ClusterPaths.of("/prestoha", cluster_name)
    owner = KazooClient(hosts=zookeeper.hosts, auth_data=[("digest", "agent:pw")])
    owner.start(timeout=10)
    try:
        acl = [make_digest_acl("agent", "pw", all=True)]
        owner.create(paths.members, b"", acl=acl, makepath=True)
        with ZooKeeperDiscovery(zookeeper.hosts, cluster=cluster_name) as d:
            t = d.topology()
            assert t.members == () and any("not allowed to read" in p for p in t.problems)
        with ZooKeeperDiscovery(zookeeper.hosts, cluster=cluster_name, auth="agent:pw") as d:
            assert not any("not allowed" in p for p in d.topology().problems)
    finally:
        owner.stop()
        owner.close()


def test_with_auth_an_http_member_is_skipped_not_fatal(
    zookeeper: ZooKeeperEnsemble,
    zk_client: KazooClient,
    cluster_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from trino.auth import BasicAuthentication

    import prestoha

    paths = ClusterPaths.of("/prestoha", cluster_name)
    put_member(zk_client, paths, "plain", 8081)
    port = free_ports(1)[0]
    secure = Member(node_id="tls", uri=f"https://127.0.0.1:{port}")
    zk_client.create(paths.member("tls"), encode_member(secure), makepath=True)
    with caplog.at_level(logging.WARNING, logger="prestoha.discovery"):
        conn = prestoha.connect(
            zk=zookeeper.hosts,
            cluster=cluster_name,
            mode="any",
            auth=BasicAuthentication("u", "secret"),
            failover_timeout=2.0,
        )
        try:
            assert conn.cluster.topology().members == (secure,)
            for _ in range(2):
                # the https member is tried (nothing listens there); the http one never is
                with pytest.raises(prestoha.OperationalError) as info:
                    conn.cursor().execute("SELECT 1")
                assert not isinstance(info.value, ConfigurationError)
                assert "8081" not in str(info.value)
        finally:
            conn.close()
    skipped = [r.getMessage() for r in caplog.records if "member plain" in r.getMessage()]
    assert len(skipped) == 1 and "http" in skipped[0] and "secret" not in skipped[0]
