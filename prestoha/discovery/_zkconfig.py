"""Shared ZooKeeper settings: host strings, digest auth, ACLs, retry policies, the client.

Both the agent (writer) and :class:`~prestoha.discovery.zookeeper.ZooKeeperDiscovery` (reader)
build their kazoo client here, so both get the same short reconnect policy: kazoo's default
backs off up to an hour between reconnect attempts, far too long for failover.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from prestoha.errors import ConfigurationError

__all__ = [
    "ZkAuth",
    "ZkHosts",
    "make_acl",
    "make_ancestor_acl",
    "make_client",
    "parse_auth",
    "parse_hosts",
]

#: The logger kazoo's own messages go to (ERROR and up unless a level is set on it).
KAZOO_LOGGER = "prestoha.kazoo"
#: Reconnect forever, never waiting more than this between two tries.
RECONNECT_MAX_DELAY = 1.0


@dataclass(frozen=True)
class ZkHosts:
    """A parsed ensemble: ``(host, port)`` pairs and an optional chroot."""

    servers: tuple[tuple[str, int], ...]
    chroot: str = ""

    @property
    def connect_string(self) -> str:
        """The kazoo/ZooKeeper connect string."""
        hosts = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in self.servers)
        return hosts + self.chroot

    @property
    def key(self) -> str:
        """The same ensemble spelled the same way whatever the order of its hosts."""
        hosts = ",".join(f"{h}:{p}" for h, p in sorted(self.servers))
        return hosts + self.chroot

    def __str__(self) -> str:
        return self.connect_string


def parse_hosts(hosts: str, option: str = "zk") -> ZkHosts:
    """Parse ``host[:port][,host[:port]...][/chroot]`` (port 2181 by default).

    Raises :class:`ConfigurationError` naming ``option`` for anything unusable.
    """
    accepted = "host1:2181,host2:2181[/chroot]"
    if not isinstance(hosts, str) or not hosts.strip():
        raise ConfigurationError(option, "no ZooKeeper hosts given", accepted)
    text = hosts.strip()
    if text.startswith(("zk://", "zookeeper://")):
        text = text.split("://", 1)[1]
    if "@" in text.split("/", 1)[0]:
        # user:password@host: refused without repeating it (the password would show).
        raise ConfigurationError(
            option,
            "holds user:password@ (not shown): ZooKeeper hosts carry no credentials",
            "host1:2181,host2:2181, with the credentials in zk_auth='user:password' "
            "(--zk-auth, PRESTOHA_ZK_AUTH)",
        )
    chroot = ""
    if "/" in text:
        text, rest = text.split("/", 1)
        parts = [p for p in rest.split("/") if p]
        chroot = "/" + "/".join(parts) if parts else ""
    servers: list[tuple[str, int]] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise ConfigurationError(option, f"empty host in {hosts!r}", accepted)
        servers.append(_host_port(item, hosts, option, accepted))
    return ZkHosts(servers=tuple(servers), chroot=chroot)


def _host_port(item: str, whole: str, option: str, accepted: str) -> tuple[str, int]:
    port_text = "2181"
    if item.startswith("["):
        end = item.find("]")
        if end < 0:
            raise ConfigurationError(option, f"unclosed '[' in {whole!r}", accepted)
        host, rest = item[1:end], item[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ConfigurationError(option, f"bad host {item!r}", accepted)
            port_text = rest[1:]
    elif item.count(":") == 1:
        host, port_text = item.split(":")
    elif ":" in item:
        raise ConfigurationError(option, f"IPv6 host {item!r} needs brackets", "[::1]:2181")
    else:
        host = item
    if not host or any(c.isspace() or c in "@?#" for c in host):
        raise ConfigurationError(option, f"bad host {item!r} in {whole!r}", accepted)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigurationError(option, f"bad port {port_text!r} in {whole!r}", accepted)
    return host.lower(), int(port_text)


@dataclass(frozen=True)
class ZkAuth:
    """ZooKeeper digest credentials. Never printed: ``repr`` hides the password."""

    user: str
    password: str

    def __repr__(self) -> str:
        return f"ZkAuth(user={self.user!r}, password='***')"

    __str__ = __repr__

    @property
    def auth_data(self) -> list[tuple[str, str]]:
        """What kazoo's ``auth_data`` takes."""
        return [("digest", f"{self.user}:{self.password}")]


