"""Every option of :func:`prestoha.connect`, checked up front.

A wrong name or value raises ``ConfigurationError`` naming the option and what it
accepts, before anything touches the network. The same names are used by the
SQLAlchemy URL and the command line.
"""

from __future__ import annotations

import contextlib
import getpass
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trino.transaction import IsolationLevel

from prestoha.dbapi._trino_options import from_trino
from prestoha.dbapi._wire import (
    check_header_value,
    credentials_option,
    header_map,
    headers,
    optional_header,
    pairs,
    roles_option,
)
from prestoha.discovery import parse_hosts, parse_tls
from prestoha.errors import ConfigurationError, InsecureCredentialsError, without_userinfo
from prestoha.execution import DEFAULT_PREFETCH, PrefetchLimit, ResumeMode
from prestoha.protocol import PROTOCOLS
from prestoha.retry import RetryPolicy
from prestoha.routing import HedgePolicy, RoutingMode, RoutingPolicy
from prestoha.statements import UNKNOWN_FUNCTIONS

__all__ = ["MAXIMA", "MODES", "RESUMES", "Options", "parse_options"]

#: The values of ``mode``, as text.
MODES = tuple(mode.value for mode in RoutingMode)
#: The values of ``resume``, as text.
RESUMES = tuple(resume.value for resume in ResumeMode)

#: Options of ``trino.dbapi.connect`` that prestoha cannot take, and what to use instead.
_REFUSED_TRINO = {
    "http_session": (
        "cannot be shared: prestoha keeps its own connection pool per coordinator",
        "verify= for TLS, auth= for credentials, http_headers= for headers",
    ),
}

#: The largest value each number option takes (seconds; rows for ``arraysize``): beyond
#: them a value is a mistake, and some would overflow the clock.
MAXIMA = {
    "failover_timeout": 86_400.0,
    "request_timeout": 3_600.0,
    "connect_timeout": 600.0,
    "zk_timeout": 600.0,
    "probe_interval": 3_600.0,
    "arraysize": 100_000_000,
}


@dataclass(frozen=True)
class Options:
    """The checked options of one connection."""

    zk: str | None
    hosts: tuple[str, ...]
    cluster: str
    root: str
    mode: RoutingMode
    user: str
    catalog: str | None
    schema: str | None
    source: str
    session_properties: dict[str, str]
    roles: dict[str, str] | str | None
    timezone: str | None
    client_tags: tuple[str, ...]
    http_headers: dict[str, str] = field(repr=False)
    extra_credential: tuple[tuple[str, str], ...] = field(repr=False)
    auth: Any = field(repr=False)
    http_scheme: str | None
    verify: bool | str
    allow_insecure_auth: bool
    failover_timeout: float
    request_timeout: float
    connect_timeout: float
    retry: RetryPolicy
    allowed_hosts: tuple[str, ...]
    next_uri_hosts: tuple[str, ...]
    resume: ResumeMode
    unknown_functions: str
    isolation_level: IsolationLevel
    legacy_primitive_types: bool
    prefetch: PrefetchLimit
    arraysize: int
    zk_auth: str | None = field(repr=False)
    zk_timeout: float
    zk_tls: bool
    zk_ca: str | None
    zk_cert: str | None
    zk_key: str | None
    encoding: str | None
    hedge: HedgePolicy | None
    routing: RoutingPolicy
    probe_interval: float | None
    #: ``"trino"``, ``"presto"`` (PrestoDB) or ``"auto"`` (found out per cluster).
    protocol: str = "auto"
    #: Bind parameters with ``PREPARE`` and ``EXECUTE ... USING`` (the session carries the
    #: statement) instead of ``EXECUTE IMMEDIATE``: for Trino before 418, as in the trino client.
    legacy_prepared_statements: bool = False

    def credentials_option(self) -> str | None:
        """The option that sends credentials to the coordinators, if any."""
        return credentials_option(self.auth, self.http_headers, self.extra_credential)


