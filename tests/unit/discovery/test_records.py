"""The znode codec: round trips, what readers must refuse, and fuzzing (never a crash)."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prestoha.discovery import Leader, Member
from prestoha.discovery.records import (
    ClusterPaths,
    RecordError,
    check_node_id,
    decode_epoch,
    decode_leader,
    decode_member,
    encode_leader,
    encode_member,
    normalize_uri,
)
from prestoha.errors import ConfigurationError

MEMBER = Member(
    node_id="c1",
    uri="https://coord-1.example.com:8443",
    environment="prod",
    version="475",
    state="ACTIVE",
    registered_at="2025-01-02T03:04:05.678+00:00",
    zone="eu-west-1a",
    weight=50,
)


def record(**overrides: object) -> bytes:
    base: dict[str, object] = json.loads(encode_member(MEMBER))
    base.update(overrides)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


def test_member_round_trip() -> None:
    assert decode_member(encode_member(MEMBER), node_id="c1") == MEMBER


def test_member_record_has_the_contract_fields() -> None:
    data = json.loads(encode_member(MEMBER))
    assert data == {
        "v": 1,
        "node_id": "c1",
        "uri": "https://coord-1.example.com:8443",
        "environment": "prod",
        "version": "475",
        "state": "ACTIVE",
        "registered_at": "2025-01-02T03:04:05.678+00:00",
        "zone": "eu-west-1a",
        "weight": 50,
    }


def test_leader_round_trip_and_fields() -> None:
    leader = Leader(node_id="c2", uri="http://10.0.0.2:8080", epoch=7)
    assert json.loads(encode_leader(leader)) == {
        "v": 1,
        "node_id": "c2",
        "uri": "http://10.0.0.2:8080",
        "epoch": 7,
    }
    assert decode_leader(encode_leader(leader)) == leader


def test_unknown_keys_and_later_versions_are_read() -> None:
    member = decode_member(record(v=3, shiny_new_field={"x": 1}, another=[1, 2]))
    assert member == MEMBER


def test_optional_fields_default() -> None:
    data = json.dumps({"v": 1, "node_id": "c9", "uri": "http://h:1"}).encode()
    member = decode_member(data)
    assert (member.environment, member.version, member.state, member.zone, member.weight) == (
        "",
        "",
        "ACTIVE",
        None,
        100,
    )


def test_uri_is_normalized() -> None:
    assert decode_member(record(uri="HTTPS://Coord-1.Example.com/")).uri == (
        "https://coord-1.example.com:443"
    )
    assert normalize_uri("http://[::1]:8080") == "http://[::1]:8080"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"node_id": "c1", "uri": "http://h:1"}', "version"),
        (b'{"v": 0, "node_id": "c1", "uri": "http://h:1"}', "version"),
        (b'{"v": true, "node_id": "c1", "uri": "http://h:1"}', "version"),
        (b'{"v": "1", "node_id": "c1", "uri": "http://h:1"}', "version"),
        (b'{"v": 1, "uri": "http://h:1"}', "node_id"),
        (b'{"v": 1, "node_id": "a/b", "uri": "http://h:1"}', "node_id"),
        (b'{"v": 1, "node_id": "c1"}', "uri"),
        (b'{"v": 1, "node_id": "c1", "uri": "ftp://h:1"}', "scheme"),
        (b'{"v": 1, "node_id": "c1", "uri": "http://u:pw@h:1"}', "credentials"),
        (b'{"v": 1, "node_id": "c1", "uri": "http://h:1/x?y"}', "path"),
        (b'{"v": 1, "node_id": "c1", "uri": "http://h:99999"}', "uri"),
        (b'{"v": 1, "node_id": "c1", "uri": "http://h:1", "weight": -1}', "weight"),
        (b'{"v": 1, "node_id": "c1", "uri": "http://h:1", "weight": "9"}', "weight"),
        (b'{"v": 1, "node_id": "c1", "uri": "http://h:1", "zone": 3}', "zone"),
        (b'{"v": 1, "node_id": "c1", "uri": "http://h:1", "environment": []}', "environment"),
        (b'{"v": 1, "node_id": "c1", "uri": "http://h:1", "version": "1\\u001b[2J"}', "control"),
        (b'{"v": 1, "node_id": "c1", "uri": "http://h:1", "zone": "a\\nb"}', "control"),
        (b'{"v": 1, "node_id": "c1", "uri": "http://h:1", "state": "A\\u202eB"}', "format"),
        (b'{"v": NaN, "node_id": "c1", "uri": "http://h:1"}', "not JSON"),
        (b"[" * 60_000, "not JSON"),
        (b" " * 70_000, "bytes"),
    ],
)
def test_bad_member_records_raise_record_error(data: bytes, why: str) -> None:
    with pytest.raises(RecordError, match=why):
        decode_member(data)


def test_member_under_another_name_is_refused() -> None:
    with pytest.raises(RecordError, match="sits under"):
        decode_member(encode_member(MEMBER), node_id="c2")


@pytest.mark.parametrize("epoch", [-1, 1.5, "3", None, True])
def test_leader_epoch_must_be_a_non_negative_integer(epoch: object) -> None:
    data = json.dumps({"v": 1, "node_id": "c1", "uri": "http://h:1", "epoch": epoch}).encode()
    with pytest.raises(RecordError, match="epoch"):
        decode_leader(data)


def test_epoch_counter() -> None:
    assert decode_epoch(b"") == 0
    assert decode_epoch(b"42") == 42
    for bad in (b"-1", b"x", b"\xff", b"1" * 30):
        with pytest.raises(RecordError):
            decode_epoch(bad)


def test_paths() -> None:
    paths = ClusterPaths.of("/prestoha/", "prod")
    assert paths.members == "/prestoha/prod/members"
    assert paths.member("c1") == "/prestoha/prod/members/c1"
    assert paths.election == "/prestoha/prod/election"
    assert paths.leader == "/prestoha/prod/leader"
    assert paths.epoch == "/prestoha/prod/epoch"
    assert ClusterPaths.of("/", "x").leader == "/x/leader"
    assert ClusterPaths.of("//a//b", "x").base == "/a/b/x"


@pytest.mark.parametrize(
    ("root", "cluster"), [("prestoha", "x"), ("/ok", ""), ("/ok", "a/b"), ("/ok", ".."), (3, "x")]
)
def test_bad_paths(root: object, cluster: str) -> None:
    with pytest.raises(ConfigurationError):
        ClusterPaths.of(root, cluster)  # type: ignore[arg-type]


def test_check_node_id() -> None:
    assert check_node_id("coord-1.example_2") == "coord-1.example_2"
    for bad in ("", "a/b", "x\n", ".", "a" * 201):
        with pytest.raises(ConfigurationError, match="node_id"):
            check_node_id(bad)


# -- fuzzing: whatever sits in a znode, decoding raises RecordError or returns a record ------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
field_values = st.dictionaries(
    st.sampled_from(
        ["v", "node_id", "uri", "environment", "version", "state", "zone", "weight", "epoch", "x"]
    ),
    json_values
    | st.sampled_from(["http://h:1", "https://[::1]:8443", "c1", "http://a b", "http://h:0"]),
)


def _decoders(data: bytes) -> None:
    for decode in (decode_member, decode_leader, decode_epoch):
        with contextlib.suppress(RecordError):
            decode(data)  # type: ignore[operator]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes_never_crash(data: bytes) -> None:
    _decoders(data)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(field_values)
def test_fuzz_json_objects_never_crash(fields: dict[str, object]) -> None:
    try:
        data = json.dumps(fields).encode()
    except ValueError:
        return
    _decoders(data)
    try:
        member = decode_member(data)
    except RecordError:
        return
    # whatever was accepted encodes back to something that decodes the same
    assert decode_member(encode_member(member)) == member


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/"),
    min_size=1,
    max_size=40,
).filter(lambda s: s not in (".", "..", "zookeeper") and not any(0x7F <= ord(c) <= 0x9F for c in s))


@settings(max_examples=200)
@given(
    node_id=names,
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z0-9-]{1,10}){0,3}", fullmatch=True),
    port=st.integers(1, 65535),
    scheme=st.sampled_from(["http", "https"]),
    weight=st.integers(0, 1_000_000),
    zone=st.none() | st.text(max_size=20).filter(str.isprintable),
    env=st.text(max_size=20).filter(str.isprintable),
    epoch=st.integers(0, 2**31 - 1),
    counter=st.none() | st.integers(1, 2**63 - 1),
)
def test_fuzz_valid_records_round_trip(
    node_id: str,
    host: str,
    port: int,
    scheme: str,
    weight: int,
    zone: str | None,
    env: str,
    epoch: int,
    counter: int | None,
) -> None:
    uri = f"{scheme}://{host}:{port}"
    member = Member(node_id=node_id, uri=uri, environment=env, zone=zone, weight=weight)
    assert decode_member(encode_member(member), node_id=node_id) == member
    leader = Leader(node_id=node_id, uri=uri, epoch=epoch, counter=counter)
    assert decode_leader(encode_leader(leader)) == leader


@pytest.mark.parametrize(
    "extra",
    [{"epoch": 10**30}, {"epoch": 2**31}, {"epoch": -1}, {"counter": 0}, {"counter": "7"}],
)
def test_epochs_and_counters_out_of_bounds_are_refused(extra: dict[str, object]) -> None:
    record = {"v": 1, "node_id": "c1", "uri": "http://h:1", "epoch": 3, **extra}
    with pytest.raises(RecordError):
        decode_leader(json.dumps(record).encode())
