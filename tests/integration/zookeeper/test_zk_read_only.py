"""A read-only ZooKeeper identity for the clients (``--zk-read-auth``), on the real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import OPEN_ACL_UNSAFE, make_digest_acl_credential

from prestoha.agent import Registrar
from prestoha.discovery import Member, ZooKeeperDiscovery, parse_auth, parse_hosts
from prestoha.discovery.records import ClusterPaths
from prestoha.testing.zookeeper import ZooKeeperEnsemble

pytestmark = pytest.mark.integration

Eventually = Callable[..., Any]
AGENT, READER = "agent:s3cret", "reader:r3ad-only"


@pytest.fixture
def registrar(zookeeper: ZooKeeperEnsemble) -> Iterator[Callable[..., Registrar]]:
    made: list[Registrar] = []

    def make(paths: ClusterPaths, node_id: str, **kwargs: Any) -> Registrar:
        r = Registrar(
            parse_hosts(zookeeper.hosts),
            paths,
            node_id,
            session_timeout=4.0,
            tick=0.2,
            auth=parse_auth(AGENT),
            **kwargs,
        )
        r.start()
        r.want(Member(node_id=node_id, uri="http://127.0.0.1:8081", version="475"))
        made.append(r)
        return r

    yield make
    for r in made:
        r.shutdown()


def client(zookeeper: ZooKeeperEnsemble, auth: str | None) -> KazooClient:
    c = KazooClient(hosts=zookeeper.hosts, auth_data=[("digest", auth)] if auth else None)
    c.start(timeout=10)
    return c


def test_the_reader_sees_members_and_leader_and_can_change_nothing(
    zookeeper: ZooKeeperEnsemble,
    cluster_name: str,
    registrar: Callable[..., Registrar],
    eventually: Eventually,
) -> None:
    paths = ClusterPaths.of(f"/ro-{cluster_name}", cluster_name)
    r = registrar(paths, "c1", world_read=False, read_auth=parse_auth(READER))
    eventually(lambda: r.leader_epoch is not None, 15, "c1 leads")
    with ZooKeeperDiscovery(
        zookeeper.hosts, cluster=paths.cluster, root=paths.root, auth=READER
    ) as d:
        t = d.topology()
        assert [m.node_id for m in t.members] == ["c1"]
        assert t.leader is not None and t.leader.node_id == "c1" and not t.problems
    with ZooKeeperDiscovery(zookeeper.hosts, cluster=paths.cluster, root=paths.root) as d:
        assert d.topology().members == ()  # no world READ: anonymous clients see nothing
    reader = client(zookeeper, READER)
    try:
        for attempt in (
            lambda: reader.create(f"{paths.members}/planted", b"{}"),
            lambda: reader.create(f"{paths.election}/x__lock__0000000000", b"planted"),
            lambda: reader.set(paths.leader, b"{}"),
            lambda: reader.set(paths.epoch, b"99"),
            lambda: reader.delete(paths.member("c1")),
            lambda: reader.delete(paths.leader),
            lambda: reader.set_acls(paths.members, OPEN_ACL_UNSAFE),
        ):
            with pytest.raises(NoAuthError):
                attempt()
        assert reader.exists(paths.member("c1")) is not None
    finally:
        reader.stop()
        reader.close()


def test_an_agent_given_a_reader_later_grants_it_on_the_existing_znodes(
    zookeeper: ZooKeeperEnsemble,
    cluster_name: str,
    registrar: Callable[..., Registrar],
    eventually: Eventually,
) -> None:
    paths = ClusterPaths.of(f"/ro2-{cluster_name}", cluster_name)
    first = registrar(paths, "c1")  # world-readable, no reader yet
    eventually(lambda: first.leader_epoch is not None, 15, "c1 leads")
    first.shutdown()
    second = registrar(paths, "c2", world_read=False, read_auth=parse_auth(READER))
    eventually(lambda: second.leader_epoch is not None, 15, "c2 leads")
    reader = make_digest_acl_credential("reader", "r3ad-only")
    admin = client(zookeeper, AGENT)
    try:
        for path in (paths.base, paths.members, paths.election, paths.epoch):
            rights = {(a.id.scheme, a.id.id, a.perms) for a in admin.get_acls(path)[0]}
            assert ("digest", reader, 1) in rights, path
            assert not any(scheme == "world" for scheme, _id, _perms in rights), path
    finally:
        admin.stop()
        admin.close()
    with ZooKeeperDiscovery(
        zookeeper.hosts, cluster=paths.cluster, root=paths.root, auth=READER
    ) as d:
        assert [m.node_id for m in d.topology().members] == ["c2"]