def parse_options(kwargs: Mapping[str, Any]) -> Options:
    """Check and normalise the keyword arguments of ``connect()``."""
    hosts_option = "host" if kwargs.get("host") else "hosts"
    opts = from_trino(kwargs)
    known = set(Options.__dataclass_fields__)
    for name in list(opts):
        if name in _REFUSED_TRINO:
            raise ConfigurationError(name, *_REFUSED_TRINO[name])
        if name == "heartbeat_interval":
            # trino's client keeps a spooled query alive while rows wait for the caller;
            # prestoha's fetcher reads ahead and keeps it alive.
            opts.pop(name)
            continue
        if name not in known:
            close = sorted(known)
            raise ConfigurationError(name, "unknown option", ", ".join(close))

    zk = _optional_str(opts, "zk", join_lists=True)
    if zk:
        parse_hosts(zk, "zk")  # up front, and never repeating a password given in it
    http_scheme = _optional_str(opts, "http_scheme")
    if http_scheme is not None:
        _choice("http_scheme", http_scheme, ("http", "https"))
    hosts = _hosts(opts.get("hosts"), http_scheme, hosts_option)
    if zk and hosts:
        raise ConfigurationError("hosts", "give either zk= or hosts=, not both")
    if not zk and not hosts:
        raise ConfigurationError(
            "zk", "no coordinators: give zk= (ZooKeeper hosts) or hosts= (coordinator URLs)"
        )
    mode = opts.get("mode") or (RoutingMode.LEADER if zk else RoutingMode.LEADER_PREFERRED)
    _choice("mode", mode, MODES)
    resume = opts.get("resume", ResumeMode.VERIFY)
    _choice("resume", resume, RESUMES)
    _choice("unknown_functions", opts.get("unknown_functions", "read"), UNKNOWN_FUNCTIONS)

    auth = opts.get("auth")
    http_headers = headers(opts)
    extra_credential = tuple(pairs(opts, "extra_credential"))
    allow_insecure = _bool(opts, "allow_insecure_auth", False)
    credentials = credentials_option(auth, http_headers, extra_credential)
    if credentials and not allow_insecure:
        insecure = [h for h in hosts if h.startswith("http://")]
        if http_scheme == "http" or insecure:
            raise InsecureCredentialsError(
                credentials,
                "credentials over plain http would be sent in the clear",
                "https coordinators, or allow_insecure_auth=True",
            )

    retry = opts.get("retry", RetryPolicy())
    if not isinstance(retry, RetryPolicy):
        raise ConfigurationError(
            "retry", f"{type(retry).__name__} is not allowed", "RetryPolicy(...)"
        )

    isolation = opts.get("isolation_level", IsolationLevel.AUTOCOMMIT)
    if isinstance(isolation, str):
        isolation = IsolationLevel.__members__.get(isolation.upper(), isolation)
    if not isinstance(isolation, IsolationLevel):
        raise ConfigurationError(
            "isolation_level", f"{isolation!r}", ", ".join(i.name for i in IsolationLevel)
        )

    encoding = _encoding(opts.get("encoding"))
    protocol = opts.get("protocol", "auto")
    _choice("protocol", protocol, PROTOCOLS)
    if protocol == "presto" and encoding is not None:
        raise ConfigurationError(
            "encoding",
            "PrestoDB has no spooling protocol (protocol='presto')",
            "no encoding, or protocol='trino' or 'auto'",
        )
    tls = [opts.get(n) or None for n in ("zk_ca", "zk_cert", "zk_key")]
    zk_tls = parse_tls(opts.get("zk_tls"), *tls) is not None

    return Options(
        zk=zk,
        hosts=hosts,
        cluster=_name(opts, "cluster", "default"),
        root=_root(opts.get("root", "/prestoha")),
        mode=RoutingMode(mode),
        user=optional_header(
            "user", _optional_str(opts, "user") or os.environ.get("TRINO_USER") or _login()
        ),
        catalog=optional_header("catalog", _optional_str(opts, "catalog")),
        schema=optional_header("schema", _optional_str(opts, "schema")),
        source=optional_header("source", _optional_str(opts, "source") or "prestoha"),
        session_properties=header_map(opts, "session_properties"),
        roles=roles_option(opts.get("roles")),
        timezone=_timezone(opts),
        client_tags=tuple(
            check_header_value("client_tags", t) for t in _str_list(opts, "client_tags")
        ),
        http_headers=http_headers,
        extra_credential=extra_credential,
        auth=auth,
        http_scheme=http_scheme,
        verify=_verify(opts.get("verify", True)),
        allow_insecure_auth=allow_insecure,
        failover_timeout=_seconds(opts, "failover_timeout", 30.0),
        request_timeout=_seconds(opts, "request_timeout", 5.0),
        connect_timeout=_seconds(opts, "connect_timeout", 2.0),
        retry=retry,
        allowed_hosts=tuple(_str_list(opts, "allowed_hosts")),
        next_uri_hosts=tuple(_str_list(opts, "next_uri_hosts")),
        resume=ResumeMode(resume),
        unknown_functions=opts.get("unknown_functions", "read"),
        isolation_level=isolation,
        legacy_primitive_types=_bool(opts, "legacy_primitive_types", False),
        prefetch=PrefetchLimit.parse(opts.get("prefetch", DEFAULT_PREFETCH)),
        arraysize=_count(opts, "arraysize", 10_000),
        zk_auth=_optional_str(opts, "zk_auth"),
        zk_timeout=_seconds(opts, "zk_timeout", 5.0),
        zk_tls=zk_tls,
        zk_ca=tls[0],
        zk_cert=tls[1],
        zk_key=tls[2],
        encoding=encoding,
        hedge=_hedge(opts.get("hedge")),
        routing=_routing(opts.get("routing")),
        probe_interval=_probe_interval(opts),
        protocol=protocol,
        # None, the trino client's "find out", binds with EXECUTE IMMEDIATE (Trino 418+).
        legacy_prepared_statements=_bool(opts, "legacy_prepared_statements", False),
    )


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "prestoha"


