"""Shared ZooKeeper settings: host strings, digest auth, ACLs, retry policies, the client.

Both the agent (writer) and :class:`~prestoha.discovery.zookeeper.ZooKeeperDiscovery` (reader)
build their kazoo client here, so both get the same short reconnect policy: kazoo's default
backs off up to an hour between reconnect attempts, far too long for failover.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prestoha.errors import ConfigurationError

__all__ = [
    "ZkAuth",
    "ZkHosts",
    "ZkTls",
    "connect_problem",
    "make_acl",
    "make_ancestor_acl",
    "make_client",
    "parse_auth",
    "parse_hosts",
    "parse_tls",
]

#: The logger kazoo's own messages go to (ERROR and up unless a level is set on it).
KAZOO_LOGGER = "prestoha.kazoo"
#: Reconnect forever, never waiting more than this between two tries.
RECONNECT_MAX_DELAY = 1.0


@dataclass(frozen=True)
class ZkTls:
    """ZooKeeper over TLS: the CA file that signed the servers' certificates (None: the
    system's CAs) and, for servers that ask for one, a client certificate and key (PEM files).
    Server certificates are always verified, host name included."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None

    def client_args(self) -> dict[str, Any]:
        """What ``KazooClient`` takes for it."""
        return {
            "use_ssl": True,
            "ca": self.ca,
            "certfile": self.cert,
            "keyfile": self.key,
            "verify_certs": True,
            "check_hostname": True,
        }

    def context(self) -> ssl.SSLContext:
        """An SSL context as kazoo builds one (for checking the files and the handshake)."""
        context = ssl.create_default_context(cafile=self.ca)
        if self.cert and self.key:
            context.load_cert_chain(self.cert, self.key, password=_no_password)
        return context


def _no_password() -> str:
    # an encrypted key would make OpenSSL prompt on the terminal; refuse it instead
    raise ValueError("the key is encrypted")


def parse_tls(
    tls: bool | None,
    ca: str | None = None,
    cert: str | None = None,
    key: str | None = None,
    *,
    names: tuple[str, str, str, str] = ("zk_tls", "zk_ca", "zk_cert", "zk_key"),
) -> ZkTls | None:
    """Check the TLS options (``names`` as the user spells them); None for plain TCP.

    A CA, certificate or key turns TLS on; ``tls=False`` with one of them is a contradiction.
    """
    if tls is not None and not isinstance(tls, bool):
        raise ConfigurationError(names[0], f"{tls!r} is not allowed", "True or False")
    given = [n for n, v in zip(names[1:], (ca, cert, key), strict=True) if v]
    if tls is False and given:
        raise ConfigurationError(names[0], f"is off but {given[0]} is given", "one or the other")
    if not (tls or given):
        return None
    for name, value in zip(names[1:], (ca, cert, key), strict=True):
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(name, f"{type(value).__name__}", "the path of a PEM file")
        if value and not Path(value).is_file():
            raise ConfigurationError(name, f"no such file: {value!r}", "the path of a PEM file")
    if bool(cert) != bool(key):
        raise ConfigurationError(names[3] if cert else names[2], "missing", "both or neither")
    settings = ZkTls(ca=ca or None, cert=cert or None, key=key or None)
    try:
        settings.context()
    except (ssl.SSLError, ValueError) as exc:
        name = names[1] if "verify" in str(exc) or not cert else f"{names[2]}/{names[3]}"
        reason = getattr(exc, "reason", None) or str(exc)
        raise ConfigurationError(name, f"cannot be loaded ({reason})", "unencrypted PEM") from None
    return settings


def connect_problem(hosts: ZkHosts, timeout: float) -> str:
    """Why a TLS connection to the ensemble fails, from a handshake with each server: the
    first failure's reason and what to fix; empty without TLS or when a handshake works."""
    if hosts.tls is None:
        return ""
    context, problem = hosts.tls.context(), ""
    for host, port in hosts.servers:
        try:
            with (
                socket.create_connection((host, port), timeout=timeout) as raw,
                context.wrap_socket(raw, server_hostname=host),
            ):
                return ""
        except ssl.SSLCertVerificationError as exc:
            problem = problem or (
                f"the TLS certificate of {host}:{port} is not trusted "
                f"({exc.verify_message}): check zk_ca (--zk-ca), the CA that signed the "
                "servers' certificates, and that they name the host"
            )
        except ssl.SSLError as exc:
            problem = problem or (
                f"the TLS handshake with {host}:{port} failed ({exc.reason}): check that it "
                "is the servers' secure client port, and zk_cert/zk_key if they ask for one"
            )
        except OSError as exc:
            problem = problem or f"{host}:{port}: {exc.strerror or type(exc).__name__}"
    return problem


@dataclass(frozen=True)
class ZkHosts:
    """A parsed ensemble: ``(host, port)`` pairs, an optional chroot, and TLS if it is used."""

    servers: tuple[tuple[str, int], ...]
    chroot: str = ""
    tls: ZkTls | None = None

    @property
    def connect_string(self) -> str:
        """The kazoo/ZooKeeper connect string."""
        hosts = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in self.servers)
        return hosts + self.chroot

    @property
    def key(self) -> str:
        """The same ensemble spelled the same way whatever the order of its hosts."""
        hosts = ",".join(f"{h}:{p}" for h, p in sorted(self.servers))
        return hosts + self.chroot + (f" {self.tls}" if self.tls else "")

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
        **(hosts.tls.client_args() if hosts.tls else {}),
    )
