"""A ``trino://`` URL means the same connection with ``prestoha://``.

Each URL is read by trino's dialect and by prestoha's; the connections the two would open must
agree on every attribute of ``trino.dbapi.Connection``, so a parameter trino's dialect reads
and prestoha's reads differently (or not at all) fails here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
import trino.dbapi
from sqlalchemy.engine import make_url
from trino.auth import OAuth2Authentication
from trino.sqlalchemy.dialect import TrinoDialect

import prestoha
from prestoha.sqlalchemy.url import connect_kwargs_from_url

#: Attributes whose default is prestoha's own, compared only when the URL gives them.
OWN_DEFAULTS = {"source", "max_attempts", "request_timeout", "legacy_prepared_statements"}

#: Every query parameter of trino's dialect (``create_connect_args``), with a value.
TRINO_PARAMETERS = {
    "source": "etl",
    "session_properties": '{"query_max_run_time": "10m"}',
    "http_headers": '{"X-Team": "data"}',
    "extra_credential": '[["k", "v"]]',
    "client_tags": '["a", "b"]',
    "legacy_primitive_types": "true",
    "legacy_prepared_statements": "false",
    "verify": '"/etc/ssl/ca.pem"',
    "allow_insecure_auth": "true",
    "roles": '{"hive": "admin"}',
    "access_token": "tok",
    "externalAuthentication": "true",
}
#: Parameters that go together.
TRINO_PAIRS = {"cert": ("cert", "/c.pem", "key", "/k.pem")}

URLS = [
    "//ana@c1:8080/tpch/tiny",
    "//ana@c1:8080/tpch",
    "//ana@c1:8080",
    "//ana@c1:443/tpch",
    "//ana:secret@c1:443/tpch",
    "//ana@c1:8080/my%20cat/s_1",
    # 443: trino's client takes https from that port only, and credentials need it
    *(f"//ana@c1:443/tpch?{k}={quote(v)}" for k, v in TRINO_PARAMETERS.items()),
    "//ana@c1:443/tpch?cert=/c.pem&key=/k.pem",
    '//ana@c1:8080/tpch?roles="admin"&verify=false&client_tags=["x"]',
]


def _trino_connection(url: str) -> Any:
    _, kwargs = TrinoDialect().create_connect_args(make_url("trino:" + url))  # type: ignore[no-untyped-call]
    return trino.dbapi.connect(**kwargs)  # type: ignore[no-untyped-call]


def _prestoha_connection(url: str) -> prestoha.Connection:
    kwargs = connect_kwargs_from_url(make_url("prestoha:" + url))
    return prestoha.connect(**kwargs, probe_interval=None)


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(theirs, OAuth2Authentication):  # equal only to itself: a fresh token cache
        return type(ours) is type(theirs)
    return bool(ours == theirs)


#: The attributes of trino's connection, found on an instance as new ones would be.
ATTRIBUTES = sorted(
    name
    for name in dir(trino.dbapi.connect(host="c1"))  # type: ignore[no-untyped-call]
    if not name.startswith("_")
    and not callable(getattr(trino.dbapi.Connection, name, None))
    and name != "transaction"
)


@pytest.mark.parametrize("url", URLS)
def test_a_trino_url_means_the_same_connection(url: str) -> None:
    theirs = _trino_connection(url)
    ours = _prestoha_connection(url)
    try:
        for name in ATTRIBUTES:
            if name in OWN_DEFAULTS and f"{name}=" not in url:
                continue
            if name == "source":  # trino's dialect names itself when no source= is given
                assert ours.source == theirs.source
                continue
            assert _same(getattr(ours, name), getattr(theirs, name)), name
    finally:
        ours.close()


def test_every_parameter_of_trinos_dialect_is_tried() -> None:
    # The names trino's dialect looks up in url.query, read from its source.
    import inspect
    import re

    source = inspect.getsource(TrinoDialect.create_connect_args)
    read = set(re.findall(r'"(\w+)" in url\.query', source))
    assert read == set(TRINO_PARAMETERS) | {"cert", "key"}


def test_without_a_source_each_dialect_names_itself() -> None:
    assert _trino_connection("//ana@c1:8080/tpch").source == "trino-sqlalchemy"
    conn = _prestoha_connection("//ana@c1:8080/tpch")
    try:
        assert conn.source == "prestoha-sqlalchemy"
    finally:
        conn.close()


def test_a_url_without_a_catalog_connects_to_system_with_zookeeper_too() -> None:
    kwargs = connect_kwargs_from_url(make_url("prestoha://ana@/?zk=z:2181"))
    assert kwargs["catalog"] == "system" and "schema" not in kwargs


def test_a_plus_in_the_path_stays_a_plus() -> None:
    # SQLAlchemy has decoded %2B to "+" already; trino's dialect decodes again, to a space.
    url = "//ana@c1:8080/tpch/a%2Bb"
    conn = _prestoha_connection(url)
    try:
        assert conn.schema == "a+b"
    finally:
        conn.close()
    assert _trino_connection(url).schema == "a b"