def _choice(name: str, value: Any, accepted: Sequence[str]) -> None:
    if value not in accepted:
        raise ConfigurationError(
            name, f"{value!r} is not allowed", ", ".join(repr(a) for a in accepted)
        )


def _optional_str(opts: Mapping[str, Any], name: str, join_lists: bool = False) -> str | None:
    value = opts.get(name)
    if value is None or value == "":
        return None
    if join_lists and isinstance(value, (list, tuple)):
        if not all(isinstance(v, str) and v for v in value):
            raise ConfigurationError(name, f"{value!r}", "a string or a list of strings")
        return ",".join(value)
    if not isinstance(value, str):
        raise ConfigurationError(name, f"{type(value).__name__} is not allowed", "a string")
    return value


def _name(opts: Mapping[str, Any], name: str, default: str) -> str:
    value = opts.get(name, default)
    if not isinstance(value, str) or not value or "/" in value:
        raise ConfigurationError(name, f"{value!r}", "a non-empty name without '/'")
    return value


def _root(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/") or value.endswith("/"):
        raise ConfigurationError("root", f"{value!r}", "a ZooKeeper path like '/prestoha'")
    return value


_HOST_RE = re.compile(r"^(?:(https?)://)?([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?/?$")


def _hosts(value: Any, scheme: str | None, option: str = "hosts") -> tuple[str, ...]:
    """Coordinator URIs from ``host:port`` or ``http(s)://host:port`` items."""
    accepted = "host:port or http(s)://host:port"
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ConfigurationError(option, f"{type(value).__name__}", accepted)
    out = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigurationError(option, f"{item!r}", accepted)
        match = _HOST_RE.match(item.strip())
        if match is None or (match.group(3) and not 0 < int(match.group(3)) < 65536):
            shown = without_userinfo(repr(item))  # a password given there stays unseen
            accepted += "; no user:password@ (credentials go in auth=)" if "@" in item else ""
            raise ConfigurationError(option, f"{shown} is not a coordinator address", accepted)
        given, host, port = match.groups()
        chosen = given or scheme or ("https" if port == "443" else "http")
        out.append(f"{chosen}://{host}:{port or (443 if chosen == 'https' else 8080)}")
    return tuple(out)


def _bool(opts: Mapping[str, Any], name: str, default: bool) -> bool:
    value = opts.get(name, default)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise ConfigurationError(name, f"{value!r}", "True or False")
    return value


def _seconds(opts: Mapping[str, Any], name: str, default: float) -> float:
    value = opts.get(name, default)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    accepted = f"a number of seconds > 0 and <= {MAXIMA[name]:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(name, f"{value!r}", accepted)
    if not math.isfinite(value) or not 0 < value <= MAXIMA[name]:
        raise ConfigurationError(name, f"{value!r} is out of range", accepted)
    return float(value)


def _count(opts: Mapping[str, Any], name: str, default: int) -> int:
    value = opts.get(name, default)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAXIMA[name]:
        raise ConfigurationError(name, f"{value!r}", f"an integer from 1 to {MAXIMA[name]}")
    return value


def _str_list(opts: Mapping[str, Any], name: str) -> list[str]:
    value = opts.get(name) or []
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(name, f"{value!r}", "a list of strings")
    return list(value)


def _verify(value: Any) -> bool | str:
    if isinstance(value, bool) or (isinstance(value, str) and value):
        return value
    raise ConfigurationError("verify", f"{value!r}", "True, False or a CA bundle path")


def _timezone(opts: Mapping[str, Any]) -> str | None:
    tz = _optional_str(opts, "timezone")
    if tz is None:
        return None
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(tz)
    except Exception:
        raise ConfigurationError(
            "timezone", f"{tz!r} is not a time zone", "an IANA zone id like 'UTC'"
        ) from None
    return tz


_ENCODINGS = ("json", "json+zstd", "json+lz4")


def _encoding(value: Any) -> str | None:
    """The spooling protocol encodings to ask for, in order of preference (None: direct)."""
    if value is None or value == "":
        return None
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise ConfigurationError("encoding", f"{value!r}", ", ".join(_ENCODINGS))
    for item in items:
        if item not in _ENCODINGS:
            raise ConfigurationError("encoding", f"{item!r} is not allowed", ", ".join(_ENCODINGS))
    return ",".join(items)


def _hedge(value: Any) -> HedgePolicy | None:
    """``HedgePolicy(...)``; or the ``after`` alone: ``"p95"``, ``"p99"``, seconds; ``True``
    for the defaults; ``None``/``False`` for no hedging."""
    accepted = "HedgePolicy(...), 'p90', 'p95', 'p99', a number of seconds, True or False"
    if value is None or value is False or value in ("", "false", "off", "none"):
        return None
    if isinstance(value, HedgePolicy):
        return value
    if value is True or value == "true":
        return HedgePolicy()
    if isinstance(value, str) and value not in ("p90", "p95", "p99"):
        try:
            value = float(value)
        except ValueError:
            raise ConfigurationError("hedge", f"{value!r} is not allowed", accepted) from None
    if isinstance(value, (int, float, str)):
        return HedgePolicy(after=value)  # type: ignore[arg-type]
    raise ConfigurationError("hedge", f"{type(value).__name__} is not allowed", accepted)


def _routing(value: Any) -> RoutingPolicy:
    if value is None:
        return RoutingPolicy()
    if not isinstance(value, RoutingPolicy):
        raise ConfigurationError("routing", f"{type(value).__name__}", "RoutingPolicy(...)")
    return value


def _probe_interval(opts: Mapping[str, Any]) -> float | None:
    value = opts.get("probe_interval", 2.0)
    if value is None or value in (0, "0", "off", "none"):
        return None
    return _seconds({"probe_interval": value}, "probe_interval", 2.0)
