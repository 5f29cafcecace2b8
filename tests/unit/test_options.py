from __future__ import annotations

from typing import Any

import pytest

from prestoha import ConfigurationError
from prestoha.dbapi.options import parse_options
from prestoha.retry import RetryPolicy


def test_defaults_for_zookeeper() -> None:
    o = parse_options({"zk": "127.0.0.1:2181", "user": "ana"})
    assert o.zk == "127.0.0.1:2181"
    assert o.mode == "leader"
    assert o.cluster == "default"
    assert o.root == "/prestoha"
    assert o.failover_timeout == 30.0
    assert o.request_timeout == 5.0
    assert o.resume == "verify"
    assert o.retry == RetryPolicy()
    assert o.arraysize == 10_000


def test_static_hosts_default_to_leader_preferred() -> None:
    o = parse_options({"hosts": "c1:8080, c2:8080"})
    assert o.hosts == ("http://c1:8080", "http://c2:8080")
    assert o.mode == "leader-preferred"


def test_zk_may_be_a_list() -> None:
    assert parse_options({"zk": ["a:2181", "b:2181"]}).zk == "a:2181,b:2181"


@pytest.mark.parametrize(
    ("kwargs", "option", "accepted"),
    [
        ({"zk": "z:2181", "mode": "primary"}, "mode", "'leader', 'any', 'leader-preferred'"),
        ({"zk": "z:2181", "resume": "maybe"}, "resume", "'verify', 'restart-only', 'never'"),
        (
            {"zk": "z:2181", "failover_timeout": 0},
            "failover_timeout",
            "a number of seconds > 0 and <= 86400",
        ),
        (
            {"zk": "z:2181", "request_timeout": "soon"},
            "request_timeout",
            "a number of seconds > 0 and <= 3600",
        ),
        (
            {"zk": "z:2181", "prefetch": 0},
            "prefetch",
            "a number of rows (int) or a size like '4MiB' or '512KB'",
        ),
        ({"zk": "z:2181", "prefetch": "4 parsecs"}, "prefetch", None),
        ({"zk": "z:2181", "encoding": "json+brotli"}, "encoding", None),
        ({"zk": "z:2181", "retry": 3}, "retry", "RetryPolicy(...)"),
        ({"zk": "z:2181", "cluster": "a/b"}, "cluster", "a non-empty name without '/'"),
        ({"zk": "z:2181", "root": "prestoha"}, "root", "a ZooKeeper path like '/prestoha'"),
        ({"zk": "z:2181", "timezone": "Mars/Olympus"}, "timezone", "an IANA zone id like 'UTC'"),
        ({"zk": "z:2181", "isolation_level": "SOMETIMES"}, "isolation_level", None),
        ({"zk": "z:2181", "host": "c1"}, "host", None),
        ({"zk": "z:2181", "max_attempts": 0}, "max_attempts", "an integer >= 1"),
        ({}, "zk", None),
        ({"zk": "z:2181", "hosts": ["c1:8080"]}, "hosts", None),
    ],
)
def test_bad_options_name_themselves(
    kwargs: dict[str, Any], option: str, accepted: str | None
) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_options(kwargs)
    assert info.value.option == option
    if accepted is not None:
        assert info.value.accepted == accepted


def test_unknown_option_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_options({"zk": "z:2181", "failover_timout": 3})
    assert info.value.option == "failover_timout"
    assert "failover_timeout" in str(info.value)


def test_auth_over_plain_http_is_refused() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_options({"hosts": ["http://c1:8080"], "auth": object()})
    assert info.value.option == "auth"
    o = parse_options({"hosts": ["http://c1:8080"], "auth": object(), "allow_insecure_auth": True})
    assert o.allow_insecure_auth


def test_secrets_are_not_in_the_repr() -> None:
    o = parse_options(
        {"zk": "z:2181", "zk_auth": "admin:s3cret", "extra_credential": [("k", "hunter2")]}
    )
    assert "s3cret" not in repr(o)
    assert "hunter2" not in repr(o)
    with pytest.raises(ConfigurationError) as info:
        parse_options({"zk": "z:2181", "extra_credential": [("k", "hunter2", "x")]})
    assert "hunter2" not in str(info.value)


def test_trino_compat_options_are_accepted() -> None:
    o = parse_options(
        {"zk": "z:2181", "heartbeat_interval": 10, "legacy_prepared_statements": False}
    )
    assert o.zk == "z:2181"


@pytest.mark.parametrize(
    ("given", "uri"),
    [
        ("c1", "http://c1:8080"),
        ("c1:443", "https://c1:443"),
        ("https://c1", "https://c1:443"),
        ("http://10.0.0.1:8081/", "http://10.0.0.1:8081"),
        ("[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_hosts_become_uris(given: str, uri: str) -> None:
    assert parse_options({"hosts": [given]}).hosts == (uri,)


@pytest.mark.parametrize("bad", ["not a host", "ftp://c1:21", "c1:99999", "c1:8080/x/y", ""])
def test_malformed_hosts_are_refused(bad: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_options({"hosts": [bad]})
    assert info.value.option == "hosts"


def test_auth_to_a_bare_host_is_plain_http_and_refused() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_options({"hosts": ["c1:8080"], "auth": object()})
    assert info.value.option == "auth"
    assert parse_options({"hosts": ["c1:8443"], "auth": object(), "http_scheme": "https"}).auth


def test_prefetch_in_rows_or_bytes() -> None:
    from prestoha.execution import PrefetchLimit

    assert parse_options({"zk": "z"}).prefetch == PrefetchLimit(bytes=4 * 1024**2)
    assert parse_options({"zk": "z", "prefetch": 50_000}).prefetch == PrefetchLimit(rows=50_000)
    assert parse_options({"zk": "z", "prefetch": "512KB"}).prefetch == PrefetchLimit(bytes=512_000)
    assert parse_options({"zk": "z", "prefetch": "1.5MiB"}).prefetch.bytes == 1_572_864


def test_encoding_list() -> None:
    assert parse_options({"zk": "z"}).encoding is None
    assert (
        parse_options({"zk": "z", "encoding": ["json+zstd", "json"]}).encoding == "json+zstd,json"
    )
