"""prestoha.cluster without a network: sharing, the routing modes, abandoning a node."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prestoha.cluster import Cluster, Coordinator, reset_shared
from prestoha.discovery import StaticDiscovery
from prestoha.errors import ConfigurationError
from prestoha.routing import RoutingMode

URIS = ["http://127.0.0.1:1", "http://127.0.0.1:2"]


@pytest.fixture(autouse=True)
def no_shared_clusters() -> Iterator[None]:
    reset_shared()
    yield
    reset_shared()


def make() -> StaticDiscovery:
    return StaticDiscovery(URIS)


def test_shared_clusters_are_counted_and_reset() -> None:
    first = Cluster.shared(("unit",), make)
    assert Cluster.shared(("unit",), make) is first
    assert Cluster.all() == [first]
    assert reset_shared() == 1
    assert Cluster.all() == []
    assert Cluster.shared(("unit",), make) is not first
    assert reset_shared() == 1 and reset_shared() == 0


def test_release_closes_with_the_last_user() -> None:
    cluster = Cluster.shared(("unit",), make)
    Cluster.shared(("unit",), make)
    cluster.release()
    assert Cluster.all() == [cluster]
    cluster.release()
    assert Cluster.all() == []


@pytest.mark.parametrize("mode", [RoutingMode.ANY, "any", RoutingMode.LEADER_PREFERRED])
def test_acquire_takes_the_mode_as_enum_or_string(mode: RoutingMode | str) -> None:
    cluster = Cluster(make())
    try:
        found = cluster.acquire(mode)
        assert found is not None
        coordinator, token = found
        assert coordinator.uri in URIS and token.node == coordinator.uri
        cluster.done(token)
    finally:
        cluster.release()


def test_leader_mode_goes_to_the_leader_until_it_is_dead() -> None:
    cluster = Cluster(make())  # a static list: the first coordinator leads
    try:
        for mode in (RoutingMode.LEADER, "leader"):
            found = cluster.acquire(mode)
            assert found is not None and found[0].uri == URIS[0]
            cluster.done(found[1])
        with pytest.raises(ConfigurationError, match="routing mode"):
            cluster.acquire("nearest")
        cluster.mark_down(Coordinator.from_uri("a", URIS[0]), "refused")
        assert cluster.acquire(RoutingMode.LEADER) is None
    finally:
        cluster.release()


def test_should_abandon_a_dead_node_or_in_leader_mode_a_follower() -> None:
    cluster = Cluster(make())
    try:
        leader = Coordinator.from_uri("a", URIS[0])
        follower = Coordinator.from_uri("b", URIS[1])
        for mode in (*RoutingMode, "any"):
            assert not cluster.should_abandon(leader, mode)
        assert cluster.should_abandon(follower, RoutingMode.LEADER)
        assert cluster.should_abandon(follower, "leader")
        assert not cluster.should_abandon(follower, RoutingMode.LEADER_PREFERRED)
        cluster.mark_down(leader, "refused")
        for mode in (*RoutingMode, "leader"):
            assert cluster.should_abandon(leader, mode)
    finally:
        cluster.release()
