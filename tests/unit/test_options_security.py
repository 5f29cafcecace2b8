"""Options that could leak a secret, break every request, or overflow: refused up front."""

from __future__ import annotations

from typing import Any

import pytest

from prestoha.dbapi._connection import _cluster_key
from prestoha.dbapi.options import MAXIMA, parse_options
from prestoha.errors import ConfigurationError

HTTP = {"hosts": ["http://c1:8080"]}
HTTPS = {"hosts": ["https://c1:8443"]}


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        ({"http_headers": {"Authorization": "Bearer s3cret"}}, "http_headers"),
        ({"http_headers": {"cookie": "session=s3cret"}}, "http_headers"),
        ({"http_headers": {"X-Trino-Extra-Credential": "k=s3cret"}}, "http_headers"),
        ({"extra_credential": [("k", "s3cret")]}, "extra_credential"),
    ],
)
def test_credentials_in_headers_are_refused_over_plain_http(
    extra: dict[str, Any], option: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_options({**HTTP, **extra})
    assert info.value.option == option
    assert "s3cret" not in str(info.value)
    assert parse_options({**HTTPS, **extra})
    assert parse_options({**HTTP, **extra, "allow_insecure_auth": True})


def test_a_harmless_header_goes_over_plain_http() -> None:
    assert parse_options({**HTTP, "http_headers": {"X-Trace": "t1"}}).http_headers


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        ({"user": "ana\r\nX-Injected: 1"}, "user"),
        ({"user": "名前"}, "user"),
        ({"source": "app\n"}, "source"),
        ({"client_tags": ["ok", "bad\r\n"]}, "client_tags"),
        ({"catalog": "c\n"}, "catalog"),
        ({"session_properties": {"a": "1\r\n"}}, "session_properties"),
        ({"roles": "admin\n"}, "roles"),
        ({"http_headers": {"X-A": "v\r\nX-B: 2"}}, "http_headers"),
        ({"http_headers": {"X-A": "€uro"}}, "http_headers"),
        ({"http_headers": {"Bad Name": "v"}}, "http_headers"),
        ({"http_headers": {"X-A": " leading"}}, "http_headers"),
        ({"extra_credential": [("k", "s3cret\n")]}, "extra_credential"),
    ],
)
def test_text_that_cannot_be_a_header_is_refused_up_front(
    extra: dict[str, Any], option: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_options({**HTTPS, **extra})
    assert info.value.option == option
    if option in ("http_headers", "extra_credential"):
        assert "s3cret" not in str(info.value) and "v\\r" not in str(info.value)


def test_latin1_and_tabs_are_fine_in_headers() -> None:
    opts = parse_options({**HTTPS, "user": "josé", "http_headers": {"X-A": "a\tb"}})
    assert opts.user == "josé"


def test_a_password_in_zk_is_refused_without_showing_it() -> None:
    for zk in ("u:pw9@zk1:2181", "zk://u:pw9@zk1:2181,zk2:2181", ["u:pw9@zk1:2181", "zk2"]):
        with pytest.raises(ConfigurationError) as info:
            parse_options({"zk": zk})
        assert info.value.option == "zk"
        assert "pw9" not in str(info.value)
        assert "zk_auth" in str(info.value)


def test_a_password_in_a_coordinator_url_is_not_echoed() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_options({"hosts": ["https://ana:pw9@c1:8443"]})
    assert info.value.option == "hosts"
    assert "pw9" not in str(info.value)
    assert "***@c1:8443" in str(info.value)


@pytest.mark.parametrize("name", sorted(set(MAXIMA) - {"arraysize"}))
def test_seconds_are_bounded_and_name_their_option(name: str) -> None:
    base = {"zk": "z:2181"}
    assert parse_options({**base, name: MAXIMA[name]})
    for bad in (MAXIMA[name] * 2, 1e300, "1e9"):
        with pytest.raises(ConfigurationError) as info:
            parse_options({**base, name: bad})
        assert info.value.option == name
        assert f"{MAXIMA[name]:g}" in str(info.value)


def test_arraysize_is_bounded() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_options({"zk": "z", "arraysize": 10**12})
    assert info.value.option == "arraysize"


def test_next_uri_hosts_is_an_option_and_a_list() -> None:
    assert parse_options({**HTTPS, "next_uri_hosts": "a.example, *.b"}).next_uri_hosts == (
        "a.example",
        "*.b",
    )


def test_the_shared_cluster_is_keyed_by_how_nodes_are_reached() -> None:
    plain = parse_options({**HTTPS})
    assert _cluster_key(plain) == _cluster_key(parse_options({**HTTPS}))
    for verify in (False, "/etc/ssl/custom-ca.pem"):
        assert _cluster_key(plain) != _cluster_key(parse_options({**HTTPS, "verify": verify}))


def test_credentials_in_headers_never_go_to_a_plain_http_coordinator_found_later() -> None:
    from prestoha import connect
    from prestoha.cluster import Coordinator

    conn = connect(**HTTPS, probe_interval=None, http_headers={"Authorization": "Bearer s3cret"})
    try:
        with pytest.raises(ConfigurationError) as info:
            conn._pool(Coordinator.from_uri("c2", "http://c2:8080"))
        assert info.value.option == "http_headers"
        assert "s3cret" not in str(info.value)
    finally:
        conn.close()


def test_next_uri_hosts_in_a_url() -> None:
    from sqlalchemy.engine.url import make_url

    from prestoha.sqlalchemy.url import connect_kwargs_from_url

    url = make_url("prestoha://ana@c1:8443/tpch?http_scheme=https&next_uri_hosts=a.example,b")
    assert connect_kwargs_from_url(url)["next_uri_hosts"] == ["a.example", "b"]


def test_the_agent_never_echoes_a_coordinator_password() -> None:
    from prestoha.agent._config import AgentConfig, build_parser

    args = build_parser().parse_args(["--coordinator", "http://u:pw9@c1:8080", "--zk", "z"])
    with pytest.raises(ConfigurationError) as info:
        AgentConfig.from_args(args, env={})
    assert "pw9" not in str(info.value)
    assert "***@c1:8080" in str(info.value)
