"""The agent's ZooKeeper side in-process: ACLs, a lost session, epochs, repairs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl, make_digest_acl

from prestoha.agent import Registrar
from prestoha.discovery import Leader, Member, ZooKeeperDiscovery, parse_auth, parse_hosts
from prestoha.discovery.records import ClusterPaths, decode_leader, encode_leader, encode_member
from prestoha.testing.zookeeper import ZooKeeperEnsemble

pytestmark = pytest.mark.integration

Eventually = Callable[..., Any]


@pytest.fixture
def registrars(
    zookeeper: ZooKeeperEnsemble, cluster_name: str
) -> Iterator[Callable[..., Registrar]]:
    made: list[Registrar] = []

    def make(
        node_id: str, root: str = "/prestoha", cluster: str = cluster_name, **kwargs: Any
    ) -> Registrar:
        r = Registrar(
            parse_hosts(zookeeper.hosts),
            ClusterPaths.of(root, cluster),
            node_id,
            session_timeout=4.0,
            tick=0.2,
            **kwargs,
        )
        r.start()
        made.append(r)
        return r

    yield make
    for r in made:
        r.shutdown()


def member(node_id: str, port: int) -> Member:
    return Member(node_id=node_id, uri=f"http://127.0.0.1:{port}", version="475")


def test_znodes_carry_the_acl_and_stay_world_readable(
    zookeeper: ZooKeeperEnsemble,
    zk_client: KazooClient,
    cluster_name: str,
    registrars: Callable[..., Registrar],
    eventually: Eventually,
) -> None:
    root = f"/acl-{cluster_name}"
    paths = ClusterPaths.of(root, cluster_name)
    r = registrars("c1", root=root, auth=parse_auth("agent:s3cret"))
    r.want(member("c1", 8081))
    eventually(lambda: r.leader_epoch is not None, 15, "c1 leads")
    for path in (paths.base, paths.members, paths.member("c1"), paths.leader, paths.epoch):
        acls, _ = zk_client.get_acls(path)
        assert {(a.id.scheme, a.perms) for a in acls} == {("digest", 31), ("world", 1)}, path
    assert "s3cret" not in repr(acls)
    # the shared root lets nobody else create a cluster under it...
    acls, _ = zk_client.get_acls(root)
    assert {(a.id.scheme, a.perms) for a in acls} == {("digest", 31), ("world", 1)}
    with pytest.raises(NoAuthError):
        zk_client.create(f"{root}/planted", b"")
    refused = registrars("o1", root=root, cluster="other", auth=parse_auth("other:pw"))
    refused.want(member("o1", 9091))
    reason = eventually(lambda: refused.refused, 15, "o1 refuses to run")
    assert f"{root}/other" in reason and "'other'" in reason and "pw" not in reason
    assert not refused.registered
    # ...until its owner lets the agents of the other cluster create theirs
    admin = KazooClient(hosts=zookeeper.hosts, auth_data=[("digest", "agent:s3cret")])
    admin.start(timeout=10)
    try:
        grant = make_digest_acl("other", "pw", create=True)
        admin.set_acls(root, [*admin.get_acls(root)[0], grant])
    finally:
        admin.stop()
        admin.close()
    other = registrars("o2", root=root, cluster="other", auth=parse_auth("other:pw"))
    other.want(member("o2", 9091))
    eventually(lambda: other.leader_epoch is not None, 15, "o2 leads its own cluster")
    # an anonymous client reads but cannot write or delete
    with pytest.raises(NoAuthError):
        zk_client.set(paths.leader, b"{}")
    with pytest.raises(NoAuthError):
        zk_client.delete(paths.member("c1"))
    with ZooKeeperDiscovery(zookeeper.hosts, cluster=cluster_name, root=root) as d:
        t = d.topology()
        assert [m.node_id for m in t.members] == ["c1"] and t.leader is not None


def test_no_world_read_keeps_anonymous_readers_out(
    zookeeper: ZooKeeperEnsemble,
    cluster_name: str,
    registrars: Callable[..., Registrar],
    eventually: Eventually,
) -> None:
    root = f"/nwr-{cluster_name}"
    r = registrars("c1", root=root, auth=parse_auth("agent:pw"), world_read=False)
    r.want(member("c1", 8081))
    eventually(lambda: r.leader_epoch is not None, 15, "c1 leads")
    with ZooKeeperDiscovery(zookeeper.hosts, cluster=cluster_name, root=root) as d:
        assert d.topology().members == ()
        assert any("not allowed to read" in p for p in d.topology().problems)
    with ZooKeeperDiscovery(zookeeper.hosts, cluster=cluster_name, root=root, auth="agent:pw") as d:
        assert [m.node_id for m in d.topology().members] == ["c1"]


def test_a_lost_session_is_followed_by_a_new_registration(
    zookeeper: ZooKeeperEnsemble,
    zk_client: KazooClient,
    cluster_name: str,
    registrars: Callable[..., Registrar],
    eventually: Eventually,
) -> None:
    paths = ClusterPaths.of("/prestoha", cluster_name)
    r = registrars("c1")
    r.want(member("c1", 8081))
    first = eventually(lambda: r.leader_epoch, 15, "c1 leads")
    old_session = zk_client.exists(paths.member("c1")).ephemeralOwner
    # expire the agent's session from outside, as ZooKeeper does after a long partition
    client_id = r.client_id
    assert client_id is not None
    thief = KazooClient(hosts=zookeeper.hosts, client_id=client_id)
    thief.start(timeout=10)
    thief.stop()
    thief.close()

    def registered_again() -> bool:
        stat = zk_client.exists(paths.member("c1"))
        return stat is not None and stat.ephemeralOwner != old_session

    eventually(registered_again, 20, "c1 registered with a new session")
    second = eventually(lambda: r.leader_epoch, 20, "c1 leads again")
    assert second > first
    assert decode_leader(zk_client.get(paths.leader)[0]).epoch == second


def test_epochs_grow_and_deleted_znodes_are_repaired(
    zk_client: KazooClient,
    cluster_name: str,
    registrars: Callable[..., Registrar],
    eventually: Eventually,
) -> None:
    paths = ClusterPaths.of("/prestoha", cluster_name)
    a = registrars("a")
    a.want(member("a", 8081))
    e1 = eventually(lambda: a.leader_epoch, 15, "a leads")
    b = registrars("b")
    b.want(member("b", 8082))
    eventually(lambda: zk_client.exists(paths.member("b")), 15, "b registered")
    # someone deletes the leader and a member znode by hand: both come back
    zk_client.delete(paths.leader)
    zk_client.delete(paths.member("b"))
    eventually(lambda: zk_client.exists(paths.leader), 15, "leader znode restored")
    eventually(lambda: zk_client.exists(paths.member("b")), 15, "member b restored")
    assert decode_leader(zk_client.get(paths.leader)[0]).epoch == e1
    # a withdraws (its coordinator failed): b leads with a higher epoch
    a.want(None)
    e2 = eventually(lambda: b.leader_epoch, 15, "b leads")
    assert e2 > e1
    assert zk_client.exists(paths.member("a")) is None
    assert zk_client.Lock(paths.election).contenders() == ["b"]
    # a comes back and queues behind b
    a.want(member("a", 8081))
    eventually(lambda: zk_client.Lock(paths.election).contenders() == ["b", "a"], 15)
    assert a.leader_epoch is None and b.leader_epoch == e2


def test_a_bogus_epoch_or_a_recreated_tree_does_not_blind_clients(
    zookeeper: ZooKeeperEnsemble,
    zk_client: KazooClient,
    cluster_name: str,
    registrars: Callable[..., Registrar],
    eventually: Eventually,
) -> None:
    root = f"/ep-{cluster_name}"
    paths = ClusterPaths.of(root, cluster_name)
    bogus = Leader(node_id="x", uri="http://127.0.0.1:9", epoch=2**31 - 1)
    zk_client.create(paths.leader, encode_leader(bogus), makepath=True)
    with ZooKeeperDiscovery(zookeeper.hosts, cluster=cluster_name, root=root) as d:
        t = d.wait_for(lambda t: any("epoch" in p for p in t.problems), 10)
        assert t is not None and t.leader is None
        a = registrars("a", root=root)
        a.want(member("a", 8081))
        e1 = eventually(lambda: a.leader_epoch, 15, "a leads")
        t = d.wait_for(lambda t: t.leader is not None and t.leader.node_id == "a", 15)
        assert t is not None and t.leader is not None and t.leader.epoch == e1
        # a second agent leads for a while, so the epoch climbs above 1
        b = registrars("b", root=root)
        b.want(member("b", 8082))
        a.want(None)
        e2 = eventually(lambda: b.leader_epoch, 15, "b leads")
        assert d.wait_for(lambda t: t.leader is not None and t.leader.epoch == e2, 15)
        # the whole tree is deleted: the agents build it again, epochs restart at 1, and the
        # long-running client follows the new counter
        b.want(None)
        eventually(lambda: zk_client.exists(paths.leader) is None, 15, "b resigned")
        zk_client.delete(root, recursive=True)
        a.want(member("a", 8081))
        t = d.wait_for(lambda t: t.leader is not None and t.leader.node_id == "a", 15)
        assert t is not None and t.leader is not None and t.leader.epoch < e2


def test_turning_auth_on_repairs_an_open_tree(
    zookeeper: ZooKeeperEnsemble,
    zk_client: KazooClient,
    cluster_name: str,
    registrars: Callable[..., Registrar],
    eventually: Eventually,
) -> None:
    root = f"/open-{cluster_name}"
    paths = ClusterPaths.of(root, cluster_name)
    # what agents without auth (or anyone at all) left behind: every znode open, the root
    # with CREATE for everyone as earlier versions made it, and a planted member
    zk_client.create(
        root, b"", acl=[make_acl("world", "anyone", read=True, create=True, admin=True)]
    )
    for path in (paths.base, paths.members, paths.election):
        zk_client.create(path, b"")
    zk_client.create(paths.epoch, b"0")
    evil = Member(node_id="evil", uri="https://attacker.example.org:443")
    zk_client.create(paths.member("evil"), encode_member(evil))
    r = registrars("c1", root=root, auth=parse_auth("agent:s3cret"))
    r.want(member("c1", 8081))
    eventually(lambda: r.leader_epoch is not None, 15, "c1 leads")
    assert not r.refused
    for path in (root, paths.base, paths.members, paths.election, paths.epoch):
        acls, _ = zk_client.get_acls(path)
        assert {(a.id.scheme, a.perms) for a in acls} == {("digest", 31), ("world", 1)}, path
    assert zk_client.exists(paths.member("evil")) is None
    for path in (f"{root}/planted", f"{paths.base}/planted", f"{paths.members}/planted"):
        with pytest.raises(NoAuthError):
            zk_client.create(path, b"")


def test_a_cluster_znode_someone_else_owns_makes_the_agent_refuse(
    zookeeper: ZooKeeperEnsemble,
    cluster_name: str,
    registrars: Callable[..., Registrar],
    eventually: Eventually,
) -> None:
    root = f"/owned-{cluster_name}"
    paths = ClusterPaths.of(root, cluster_name)
    squatter = KazooClient(hosts=zookeeper.hosts, auth_data=[("digest", "mallory:x")])
    squatter.start(timeout=10)
    try:
        owned = [make_digest_acl("mallory", "x", all=True), make_acl("world", "anyone", read=True)]
        squatter.create(paths.base, b"", acl=owned, makepath=True)
        r = registrars("c1", root=root, auth=parse_auth("agent:s3cret"))
        r.want(member("c1", 8081))
        reason = eventually(lambda: r.refused, 15, "the agent refuses")
        assert paths.base in reason and "s3cret" not in reason
        assert not r.registered and r.leader_epoch is None
        assert squatter.get_children(paths.base) == []
    finally:
        squatter.stop()
        squatter.close()
