"""The agent's main loop: check the coordinator, debounce, tell the registrar what to hold."""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from types import FrameType

from prestoha.agent._config import AgentConfig
from prestoha.agent._health import CheckResult, HealthCheck, RiseFall
from prestoha.agent._registrar import Registrar
from prestoha.discovery import Member

__all__ = ["Agent", "CheckHook"]

log = logging.getLogger("prestoha.agent")

#: Called with every :class:`CheckResult`, on the agent's loop, before it acts on the result.
CheckHook = Callable[[CheckResult], None]


class _Stop(BaseException):
    """Raised by the signal handler in the main thread to end the loop wherever it is."""


class Agent:
    """The agent's main loop: checks, debounces, and tells the :class:`Registrar` what to hold.

    ``check`` is the health check (default: ``GET /v1/info`` of ``config.coordinator``).
    ``on_check`` (also settable later as the attribute) is called with every check result: the
    agent's metrics count checks through it. An exception in it is logged once and ignored.
    """

    def __init__(
        self,
        config: AgentConfig,
        *,
        check: Callable[[], CheckResult] | None = None,
        on_check: CheckHook | None = None,
    ) -> None:
        self.config = config
        self.check: Callable[[], CheckResult] = check or HealthCheck(
            config.coordinator, timeout=config.check_timeout, verify_tls=config.verify_tls
        )
        self.on_check = on_check
        self.state = RiseFall(config.rise, config.fall)
        self.registrar = Registrar(
            config.zk,
            config.paths,
            config.node_id,
            session_timeout=config.session_timeout,
            auth=config.auth,
            world_read=config.world_read,
            read_auth=config.read_auth,
            election=config.election,
        )
        self._member: Member | None = None
        self._stopping = False
        self._last_reason: str | None = None
        self._hook_failed = False

    def run(self) -> int:
        """Run until SIGTERM/SIGINT (exit code 0), or until the registrar refuses to run with
        auth on znodes whose ACL it cannot repair (exit code 2, the reason logged)."""
        cfg = self.config
        log.info(
            "agent %s: checking %s every %g s, ZooKeeper %s, cluster %s under %s%s",
            cfg.node_id,
            cfg.coordinator,
            cfg.interval,
            cfg.zk,
            cfg.paths.cluster,
            cfg.paths.root,
            "" if cfg.election else ", no election (--no-election)",
        )
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.registrar.start()
            while not self.registrar.refused:
                started = time.monotonic()
                self.step()
                time.sleep(max(0.0, cfg.interval - (time.monotonic() - started)))
        except _Stop:
            pass
        finally:
            for s in previous:
                signal.signal(s, signal.SIG_IGN)
            self.registrar.shutdown()
            log.info("agent %s stopped", cfg.node_id)
        # a znode's ACL could not be made safe: a configuration problem, as for bad options
        return 2 if self.registrar.refused else 0

    def step(self) -> CheckResult:
        """Check the coordinator once, report it to ``on_check``, and register or deregister
        as the rise/fall rule says. Returns the check's result."""
        result = self.check()
        if not result.healthy and result.reason != self._last_reason:
            log.info("coordinator check failed: %s", result.reason)
        self._last_reason = None if result.healthy else result.reason
        self._report(result)
        self._observe(result)
        return result

    def _report(self, result: CheckResult) -> None:
        hook = self.on_check
        if hook is None:
            return
        try:
            hook(result)
        except Exception:
            # the hook serves the agent (metrics); it never stops the health checks
            if not self._hook_failed:
                self._hook_failed = True
                log.warning("the on_check hook failed (reported once)", exc_info=True)

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
            protocol=result.protocol,
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
