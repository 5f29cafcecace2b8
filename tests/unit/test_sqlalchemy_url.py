"""``prestoha://`` URLs to ``connect()`` options, and printing them without credentials."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from trino.auth import (
    BasicAuthentication,
    CertificateAuthentication,
    JWTAuthentication,
    OAuth2Authentication,
)

from prestoha import ConfigurationError, HedgePolicy, RetryPolicy
from prestoha.dbapi.options import parse_options
from prestoha.sqlalchemy.dialect import PrestohaDialect, looks_like_sql
from prestoha.sqlalchemy.url import MaskedURL, connect_kwargs_from_url, masked


def kwargs_of(url: str) -> dict[str, Any]:
    return connect_kwargs_from_url(make_url(url))


def config_error(url: str) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        kwargs_of(url)
    return info.value


def test_zookeeper_url() -> None:
    kw = kwargs_of("prestoha://ana@/hive/web?zk=z1:2181,z2:2181&cluster=prod&mode=leader")
    assert kw == {
        "zk": "z1:2181,z2:2181",
        "cluster": "prod",
        "mode": "leader",
        "user": "ana",
        "catalog": "hive",
        "schema": "web",
        "source": "prestoha-sqlalchemy",
    }


def test_repeated_zk_keys_are_one_ensemble() -> None:
    assert kwargs_of("prestoha://a@/c?zk=z1:2181&zk=z2:2181")["zk"] == "z1:2181,z2:2181"


def test_repeated_and_comma_zk_keys_do_not_mix() -> None:
    err = config_error("prestoha://a@/c?zk=z1:2181,z2:2181&zk=z3:2181")
    assert err.option == "zk"
    assert "mixed" in str(err)


@pytest.mark.parametrize(
    "query",
    ["hosts=c1:8080,c2:8080", "hosts=c1:8080&hosts=c2:8080", 'hosts=["c1:8080","c2:8080"]'],
)
def test_host_lists(query: str) -> None:
    assert kwargs_of(f"prestoha://a@/c?{query}")["hosts"] == ["c1:8080", "c2:8080"]


def test_host_in_the_authority_is_a_static_coordinator() -> None:
    def hosts(url: str, **connect_args: Any) -> tuple[str, ...]:
        return parse_options({**kwargs_of(url), **connect_args}).hosts

    assert hosts("prestoha://a@c1:9090/tpch") == ("http://c1:9090",)
    assert hosts("prestoha://a@c1/tpch") == ("http://c1:8080",)
    assert hosts("prestoha://a@c1/tpch?http_scheme=https") == ("https://c1:443",)
    assert hosts("prestoha://a@c1:443/tpch") == ("https://c1:443",)
    assert hosts("prestoha://a@[::1]:8080/tpch") == ("http://[::1]:8080",)
    # http_scheme in connect_args, as trino's dialect users give it, still picks the port
    assert hosts("prestoha://a@c1/tpch", http_scheme="https") == ("https://c1:443",)


def test_host_in_the_authority_and_a_list_conflict() -> None:
    assert config_error("prestoha://a@c1:8080/tpch?hosts=c2:8080").option == "host"
    assert config_error("prestoha://a@c1:8080/tpch?zk=z:2181").option == "host"


def test_types_are_converted() -> None:
    kw = kwargs_of(
        "prestoha://a@/c?zk=z:2181&failover_timeout=12.5&prefetch=3&arraysize=100"
        "&legacy_primitive_types=yes&allow_insecure_auth=0&verify=false"
        "&client_tags=x,y&session_properties=%7B%22query_max_run_time%22%3A%2210m%22%7D"
        '&extra_credential=[["k","v"]]&roles={"hive":"admin"}&timezone=UTC'
        '&retry={"max_attempts":4}&hedge=p99&request_timeout=3'
    )
    assert kw["failover_timeout"] == "12.5"  # parse_options reads numbers from text
    assert kw["legacy_primitive_types"] is True
    assert kw["allow_insecure_auth"] is False
    assert kw["verify"] is False
    assert kw["client_tags"] == ["x", "y"]
    assert kw["session_properties"] == {"query_max_run_time": "10m"}
    assert kw["extra_credential"] == [("k", "v")]
    assert kw["roles"] == {"hive": "admin"}
    assert kw["retry"] == RetryPolicy(max_attempts=4)
    assert kw["hedge"] == "p99"
    assert kwargs_of('prestoha://a@/c?zk=z:2181&hedge={"after":0.5}')["hedge"] == HedgePolicy(
        after=0.5
    )
    assert kwargs_of("prestoha://a@/c?zk=z:2181&verify=/etc/ca.pem")["verify"] == "/etc/ca.pem"
    assert kwargs_of("prestoha://a@/c?zk=z:2181&roles=admin")["roles"] == "admin"


def test_catalog_and_schema_are_decoded() -> None:
    kw = kwargs_of("prestoha://a@/my%20cat/a+b%25?zk=z:2181")
    assert (kw["catalog"], kw["schema"]) == ("my cat", "a+b%")


@pytest.mark.parametrize(
    ("url", "option"),
    [
        ("prestoha://a@/c?zk=z:2181&mode=primary", "mode"),
        ("prestoha://a@/c?zk=z:2181&failover_timeout=soon", "failover_timeout"),
        ("prestoha://a@/c?zk=z:2181&prefetch=-1", "prefetch"),
        ("prestoha://a@/c?zk=z:2181&no_such_thing=1", "no_such_thing"),
        ("prestoha://a@/c?zk=z:2181&session_properties={oops", "session_properties"),
        ("prestoha://a@/c?zk=z:2181&session_properties=[1]", "session_properties"),
        ("prestoha://a@/c?zk=z:2181&allow_insecure_auth=maybe", "allow_insecure_auth"),
        ('prestoha://a@/c?zk=z:2181&retry={"tries":3}', "retry"),
        ('prestoha://a@/c?zk=z:2181&retry={"max_attempts":0}', "retry.max_attempts"),
        ("prestoha://a@/c?zk=z:2181&mode=leader&mode=any", "mode"),
        ("prestoha://a@/c?zk=z:2181&auth=x", "auth"),
        ("prestoha://a@/a/b/c?zk=z:2181", "database"),
        ("prestoha://a@/c?zk=z:2181&hosts=c1:8080", "hosts"),
        ("prestoha://a@/c?zk=z:2181&user=b", "user"),
        ("prestoha://a@/c?zk=z:2181&catalog=d", "catalog"),
        ("prestoha://:pw@/c?zk=z:2181", "password"),
        ("prestoha://a@/c?zk=z:2181&cert=/c.pem", "cert"),
    ],
)
def test_bad_parameters_name_themselves(url: str, option: str) -> None:
    err = config_error(url)
    assert err.option == option
    assert "\n" not in str(err)


def test_a_url_may_leave_the_coordinators_to_connect_args() -> None:
    assert "zk" not in kwargs_of("prestoha://a@/c")


def test_authentication_like_trinos_dialect() -> None:
    kw = kwargs_of("prestoha://ana:s3cr%2Bt@/c?hosts=https://c1:8443")
    assert isinstance(kw["auth"], BasicAuthentication)
    assert kw["auth"]._password == "s3cr+t"  # decoded once, the '+' kept
    kw = kwargs_of("prestoha://ana@/c?hosts=https://c1:8443&access_token=tok")
    assert isinstance(kw["auth"], JWTAuthentication)
    kw = kwargs_of("prestoha://ana@/c?hosts=https://c1:8443&cert=/c.pem&key=/k.pem")
    assert isinstance(kw["auth"], CertificateAuthentication)
    kw = kwargs_of("prestoha://ana@/c?hosts=https://c1:8443&externalAuthentication=true")
    assert isinstance(kw["auth"], OAuth2Authentication)
    assert "access_token" not in kw and "cert" not in kw and "key" not in kw


def test_two_ways_to_authenticate_are_refused() -> None:
    err = config_error("prestoha://ana:pw@/c?hosts=https://c1:8443&access_token=tok")
    assert err.option == "access_token"


def test_credentials_over_plain_http_name_the_url_parameter() -> None:
    err = config_error("prestoha://ana@/c?hosts=http://c1:8080&access_token=xyzzy-77")
    assert err.option == "access_token"
    assert "xyzzy-77" not in str(err)
    ok = kwargs_of("prestoha://ana@/c?hosts=http://c1:8080&access_token=tok&allow_insecure_auth=1")
    assert isinstance(ok["auth"], JWTAuthentication)


SECRET_URL = (
    "prestoha://ana:hunter2@/c?hosts=https://c1:8443&access_token=tok-123"
    "&zk_auth=digest:zkpass&cluster=prod"
)


def test_create_engine_hides_every_credential(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    engine = sa.create_engine(
        "prestoha://ana@/c?hosts=https://c1:8443&access_token=tok-123&zk_auth=digest:zkpass",
        echo=True,
    )
    certified = sa.create_engine("prestoha://ana@/c?hosts=https://c1:8443&key=/k.pem&cert=/c.pem")
    try:
        shown = repr(engine.url) + str(engine.url) + repr(engine) + repr(certified.url)
        for secret in ("tok-123", "zkpass", "/k.pem", "/c.pem"):
            assert secret not in shown
        assert "access_token=***" in shown
        assert "tok-123" not in caplog.text
        # the full URL is still there for whoever asks for it
        assert "tok-123" in engine.url.render_as_string(hide_password=False)
        again = sa.create_engine(engine.url)
        assert again.dialect.create_connect_args(again.url)[1]["auth"].token == "tok-123"
        again.dispose()
    finally:
        engine.dispose()
        certified.dispose()


def test_masked_url_keeps_the_rest() -> None:
    url = masked(make_url(SECRET_URL))
    assert isinstance(url, MaskedURL)
    text = repr(url)
    assert "hunter2" not in text and "tok-123" not in text and "zkpass" not in text
    assert text.startswith("prestoha://ana:***@/c?")
    assert "cluster=prod" in text
    assert url.render_as_string(hide_password=False) == make_url(SECRET_URL).render_as_string(
        hide_password=False
    )
    assert url.set(database="d").database == "d"


def test_create_engine_with_a_bad_parameter_is_one_line() -> None:
    with pytest.raises(ConfigurationError) as info:
        sa.create_engine("prestoha://ana@/tpch?zk=z:2181&failover_timeout=-3")
    err = info.value
    assert err.option == "failover_timeout"
    assert "\n" not in str(err)
    assert err.__cause__ is None and err.__suppress_context__


def test_the_entry_point_names_the_dialect() -> None:
    engine = sa.create_engine("prestoha://ana@/tpch/tiny?zk=z:2181")
    try:
        assert isinstance(engine.dialect, PrestohaDialect)
        assert engine.dialect.name == "prestoha"
        assert engine.dialect.loaded_dbapi.__name__ == "prestoha"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "text",
    [
        "SELECT 1 AS x",
        "  select * from t",
        "WITH t AS (SELECT 1) SELECT * FROM t",
        "select\n1",
        "(SELECT 1)",
        "VALUES (1)",
        "SHOW TABLES",
    ],
)
def test_sql_text_is_not_a_table_name(text: str) -> None:
    assert looks_like_sql(text)


@pytest.mark.parametrize("name", ["people", "select", "selection set", "with", "my table"])
def test_table_names_are_table_names(name: str) -> None:
    assert not looks_like_sql(name)


def test_a_comment_the_user_may_not_read_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    from trino.sqlalchemy.dialect import TrinoDialect

    import prestoha

    denied = prestoha.ProgrammingError("Access Denied: Cannot select from table_comments")
    denied.error_name = "PERMISSION_DENIED"

    def refuse(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise sa.exc.ProgrammingError("SELECT ...", {}, denied)

    monkeypatch.setattr(TrinoDialect, "get_table_comment", refuse)
    assert PrestohaDialect().get_table_comment(None, "t", "s") == {"text": None}  # type: ignore[arg-type,no-untyped-call]
    other = prestoha.ProgrammingError("line 1:1: Table 'x' does not exist")
    other.error_name = "TABLE_NOT_FOUND"

    def missing(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise sa.exc.ProgrammingError("SELECT ...", {}, other)

    monkeypatch.setattr(TrinoDialect, "get_table_comment", missing)
    with pytest.raises(sa.exc.ProgrammingError):
        PrestohaDialect().get_table_comment(None, "t", "s")  # type: ignore[arg-type,no-untyped-call]


def test_zookeeper_tls_options_come_from_the_url() -> None:
    from prestoha.sqlalchemy.url import connect_kwargs_from_url

    kwargs = connect_kwargs_from_url(make_url("prestoha://u@/?zk=zk1:2281&zk_tls=true"))
    assert kwargs["zk_tls"] is True
    with pytest.raises(ConfigurationError, match="zk_ca"):
        connect_kwargs_from_url(make_url("prestoha://u@/?zk=zk1:2281&zk_ca=/no/such.pem"))
