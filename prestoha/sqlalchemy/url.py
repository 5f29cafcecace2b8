"""``prestoha://`` URLs: what they mean as :func:`prestoha.connect` options, and how they print.

::

    prestoha://user@/catalog/schema?zk=zk1:2181,zk2:2181&cluster=default&mode=leader
    prestoha://user@/catalog/schema?zk=zk1:2181&zk=zk2:2181          (the same ensemble)
    prestoha://user@/catalog/schema?hosts=c1:8080,c2:8080             (a fixed list)
    prestoha://user@c1:8080/tpch                                      (one fixed coordinator)
    prestoha://user@c1:8080/tpch/tiny?source=etl&roles="admin"        (a trino:// URL's form)

Every ``connect()`` option is a query parameter of the same name. Strings are converted the
way a URL needs: numbers and booleans from their text, lists from repeated keys, commas or
a JSON list, and ``session_properties``, ``http_headers``, ``extra_credential``, ``roles``,
``retry``, ``routing`` and ``hedge`` from JSON, as in trino's dialect. Authentication comes
from the URL as in trino's dialect too: a password (HTTP basic), ``access_token`` (JWT),
``cert`` and ``key`` (client certificate) or ``externalAuthentication=true`` (OAuth2).

A ``trino://`` URL means the same with ``prestoha://``: every parameter trino's dialect reads is
read the same way (JSON values included: ``roles="admin"``, ``verify="/ca.pem"``), a URL without
a catalog connects to ``system``, and ``connect_args`` go to :func:`prestoha.connect`, which takes
``trino.dbapi.connect``'s keywords. The differences are in docs/migrating.md.

A wrong parameter raises :class:`prestoha.ConfigurationError` naming it, as one line.
Credentials never show when the URL is printed (see :class:`MaskedURL`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote_plus, unquote

from sqlalchemy.engine.url import URL, make_url
from trino.auth import (
    BasicAuthentication,
    CertificateAuthentication,
    JWTAuthentication,
    OAuth2Authentication,
)

from prestoha.dbapi.options import parse_options
from prestoha.errors import ConfigurationError
from prestoha.retry import RetryPolicy
from prestoha.routing import HedgePolicy, RoutingPolicy

__all__ = ["SECRET_PARAMETERS", "MaskedURL", "connect_kwargs_from_url", "masked"]

#: Query parameters whose values are credentials, or may hold them: hidden when printed.
SECRET_PARAMETERS = frozenset(
    {"access_token", "cert", "key", "zk_auth", "extra_credential", "http_headers"}
)

#: Parameters read by the dialect itself (authentication), not passed on by name.
_AUTH_PARAMETERS = ("access_token", "cert", "key", "externalAuthentication")

#: Options whose value is a list: repeated keys, ``a,b`` or a JSON list.
_LIST_OPTIONS = ("hosts", "client_tags", "allowed_hosts", "next_uri_hosts")

#: Options given as ``true``/``false`` (also ``1``/``0``, ``yes``/``no``, ``on``/``off``).
_BOOL_OPTIONS = (
    "allow_insecure_auth",
    "legacy_primitive_types",
    "legacy_prepared_statements",
    "zk_tls",
)

#: Options that no URL can carry, and what to use instead.
_NOT_IN_URL = {
    "auth": "a password in the URL, access_token=, cert= and key=, externalAuthentication=true, "
    "or connect_args={'auth': ...}",
    "zk_hosts": "zk=host:port,...",
}

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")

DEFAULT_SOURCE = "prestoha-sqlalchemy"
#: The catalog of a URL that names none, as in trino's dialect.
DEFAULT_CATALOG = "system"

# SQLAlchemy 2.1 percent-decodes the path of a URL; 2.0 leaves it encoded. Decoding twice
# would turn a literal "%2B" into "+" and then into something else.
_DECODES_DATABASE = make_url("prestoha:///a%2Bb").database == "a+b"


def connect_kwargs_from_url(url: URL) -> dict[str, Any]:
    """The keyword arguments of :func:`prestoha.connect` that ``url`` stands for.

    They are checked as ``connect()`` would check them, so a bad URL fails here, before
    any connection is tried.
    """
    query = dict(url.query)
    kwargs: dict[str, Any] = {}
    for name, raw in query.items():
        if name in _AUTH_PARAMETERS:
            continue
        if name in _NOT_IN_URL:
            raise ConfigurationError(name, "cannot be given in a URL", _NOT_IN_URL[name])
        kwargs[name] = _convert(name, raw)

    _authority(url, kwargs)
    _database(url, kwargs)
    auth_parameter, auth = _auth(url, query)
    if auth is not None:
        kwargs["auth"] = auth
    kwargs.setdefault("source", DEFAULT_SOURCE)
    _check(kwargs, auth_parameter)
    return kwargs


def _authority(url: URL, kwargs: dict[str, Any]) -> None:
    if url.username:
        if kwargs.get("user") not in (None, url.username):
            raise ConfigurationError("user", "given both before '@' and as user=", "one of them")
        kwargs["user"] = url.username
    if url.host:
        if kwargs.get("hosts") or kwargs.get("zk"):
            raise ConfigurationError(
                "host",
                "a coordinator in the URL's host and hosts=/zk= as well",
                "prestoha://user@host:port/... or ?hosts=... or ?zk=..., one of them",
            )
        host = f"[{url.host}]" if ":" in url.host else url.host
        # Without a port, connect() picks it from http_scheme (443 for https, else 8080),
        # which may come from connect_args, as with trino's dialect.
        kwargs["hosts"] = [f"{host}:{url.port}" if url.port else host]
    elif url.port:
        raise ConfigurationError("port", "given without a host", "prestoha://user@host:port/...")


def _database(url: URL, kwargs: dict[str, Any]) -> None:
    if not url.database:
        kwargs.setdefault("catalog", DEFAULT_CATALOG)
        return
    parts = url.database.split("/")
    if not _DECODES_DATABASE:
        parts = [unquote(p) for p in parts]
    if len(parts) > 2 or not all(parts):
        raise ConfigurationError(
            "database", f"{url.database!r} is not allowed", "/catalog or /catalog/schema"
        )
    for name, value in zip(("catalog", "schema"), parts, strict=False):
        if kwargs.get(name) not in (None, value):
            raise ConfigurationError(name, "given both in the URL's path and as a parameter")
        kwargs[name] = value


def _auth(url: URL, query: Mapping[str, Any]) -> tuple[str, Any]:
    ways: list[tuple[str, Callable[[], Any]]] = []
    if url.password is not None:
        if not url.username:
            raise ConfigurationError("password", "given without a user name", "user:password@")
        user, password = url.username, str(url.password)
        ways.append(("password", lambda: BasicAuthentication(user, password)))
    if "access_token" in query:
        token = _single("access_token", query["access_token"])
        ways.append(("access_token", lambda: JWTAuthentication(token)))
    if "cert" in query or "key" in query:
        if "cert" not in query or "key" not in query:
            raise ConfigurationError("cert", "cert= and key= go together", "both, or neither")
        cert, key = _single("cert", query["cert"]), _single("key", query["key"])
        ways.append(("cert", lambda: CertificateAuthentication(cert, key)))
    external = query.get("externalAuthentication")
    if external is not None and _bool(
        "externalAuthentication", _single("externalAuthentication", external)
    ):
        ways.append(("externalAuthentication", OAuth2Authentication))
    if len(ways) > 1:
        names = ", ".join(name for name, _ in ways)
        raise ConfigurationError(ways[1][0], f"more than one way to authenticate ({names})")
    return (ways[0][0], ways[0][1]()) if ways else ("", None)


def _check(kwargs: dict[str, Any], auth_parameter: str) -> None:
    try:
        parse_options(kwargs)
    except ConfigurationError as exc:
        # A URL may leave the coordinators to connect_args=...: connect() says so if not.
        if exc.option == "zk" and not kwargs.get("zk") and not kwargs.get("hosts"):
            return
        if exc.option == "auth" and auth_parameter:
            problem = exc.message.split(": ", 1)[-1].split(" (accepted:", 1)[0]
            raise type(exc)(auth_parameter, problem, exc.accepted) from None
        raise exc.with_traceback(None) from None


# -- converting one parameter ----------------------------------------------------------------


def _single(name: str, raw: str | tuple[str, ...]) -> str:
    if isinstance(raw, tuple):
        raise ConfigurationError(name, "given more than once", "one value")
    return raw


def _convert(name: str, raw: str | tuple[str, ...]) -> Any:
    if name == "zk":
        return _zk(raw)
    if name in _LIST_OPTIONS:
        return _list(name, raw)
    value = _single(name, raw)
    converter = _CONVERTERS.get(name)
    return converter(name, value) if converter else value


def _zk(raw: str | tuple[str, ...]) -> str:
    if isinstance(raw, str):
        return raw
    if any("," in item for item in raw):
        raise ConfigurationError(
            "zk",
            "repeated zk= and comma-separated hosts mixed",
            "zk=h1:2181&zk=h2:2181 or zk=h1:2181,h2:2181",
        )
    return ",".join(raw)


def _list(name: str, raw: str | tuple[str, ...]) -> list[str]:
    if isinstance(raw, tuple):
        return list(raw)
    if raw.lstrip().startswith("["):
        value = _json(name, raw)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigurationError(name, "not a list of strings", 'a JSON list: ["a", "b"]')
        return value
    return [item.strip() for item in raw.split(",") if item.strip()]


def _json(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        shown = "(value hidden)" if name in SECRET_PARAMETERS else repr(text)
        raise ConfigurationError(name, f"{shown} is not valid JSON") from None


def _bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(name, f"{text!r} is not allowed", "true or false")


def _json_object(name: str, text: str) -> dict[str, Any]:
    value = _json(name, text)
    if not isinstance(value, dict):
        raise ConfigurationError(name, "not a JSON object", '{"name": "value", ...}')
    return value


def _pairs(name: str, text: str) -> list[tuple[Any, ...]]:
    value = _json(name, text)
    if not isinstance(value, list) or not all(isinstance(p, list) for p in value):
        raise ConfigurationError(
            name, "malformed (value hidden)", 'a JSON list of pairs: [["name", "value"]]'
        )
    return [tuple(p) for p in value]


def _json_string(name: str, text: str) -> str:
    """``text``, or the string it holds as JSON (``"admin"``), which trino's dialect reads."""
    if not text.lstrip().startswith('"'):
        return text
    value = _json(name, text)
    if not isinstance(value, str):
        raise ConfigurationError(name, f"{text!r} is not allowed", "text, or a JSON string")
    return value


