"""``prestoha agent``: runs beside a coordinator, health-checks it, registers it, elects a leader.

Every ``interval`` seconds it asks the coordinator's ``GET /v1/info``; healthy means
``coordinator == true`` and ``starting == false``. After ``rise`` healthy checks in a row it
registers the member znode and enters the election; after ``fall`` failed ones (or at once, on
a refused connection) it resigns and deregisters. While it leads it keeps the ``leader`` znode,
with an epoch that only grows. On SIGTERM or SIGINT it deletes its znodes and exits 0. When its
ZooKeeper session is lost it registers again as soon as a new session is up.

Run it as ``prestoha agent ...`` or ``python -m prestoha.agent ...`` (no click needed).
The ZooKeeper password can come from ``PRESTOHA_ZK_AUTH`` instead of ``--zk-auth``, which keeps it
out of the process list; it is never logged.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from types import FrameType

from prestoha._agent_health import CheckResult, HealthCheck, RiseFall
from prestoha._agent_zk import Registrar
from prestoha.discovery._base import Member
from prestoha.discovery._zkconfig import KAZOO_LOGGER, ZkAuth, ZkHosts, parse_auth, parse_hosts
from prestoha.discovery.records import (
    DEFAULT_CLUSTER,
    DEFAULT_ROOT,
    ClusterPaths,
    check_node_id,
    host_port,
    normalize_uri,
)
from prestoha.errors import ConfigurationError

__all__ = ["Agent", "AgentConfig", "build_parser", "main"]

log = logging.getLogger("prestoha.agent")
_AUTH_ENV = "PRESTOHA_ZK_AUTH"


@dataclass(frozen=True)
class AgentConfig:
    """Everything the agent needs, validated. ``auth`` hides its password in ``repr``."""

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
    session_timeout: float = 6.0
    verify_tls: bool = True

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
        return cls(
            coordinator=coordinator,
            zk=parse_hosts(args.zk, "--zk"),
            paths=ClusterPaths.of(args.root, args.cluster),
            node_id=check_node_id(node_id, "--node-id"),
            advertise=advertise,
            interval=args.interval,
            rise=args.rise,
            fall=args.fall,
            check_timeout=args.check_timeout,
            zone=args.zone,
            weight=args.weight,
            auth=parse_auth(args.zk_auth or env.get(_AUTH_ENV) or None, "--zk-auth"),
            world_read=args.world_read,
            session_timeout=args.session_timeout,
            verify_tls=not args.insecure,
        )


def _coordinator_url(value: str, option: str) -> str:
    try:
        host_port(value)
    except ValueError as exc:
        raise ConfigurationError(option, f"{value!r}: {exc}", "http://localhost:8080") from None
    return value.strip().rstrip("/")


def _positive(option: str, value: float, limit: float) -> None:
    if not 0 < value <= limit:
        raise ConfigurationError(option, f"{value} is not a number of seconds in (0, {limit}]")


def build_parser(prog: str = "prestoha agent") -> argparse.ArgumentParser:
    """The agent's command line."""
    p = argparse.ArgumentParser(
        prog=prog,
        description="Health-check a Trino/Presto coordinator, register it in ZooKeeper and "
        "take part in the leader election.",
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
        "--zk-auth", default=None, metavar="USER:PASSWORD", help=f"digest auth (or ${_AUTH_ENV})"
    )
    p.add_argument(
        "--no-world-read",
        dest="world_read",
        action="store_false",
        help="with --zk-auth: do not let everyone read the znodes",
    )
    p.add_argument("--session-timeout", type=float, default=6.0, help="ZooKeeper session, s (6)")
    p.add_argument("--insecure", action="store_true", help="do not verify the coordinator's TLS")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    # metrics (prestoha[metrics]); the hook lives in prestoha.metrics.serve_agent
    p.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics")
    p.add_argument("--metrics-addr", default="127.0.0.1", help="metrics address (127.0.0.1)")
    return p