def parse_auth(value: str | ZkAuth | None, option: str = "zk_auth") -> ZkAuth | None:
    """``user:password`` to :class:`ZkAuth`; the error never repeats the value."""
    if value is None or isinstance(value, ZkAuth):
        return value
    if not isinstance(value, str) or ":" not in value:
        raise ConfigurationError(option, "expected user:password (the value is not shown)")
    user, password = value.split(":", 1)
    if not user or not password:
        raise ConfigurationError(option, "user and password must both be non-empty")
    return ZkAuth(user=user, password=password)


def make_acl(
    auth: ZkAuth | None, world_read: bool = True, read_auth: ZkAuth | None = None
) -> list[Any] | None:
    """ACLs for znodes written with ``auth``: all rights for that user, READ for the
    ``read_auth`` user if given, and READ for everyone unless ``world_read`` is false.

    None (ZooKeeper's open ACL) without credentials.
    """
    if auth is None:
        return None
    from kazoo.security import make_acl as kazoo_acl
    from kazoo.security import make_digest_acl

    acl = [make_digest_acl(auth.user, auth.password, all=True)]
    if read_auth is not None:
        acl.append(make_digest_acl(read_auth.user, read_auth.password, read=True))
    if world_read:
        acl.append(kazoo_acl("world", "anyone", read=True))
    return acl


def make_ancestor_acl(auth: ZkAuth | None, world_read: bool = True) -> list[Any] | None:
    """ACLs for the path above a cluster (``/prestoha``): all rights for the agents' user and
    at most READ for everyone. Never CREATE for everyone: anyone could then create a cluster
    znode with an open ACL before the agents do. Agents of another cluster with other
    credentials need that user granted CREATE on it, or their cluster znode made for them."""
    return make_acl(auth, world_read)


_AUTH_FIELD = re.compile(r"auth=(b?)'[^']*'")


class _Redactor(logging.Filter):
    """Scrubs credentials from kazoo's log records (at DEBUG it prints the auth packet)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:
            return True
        clean = _AUTH_FIELD.sub(r"auth=\1'***'", text)
        for secret in self.secrets:
            clean = clean.replace(secret, "***")
        if clean != text:
            record.msg, record.args = clean, None
        return True


_REDACTOR = _Redactor()


class _QuietUnlessAsked(logging.Filter):
    """Drops kazoo's records below ERROR while nobody set a level on its logger.

    kazoo narrates every reconnect attempt at WARNING; our own loggers report the state
    changes that matter, once. A filter rather than a level: the logger's level stays the
    application's to set, and setting any level on it lets kazoo be heard.
    """

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self._logger = logger

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or self._logger.level != logging.NOTSET


_QUIET = _QuietUnlessAsked(logging.getLogger(KAZOO_LOGGER))


def make_client(
    hosts: ZkHosts,
    *,
    session_timeout: float,
    auth: ZkAuth | None = None,
    default_acl: list[Any] | None = None,
    read_only: bool = False,
) -> Any:
    """A kazoo client (not started) that reconnects forever, at most a second apart."""
    from kazoo.client import KazooClient
    from kazoo.retry import KazooRetry

    kazoo_log = logging.getLogger(KAZOO_LOGGER)
    for own in (_REDACTOR, _QUIET):
        if own not in kazoo_log.filters:
            kazoo_log.addFilter(own)
    if auth is not None:
        _REDACTOR.secrets.add(auth.password)
    return KazooClient(
        hosts=hosts.connect_string,
        timeout=session_timeout,
        connection_retry=KazooRetry(
            max_tries=-1, delay=0.1, backoff=2, max_jitter=0.2, max_delay=RECONNECT_MAX_DELAY
        ),
        command_retry=KazooRetry(max_tries=3, delay=0.1, backoff=2, max_delay=1.0),
        auth_data=auth.auth_data if auth else None,
        default_acl=default_acl,
        read_only=read_only,
        logger=kazoo_log,
    )
