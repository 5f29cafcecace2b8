"""Host strings, credentials, allowed hosts and the static discovery: pure logic."""

from __future__ import annotations

from pathlib import Path

import pytest

from prestoha.discovery import (
    HostFilter,
    Leader,
    Member,
    StaticDiscovery,
    make_acl,
    parse_auth,
    parse_hosts,
)
from prestoha.errors import ConfigurationError


def test_parse_hosts() -> None:
    parsed = parse_hosts("zk1:2181, ZK2:2182,zk3/prestoha/x/")
    assert parsed.servers == (("zk1", 2181), ("zk2", 2182), ("zk3", 2181))
    assert parsed.chroot == "/prestoha/x"
    assert parsed.connect_string == "zk1:2181,zk2:2182,zk3:2181/prestoha/x"
    assert parse_hosts("[::1]:2181").connect_string == "[::1]:2181"
    assert parse_hosts("zk://a:1,b:2").servers == (("a", 1), ("b", 2))


def test_same_ensemble_same_key_whatever_the_order() -> None:
    assert parse_hosts("b:2,a:1").key == parse_hosts("a:1, b:2").key
    assert parse_hosts("a:1").key != parse_hosts("a:1/chroot").key


@pytest.mark.parametrize(
    "hosts",
    ["", "   ", "a:1,,b:2", "a:0", "a:65536", "a:x", "a:1:2", "[::1", "a b:1", "user@h:1", ":1"],
)
def test_bad_hosts_raise_configuration_error(hosts: str) -> None:
    with pytest.raises(ConfigurationError, match="zk"):
        parse_hosts(hosts)


def test_auth_is_parsed_and_never_shown() -> None:
    auth = parse_auth("alice:s3cr:et")
    assert auth is not None
    assert (auth.user, auth.password) == ("alice", "s3cr:et")
    assert "s3cr" not in repr(auth) and "s3cr" not in str(auth)
    assert parse_auth(None) is None
    for bad in ("nocolon-secret", ":pw", "user:"):
        with pytest.raises(ConfigurationError) as info:
            parse_auth(bad)
        assert "secret" not in str(info.value) and "pw" not in str(info.value)


def test_acl_gives_world_read_unless_told_not_to() -> None:
    auth = parse_auth("alice:pw")
    acl = make_acl(auth)
    assert acl is not None
    schemes = {(a.id.scheme, a.perms) for a in acl}
    assert ("world", 1) in schemes  # READ
    assert any(s == "digest" and p == 31 for s, p in schemes)  # ALL
    restricted = make_acl(auth, world_read=False)
    assert restricted is not None and {a.id.scheme for a in restricted} == {"digest"}
    assert make_acl(None) is None


def test_acl_gives_the_reader_read_only() -> None:
    from kazoo.security import make_digest_acl_credential

    acl = make_acl(parse_auth("alice:pw"), world_read=False, read_auth=parse_auth("bob:r"))
    assert acl is not None
    rights = {(a.id.scheme, a.id.id, a.perms) for a in acl}
    assert ("digest", make_digest_acl_credential("bob", "r"), 1) in rights


def test_host_filter() -> None:
    f = HostFilter.of("*.example.com, 10.0.0.0/24:8443,[::1]")
    assert f.allows("https://coord.example.com:8443")
    assert f.allows("https://a.b.example.com")
    assert f.allows("https://COORD.EXAMPLE.COM")
    assert f.allows("https://10.0.0.7:8443")
    assert not f.allows("https://10.0.0.7:9999")
    assert not f.allows("https://evil.example.org:8443")
    assert not f.allows("https://example.com.evil.org:8443")
    assert f.allows("http://[::1]:8080")
    assert not f.allows("not a uri")
    assert HostFilter.of(None).allows("http://anything:1")
    assert HostFilter.of(()).allows("http://anything:1")
    assert not HostFilter.of(()) and HostFilter.of("a")
    with pytest.raises(ConfigurationError, match="allowed_hosts"):
        HostFilter.of([3])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("pattern", "uri"),
    [
        ("10.0.0.0/24", "https://10.0.0.1.evil.example"),
        ("10.0.0.0/24", "https://10.0.1.1"),
        ("*.corp.example.com", "https://coord.attacker.io"),
        ("*.corp.example.com", "https://evilcorp.example.com"),
        ("*.corp.example.com", "https://corp.example.com"),
        ("*.corp.example.com", "https://x.corp.example.com.attacker.io"),
        ("coord1.example.com", "https://coord1.example.com.attacker.io"),
        ("coord1.example.com", "https://10.0.0.1"),
        ("coord1.example.com:8443", "https://coord1.example.com:8444"),
        ("fd00::/8", "https://10.0.0.1"),
        ("10.0.0.7", "https://10.0.0.70"),
    ],
)
def test_host_filter_refuses_lookalikes(pattern: str, uri: str) -> None:
    assert not HostFilter.of(pattern).allows(uri)