def _roles(name: str, text: str) -> Any:
    return _json_object(name, text) if text.lstrip().startswith("{") else _json_string(name, text)


def _verify(name: str, text: str) -> bool | str:
    lowered = text.strip().lower()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    return _json_string(name, text)  # a CA bundle path


def _policy(cls: Any) -> Callable[[str, str], Any]:
    def convert(name: str, text: str) -> Any:
        fields = _json_object(name, text)
        try:
            return cls(**fields)
        except TypeError:
            accepted = ", ".join(sorted(cls.__dataclass_fields__))
            raise ConfigurationError(name, f"{text!r} is not allowed", accepted) from None

    return convert


def _hedge(name: str, text: str) -> Any:
    return _policy(HedgePolicy)(name, text) if text.lstrip().startswith("{") else text


_CONVERTERS: dict[str, Callable[[str, str], Any]] = {
    **dict.fromkeys(_BOOL_OPTIONS, _bool),
    "session_properties": _json_object,
    "http_headers": _json_object,
    "extra_credential": _pairs,
    "roles": _roles,
    "verify": _verify,
    "retry": _policy(RetryPolicy),
    "routing": _policy(RoutingPolicy),
    "hedge": _hedge,
}


# -- printing --------------------------------------------------------------------------------


class MaskedURL(URL):
    """A URL that prints ``***`` for every credential, not only the password.

    ``render_as_string(hide_password=False)`` still gives the whole URL, so the engine can
    be recreated from it.
    """

    __slots__ = ()

    def render_as_string(self, hide_password: bool = True) -> str:
        if not hide_password or not any(k in SECRET_PARAMETERS for k in self.query):
            return super().render_as_string(hide_password=hide_password)
        base = URL.create(
            self.drivername, self.username, self.password, self.host, self.port, self.database
        ).render_as_string(hide_password=True)
        pairs = [
            f"{quote_plus(k)}={'***' if k in SECRET_PARAMETERS else quote_plus(v)}"
            for k in sorted(self.query)
            for v in _values(self.query[k])
        ]
        return base + "?" + "&".join(pairs)

    def __repr__(self) -> str:
        return self.render_as_string()


def _values(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def masked(url: URL) -> MaskedURL:
    """``url`` as a :class:`MaskedURL`."""
    if isinstance(url, MaskedURL):
        return url
    return MaskedURL(*url)
