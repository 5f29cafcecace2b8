"""The agent's settings: :class:`AgentConfig`, validated, and the command line that builds it."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, replace

from prestoha.discovery import ZkAuth, ZkHosts, parse_auth, parse_hosts, parse_tls
from prestoha.discovery.records import (
    DEFAULT_CLUSTER,
    DEFAULT_ROOT,
    ClusterPaths,
    check_node_id,
    host_port,
    normalize_uri,
)
from prestoha.errors import ConfigurationError, without_userinfo

__all__ = ["AUTH_ENV", "READ_AUTH_ENV", "AgentConfig", "build_parser"]

#: The environment variable that may hold ``--zk-auth`` (out of the process list).
AUTH_ENV = "PRESTOHA_ZK_AUTH"
#: The environment variable that may hold ``--zk-read-auth``.
READ_AUTH_ENV = "PRESTOHA_ZK_READ_AUTH"


@dataclass(frozen=True)
class AgentConfig:
    """Everything the agent needs, validated. ``auth`` and ``read_auth`` hide their passwords
    in ``repr``."""

    coordinator: str
    zk: ZkHosts
    paths: ClusterPaths
    node_id: str
    advertise: str
    interval: float = 0.5
    rise: int = 2
    fall: int = 2
    check_timeout: float = 0.8
    zone: str | None = None
    weight: int = 100
    auth: ZkAuth | None = None
    world_read: bool = True
    read_auth: ZkAuth | None = None
    session_timeout: float = 6.0
    verify_tls: bool = True
    election: bool = True

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: dict[str, str] | None = None) -> AgentConfig:
        """Build from parsed arguments; :class:`ConfigurationError` for anything unusable."""
        env = dict(os.environ) if env is None else env
        coordinator = _coordinator_url(args.coordinator, "--coordinator")
        try:
            advertise = normalize_uri(args.advertise or coordinator)
        except ValueError as exc:
            raise ConfigurationError("--advertise", str(exc), "https://host:port") from None
        if args.node_id is None:
            host, port = host_port(advertise)
            node_id = f"{host}-{port}".replace(":", "_")
        else:
            node_id = args.node_id
        _positive("--interval", args.interval, 3600)
        _positive("--check-timeout", args.check_timeout, 600)
        _positive("--session-timeout", args.session_timeout, 600)
        for name, value in (("--rise", args.rise), ("--fall", args.fall)):
            if value < 1:
                raise ConfigurationError(name, f"{value} is less than 1")
        if not 0 <= args.weight <= 1_000_000:
            raise ConfigurationError("--weight", f"{args.weight} is out of range", "0..1000000")
        tls_names = ("--zk-tls", "--zk-ca", "--zk-cert", "--zk-key")
        tls = parse_tls(args.zk_tls, args.zk_ca, args.zk_cert, args.zk_key, names=tls_names)
        auth = parse_auth(args.zk_auth or env.get(AUTH_ENV) or None, "--zk-auth")
        read_auth = _read_auth(args.zk_read_auth or env.get(READ_AUTH_ENV) or None, auth)
        world_read = read_auth is None if args.world_read is None else args.world_read
        return cls(
            coordinator=coordinator,
            zk=replace(parse_hosts(args.zk, "--zk"), tls=tls),
            paths=ClusterPaths.of(args.root, args.cluster),
            node_id=check_node_id(node_id, "--node-id"),
            advertise=advertise,
            interval=args.interval,
            rise=args.rise,
            fall=args.fall,
            check_timeout=args.check_timeout,
            zone=args.zone,
            weight=args.weight,
            auth=auth,
            world_read=world_read,
            read_auth=read_auth,
            session_timeout=args.session_timeout,
            verify_tls=not args.insecure,
            election=args.election,
        )


def _coordinator_url(value: str, option: str) -> str:
    try:
        host_port(value)
    except ValueError as exc:
        shown = without_userinfo(repr(value))
        raise ConfigurationError(option, f"{shown}: {exc}", "http://localhost:8080") from None
    return value.strip().rstrip("/")


def _read_auth(value: str | None, auth: ZkAuth | None) -> ZkAuth | None:
    read_auth = parse_auth(value, "--zk-read-auth")
    if read_auth is not None and auth is None:
        raise ConfigurationError(
            "--zk-read-auth", "needs --zk-auth: without it the znodes are open to everyone"
        )
    if read_auth is not None and auth is not None and read_auth.user == auth.user:
        raise ConfigurationError("--zk-read-auth", "names the --zk-auth user", "another user")
    return read_auth


def _positive(option: str, value: float, limit: float) -> None:
    if not 0 < value <= limit:
        raise ConfigurationError(option, f"{value} is not a number of seconds in (0, {limit}]")


def build_parser(prog: str = "prestoha agent") -> argparse.ArgumentParser:
    """The agent's command line."""
    p = argparse.ArgumentParser(
        prog=prog,
        description="Health-check a Trino or PrestoDB coordinator, register it in ZooKeeper "
        "and take part in the leader election.",
    )
    p.add_argument("--coordinator", required=True, metavar="URL", help="the coordinator to check")
    p.add_argument(
        "--zk", required=True, metavar="HOSTS", help="ZooKeeper: h1:2181,h2:2181[/chroot]"
    )
    p.add_argument("--cluster", default=DEFAULT_CLUSTER, help="cluster name (default: %(default)s)")
    p.add_argument("--root", default=DEFAULT_ROOT, help="root znode (default: %(default)s)")
    p.add_argument("--node-id", default=None, help="this coordinator's id (default: host-port)")
    p.add_argument(
        "--advertise", default=None, metavar="URI", help="URI clients use (default: --coordinator)"
    )
    p.add_argument("--interval", type=float, default=0.5, help="seconds between checks (0.5)")
    p.add_argument("--rise", type=int, default=2, help="healthy checks before registering (2)")
    p.add_argument("--fall", type=int, default=2, help="failed checks before deregistering (2)")
    p.add_argument("--check-timeout", type=float, default=0.8, help="seconds per check (0.8)")
    p.add_argument("--zone", default=None, help="zone (rack, availability zone) of the coordinator")
    p.add_argument("--weight", type=int, default=100, help="routing weight (100)")
    p.add_argument(
        "--zk-auth", default=None, metavar="USER:PASSWORD", help=f"digest auth (or ${AUTH_ENV})"
    )
    p.add_argument(
        "--zk-read-auth",
        default=None,
        metavar="USER:PASSWORD",
        help=f"with --zk-auth: a user that may only read the znodes (or ${READ_AUTH_ENV})",
    )
    p.add_argument(
        "--world-read",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with --zk-auth: let everyone read the znodes (default: yes, no with --zk-read-auth)",
    )
    p.add_argument("--zk-tls", action="store_true", default=None, help="ZooKeeper over TLS")
    p.add_argument("--zk-ca", metavar="PEM", help="CA of the ZooKeeper servers' certificates")
    p.add_argument("--zk-cert", metavar="PEM", help="client certificate for ZooKeeper")
    p.add_argument("--zk-key", metavar="PEM", help="key of --zk-cert")
    p.add_argument("--session-timeout", type=float, default=6.0, help="ZooKeeper session, s (6)")
    p.add_argument("--insecure", action="store_true", help="do not verify the coordinator's TLS")
    p.add_argument(
        "--election",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="take part in the leader election (default: yes); --no-election only registers "
        "the member, for coordinators that are all active (clients in mode any)",
    )
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    # metrics (prestoha[metrics]): prestoha.agent.metrics, fed by the on_check hook
    p.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics")
    p.add_argument("--metrics-addr", default="127.0.0.1", help="metrics address (127.0.0.1)")
    return p
