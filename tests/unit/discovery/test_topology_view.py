"""How the shared session turns znode contents into a view: skipping, warning once, epochs."""

from __future__ import annotations

import logging

import pytest

from prestoha.discovery import HostFilter, Leader, Member, Topology, parse_hosts
from prestoha.discovery._zksession import SharedSession
from prestoha.discovery.records import ClusterPaths, encode_leader, encode_member
from prestoha.discovery.zookeeper import UserView


def make_session() -> SharedSession:
    # never started: only the interpretation of what was read is exercised
    return SharedSession(
        ("k", "/prestoha", "default", None),
        parse_hosts("127.0.0.1:1"),
        ClusterPaths.of(),
        None,
        connect_timeout=1,
        session_timeout=4,
    )


def member(node_id: str, port: int = 8080) -> Member:
    return Member(node_id=node_id, uri=f"http://127.0.0.1:{port}")


def leader(node_id: str, epoch: int) -> bytes:
    return encode_leader(Leader(node_id=node_id, uri="http://127.0.0.1:8080", epoch=epoch))


def test_members_and_leader_are_read() -> None:
    s = make_session()
    s.apply({"c1": encode_member(member("c1"))}, leader("c1", 3), [])
    view = s.view()
    assert view.members == (member("c1"),)
    assert view.leader == Leader("c1", "http://127.0.0.1:8080", 3)
    assert view.version == 1 and not view.stale and view.problems == ()


def test_malformed_records_are_skipped_and_warned_about_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    s = make_session()
    bad = {"c1": encode_member(member("c1")), "c2": b"{not json", "c3": encode_member(member("x"))}
    with caplog.at_level(logging.WARNING, logger="prestoha.discovery"):
        for _ in range(3):
            s.apply(dict(bad), b"\x00garbage", [])
    view = s.view()
    assert view.members == (member("c1"),)
    assert view.leader is None
    assert len(view.problems) == 3
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 3, warnings
    assert any("members/c2" in w for w in warnings)
    assert any("members/c3" in w and "sits under" in w for w in warnings)
    assert any("leader" in w for w in warnings)
    # the same node with different bad content is worth a new warning
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="prestoha.discovery"):
        s.apply({"c2": b"[]"}, None, [])
    assert len(caplog.records) == 1


#: the epoch counter znode as (czxid, version): epochs up to 10 came from it
COUNTER = (100, 10)


def read(
    session: SharedSession,
    members: dict[str, bytes],
    counter: tuple[int, int] | None,
    leader_data: bytes | None,
) -> None:
    session.apply(members, leader_data, [], counter)


def view_of(session: SharedSession, user: UserView) -> Topology:
    return user.apply(session.view())


def test_a_leader_with_an_older_epoch_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    s, user = make_session(), UserView(HostFilter())
    read(s, {}, COUNTER, leader("c1", 5))
    assert view_of(s, user).leader == Leader("c1", "http://127.0.0.1:8080", 5)
    with caplog.at_level(logging.WARNING, logger="prestoha.discovery"):
        read(s, {}, COUNTER, leader("c2", 4))
        first = view_of(s, user)
        second = UserView(HostFilter())
        second.max_epoch, second.max_epoch_node = 5, "c1"
        view_of(s, second)
    assert first.leader is None
    assert any("epoch 4" in p for p in first.problems)
    assert len(caplog.records) == 1  # once per process, however many users
    # same epoch, another node: conflicting, refused too
    read(s, {}, COUNTER, leader("c3", 5))
    assert view_of(s, user).leader is None
    # the same leader again, and a newer one, are fine
    read(s, {}, COUNTER, leader("c1", 5))
    assert view_of(s, user).leader == Leader("c1", "http://127.0.0.1:8080", 5)
    read(s, {}, COUNTER, leader("c2", 6))
    assert view_of(s, user).leader == Leader("c2", "http://127.0.0.1:8080", 6)


def test_a_foreign_leader_cannot_raise_the_epoch() -> None:
    s, user = make_session(), UserView(HostFilter.of("127.0.0.1"))
    read(s, {}, COUNTER, leader("c1", 5))
    assert view_of(s, user).leader is not None
    evil = Leader(node_id="evil", uri="https://unit-attacker.example.org:443", epoch=7)
    read(s, {}, COUNTER, encode_leader(evil))
    t = view_of(s, user)
    assert t.leader is None and any("allowed_hosts" in p for p in t.problems)
    read(s, {}, COUNTER, leader("c2", 6))
    assert view_of(s, user).leader == Leader("c2", "http://127.0.0.1:8080", 6)


def test_an_epoch_the_counter_never_handed_out_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    s, user = make_session(), UserView(HostFilter())
    with caplog.at_level(logging.WARNING, logger="prestoha.discovery"):
        for _ in range(2):
            read(s, {}, (100, 10), leader("bogus", 11))
            t = view_of(s, user)
            assert t.leader is None and any("never went past 10" in p for p in t.problems)
    assert len(caplog.records) == 1
    # it did not raise the epoch: the real leader is taken
    read(s, {}, (100, 10), leader("c1", 10))
    assert view_of(s, user).leader == Leader("c1", "http://127.0.0.1:8080", 10)
    # no counter at all: nothing to check the epoch against
    read(s, {}, None, leader("c1", 10))
    assert view_of(s, user).leader is None


def test_a_recreated_counter_lets_epochs_start_again(caplog: pytest.LogCaptureFixture) -> None:
    s, user = make_session(), UserView(HostFilter())
    read(s, {}, (100, 9), leader("c1", 9))
    assert view_of(s, user).leader is not None
    with caplog.at_level(logging.WARNING, logger="prestoha.discovery"):
        # the root was deleted and built again: a new counter (czxid 500), epochs from 1
        fresh = Leader("c2", "http://127.0.0.1:8080", 1, counter=500)
        for _ in range(3):
            read(s, {}, (500, 1), encode_leader(fresh))
            assert view_of(s, user).leader == fresh
    assert sum("recreated" in r.getMessage() for r in caplog.records) == 1
    # a record tied to the old counter is not taken from the new one
    old = Leader("c1", "http://127.0.0.1:8080", 1, counter=100)
    read(s, {}, (500, 2), encode_leader(old))
    t = view_of(s, user)
    assert t.leader is None and any("another epoch counter" in p for p in t.problems)
    # and the usual guard holds within the new counter
    read(s, {}, (500, 2), leader("c3", 1))
    assert view_of(s, user).leader is None


def test_version_grows_only_on_change_and_stale_is_a_change() -> None:
    s = make_session()
    s.apply({"c1": encode_member(member("c1"))}, None, [])
    s.apply({"c1": encode_member(member("c1"))}, None, [])
    assert s.view().version == 1
    s.mark_stale("test")
    assert s.view().stale and s.view().version == 2
    assert s.view().members == (member("c1"),)
    s.mark_stale("again")
    assert s.view().version == 2
    s.apply({"c1": encode_member(member("c1"))}, None, [])
    assert not s.view().stale and s.view().version == 3


def test_listeners_are_called_and_failures_contained() -> None:
    s = make_session()
    seen: list[int] = []

    def boom() -> None:
        raise RuntimeError("subscriber bug")

    s.add_listener(boom)
    s.add_listener(lambda: seen.append(s.view().version))
    s.apply({"c1": encode_member(member("c1"))}, None, [])
    assert seen == [1]