class _Stop(BaseException):
    """Raised by the signal handler in the main thread to end the loop wherever it is."""


class Agent:
    """The agent's main loop: checks, debounces, and tells the :class:`Registrar` what to hold."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.check = HealthCheck(
            config.coordinator, timeout=config.check_timeout, verify_tls=config.verify_tls
        )
        self.state = RiseFall(config.rise, config.fall)
        self.registrar = Registrar(
            config.zk,
            config.paths,
            config.node_id,
            session_timeout=config.session_timeout,
            auth=config.auth,
            world_read=config.world_read,
        )
        self._member: Member | None = None
        self._stopping = False

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; returns the exit code (0)."""
        cfg = self.config
        log.info(
            "agent %s: checking %s every %g s, ZooKeeper %s, cluster %s under %s",
            cfg.node_id,
            cfg.coordinator,
            cfg.interval,
            cfg.zk,
            cfg.paths.cluster,
            cfg.paths.root,
        )
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.registrar.start()
            last_reason = None
            while True:
                started = time.monotonic()
                result = self.check()
                if not result.healthy and result.reason != last_reason:
                    log.info("coordinator check failed: %s", result.reason)
                last_reason = None if result.healthy else result.reason
                self._observe(result)
                time.sleep(max(0.0, cfg.interval - (time.monotonic() - started)))
        except _Stop:
            pass
        finally:
            for s in previous:
                signal.signal(s, signal.SIG_IGN)
            self.registrar.shutdown()
            log.info("agent %s stopped", cfg.node_id)
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping:
            return
        self._stopping = True
        log.info("received %s: deregistering", signal.Signals(signum).name)
        raise _Stop

    def _observe(self, result: CheckResult) -> None:
        change = self.state.observe(result)
        if change is True or (self.state.up and self._differs(result)):
            if change:
                log.info("coordinator healthy %d times in a row: registering", self.state.rise)
            self._member = self._member_from(result)
            with _signals_deferred():
                self.registrar.want(self._member)
        elif change is False:
            log.warning("coordinator down (%s): deregistering", result.reason)
            self._member = None
            with _signals_deferred():
                self.registrar.want(None)

    def _differs(self, result: CheckResult) -> bool:
        m = self._member
        if m is None or not result.healthy:
            return False
        return (m.environment, m.version) != (result.environment, result.version)

    def _member_from(self, result: CheckResult) -> Member:
        cfg = self.config
        return Member(
            node_id=cfg.node_id,
            uri=cfg.advertise,
            environment=result.environment,
            version=result.version,
            state="ACTIVE",
            registered_at=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            zone=cfg.zone,
            weight=cfg.weight,
        )


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGTERM/SIGINT while touching locks the shutdown path needs too."""
    blocked = {signal.SIGTERM, signal.SIGINT}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def main(argv: Sequence[str] | None = None, prog: str = "prestoha agent") -> int:
    """Parse ``argv``, run the agent, return its exit code (2 for a configuration error)."""
    args = build_parser(prog).parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # kazoo narrates every reconnect attempt; only worth hearing when debugging
    kazoo_level = logging.DEBUG if args.log_level == "debug" else logging.ERROR
    logging.getLogger(KAZOO_LOGGER).setLevel(kazoo_level)
    try:
        config = AgentConfig.from_args(args)
        agent = Agent(config)
    except ConfigurationError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if args.metrics_port is not None:
        try:
            from prestoha.metrics import serve_agent

            serve_agent(agent, args.metrics_port, args.metrics_addr)
        except ImportError:
            print(f"{prog}: --metrics-port needs pip install 'prestoha[metrics]'", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"{prog}: --metrics-port {args.metrics_port}: {exc}", file=sys.stderr)
            return 2
    return agent.run()


if __name__ == "__main__":
    sys.exit(main(prog="python -m prestoha.agent"))