@pytest.mark.parametrize(
    ("pattern", "uri"),
    [
        ("10.0.0.0/24", "https://10.0.0.255:8443"),
        ("10.0.0.7", "http://10.0.0.7:8080"),
        ("*.corp.example.com", "https://a.b.corp.example.com"),
        ("*.corp.example.com.", "https://a.corp.example.com"),
        ("coord1.example.com:8443", "https://Coord1.Example.com:8443"),
        ("[fd00::/8]:8443", "https://[fd00::5]:8443"),
    ],
)
def test_host_filter_admits(pattern: str, uri: str) -> None:
    assert HostFilter.of(pattern).allows(uri)


@pytest.mark.parametrize(
    "pattern",
    [
        "10.0.0.*",
        "coord*",
        "*example.com",
        "c*.example.com",
        "a.*.example.com",
        "*",
        "10.1.2",
        "10.0.0.0/33",
        "host:0",
        "host:x",
        "[::1",
        "bad_label-.com",
        "exa mple.com",
    ],
)
def test_host_filter_refuses_patterns_that_are_neither_network_nor_labels(pattern: str) -> None:
    with pytest.raises(ConfigurationError, match="allowed_hosts") as info:
        HostFilter.of(pattern)
    assert "10.0.0.0/24" in str(info.value)


def test_static_discovery() -> None:
    d = StaticDiscovery("https://c1.example.com:8443, http://c2:8080")
    t = d.topology()
    assert t.members == (
        Member(node_id="c1.example.com:8443", uri="https://c1.example.com:8443"),
        Member(node_id="c2:8080", uri="http://c2:8080"),
    )
    assert t.leader == Leader(
        node_id="c1.example.com:8443", uri="https://c1.example.com:8443", epoch=0
    )
    assert not t.stale
    assert d.wait_for(lambda t: len(t.members) == 2, 0) is t
    assert d.wait_for(lambda t: len(t.members) == 3, 0.01) is None
    calls: list[object] = []
    d.subscribe(calls.append)()
    assert calls == []
    d.close()


@pytest.mark.parametrize(
    "uris", ["", [], ["http://a:1", "http://A:1/"], ["ftp://a"], ["http://u:p@a:1"], [None]]
)
def test_static_discovery_refuses_bad_lists(uris: object) -> None:
    with pytest.raises(ConfigurationError, match="coordinators"):
        StaticDiscovery(uris)  # type: ignore[arg-type]


def test_kazoo_log_records_never_carry_the_password(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from prestoha.discovery import KAZOO_LOGGER, make_client

    make_client(parse_hosts("127.0.0.1:1"), session_timeout=4, auth=parse_auth("u:hunter22"))
    kazoo_log = logging.getLogger(KAZOO_LOGGER)
    with caplog.at_level(logging.DEBUG, logger=KAZOO_LOGGER):
        kazoo_log.debug("Sending request: Auth(auth_type=0, scheme='digest', auth='u:hunter22')")
        kazoo_log.debug("something else mentioning %s", "hunter22")
    texts = [r.getMessage() for r in caplog.records]
    assert len(texts) == 2 and not any("hunter22" in t for t in texts), texts
    assert "auth='***'" in texts[0]


def test_kazoo_is_quiet_below_error_until_a_level_is_set(
    caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    import logging

    from prestoha.discovery import KAZOO_LOGGER, make_client

    kazoo_log = logging.getLogger(KAZOO_LOGGER)
    previous = kazoo_log.level
    kazoo_log.setLevel(logging.NOTSET)  # as an application that never configured it
    request.addfinalizer(lambda: kazoo_log.setLevel(previous))
    make_client(parse_hosts("127.0.0.1:1"), session_timeout=4)
    assert kazoo_log.level == logging.NOTSET  # the level stays the application's to set
    caplog.set_level(logging.DEBUG)
    kazoo_log.warning("reconnecting, attempt 7")
    kazoo_log.error("kazoo is broken")
    assert [r.getMessage() for r in caplog.records] == ["kazoo is broken"]
    caplog.clear()
    caplog.set_level(logging.WARNING, logger=KAZOO_LOGGER)
    kazoo_log.warning("reconnecting, attempt 8")
    assert [r.getMessage() for r in caplog.records] == ["reconnecting, attempt 8"]


def test_tls_options_are_checked_up_front(tmp_path: Path) -> None:
    from prestoha.discovery import ZkTls, parse_tls

    assert parse_tls(None) is None and parse_tls(False) is None
    assert parse_tls(True) == ZkTls()
    assert ZkTls().client_args()["use_ssl"] and ZkTls().client_args()["check_hostname"]
    with pytest.raises(ConfigurationError, match=r"zk_ca.*no such file"):
        parse_tls(None, str(tmp_path / "missing.pem"))
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(ConfigurationError, match=r"zk_ca.*cannot be loaded"):
        parse_tls(None, str(bogus))
    with pytest.raises(ConfigurationError, match=r"zk_key.*both or neither"):
        parse_tls(True, None, str(bogus))
    with pytest.raises(ConfigurationError, match=r"zk_tls.*is off but zk_ca"):
        parse_tls(False, str(bogus))
    with pytest.raises(ConfigurationError, match="--zk-ca"):
        parse_tls(None, "/nope", names=("--zk-tls", "--zk-ca", "--zk-cert", "--zk-key"))
