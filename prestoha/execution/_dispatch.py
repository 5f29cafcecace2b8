"""Where each attempt of one statement goes, how it is watched, what its failures leave.

A :class:`Dispatch` belongs to one execution. It picks a coordinator for the next
attempt (or waits for one), starts the attempt through the connection's transport,
watches a silent coordinator, records every attempt in the history and tells the
cluster what it learnt (latency, a node down), and applies the one decision of whether a
failed statement may run again (``_decision.decide``).
"""

from __future__ import annotations

import functools
import logging
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from prestoha import errors, events
from prestoha.cluster import Cluster, Coordinator
from prestoha.execution._buffer import PrefetchLimit
from prestoha.execution._columnar import ColumnarPlan
from prestoha.execution._decision import ResumeMode, Statement, decide
from prestoha.execution._failures import Abandoned, Failure, Phase, classify
from prestoha.execution._runner import AttemptFailed, AttemptRunner, Event
from prestoha.execution._steps import NextEvent, Sleep, Step, Steps, WaitFor
from prestoha.execution._transport import Transport
from prestoha.retry import RetryPolicy
from prestoha.routing import InFlight, RoutingMode

__all__ = ["Dispatch", "ExecutionContext"]

log = logging.getLogger("prestoha.execution")

#: Seconds of silence from a coordinator after which it is asked whether it is alive.
HANG_CHECK_AFTER = 1.5
#: The ``maxWait`` a read asks of every page request: Trino answers within it (an empty
#: page when no rows are ready yet), so a much longer silence means the node is hung.
PAGE_MAX_WAIT = 0.25
#: On a node whose round trip is long (a loaded one) the read asks for this many round
#: trips instead, up to Trino's own cap of one second: asking a busy coordinator again and
#: again for pages it has not made yet only adds to its load.
PAGE_MAX_WAIT_LATENCIES = 4.0
#: Trino waits at most a second whatever ``maxWait`` asks
#: (``io.trino.server.protocol.ExecutingStatementResource.MAX_WAIT_TIME``).
TRINO_MAX_WAIT = 1.0
#: How long past ``maxWait`` a read waits for an answer: at least this many seconds...
HANG_MARGIN = 0.45
#: ...or this many times the node's observed round trip, when that is longer (a slow or
#: loaded node is not taken for a hung one).
HANG_MARGIN_LATENCIES = 4.0


@dataclass
class ExecutionContext:
    """What an execution needs from its connection (shared by the connection's cursors)."""

    cluster: Cluster
    mode: RoutingMode
    #: A transport to one coordinator, for one attempt, with the given read timeout.
    transport: Callable[[Coordinator, float], Transport]
    apply_headers: Callable[[Mapping[str, str], Coordinator], None]
    request_timeout: float
    failover_timeout: float
    retry: RetryPolicy
    resume: ResumeMode
    prefetch: PrefetchLimit
    legacy_primitive_types: bool
    pinned: Callable[[], Coordinator | None] = lambda: None
    extra_headers: dict[str, str] = field(default_factory=dict)
    #: The kind of attempt: :class:`AttemptRunner` for threads, its asynchronous kind for
    #: an event loop (``prestoha.aio``).
    runner: type[AttemptRunner] = AttemptRunner
    #: Every attempt's fetcher, so closing the connection can wait for them to stop.
    runners: weakref.WeakSet[AttemptRunner] = field(default_factory=weakref.WeakSet)


class Dispatch:
    """The attempts of one statement: where they go and what became of them."""

    def __init__(
        self, ctx: ExecutionContext, sql: str, *, rerunnable: bool, trace_token: str
    ) -> None:
        self.ctx = ctx
        self.sql = sql
        self.rerunnable = rerunnable
        self.trace_token = trace_token
        #: Every attempt, oldest first: the history errors and the retry policy read.
        self.attempts: list[errors.Attempt] = []
        self.coordinator: Coordinator | None = None
        self.runner: AttemptRunner | None = None
        #: Every attempt started, hedged copies too.
        self.runners: list[AttemptRunner] = []
        #: The coordinator's in-flight slot, given back when the attempt ends.
        self.token: InFlight | None = None
        #: How every attempt decodes rows once the caller reads Arrow (see ``_columnar``).
        self.columnar: ColumnarPlan | None = None
        self._deadline: float | None = None
        #: The member taking a read while the leader is down (``leader`` mode): the
        #: election of another leader does not move the read away from it.
        self._standby: str | None = None

    # -- choosing and starting ----------------------------------------------------------

    def choose(self, tried: set[str]) -> Steps[Coordinator]:
        """The coordinator for the next attempt; waits up to ``failover_timeout``."""
        ctx = self.ctx
        self.release()
        self._standby = None
        pinned = ctx.pinned()
        if pinned is not None:
            if ctx.cluster.is_dead(pinned.uri):
                raise errors.OperationalError(
                    f"the transaction's coordinator {pinned.uri} is down; the transaction "
                    "is gone (the coordinator rolled it back, or it never committed)",
                    attempts=self.attempts,
                )
            return pinned
        exclude = frozenset(tried) if ctx.mode is not RoutingMode.LEADER else frozenset()
        found = ctx.cluster.acquire(ctx.mode, exclude)
        if found is None and exclude:
            found = ctx.cluster.acquire(ctx.mode)
        if found is None and self.rerunnable and ctx.mode is RoutingMode.LEADER:
            # The leader is down and its successor not elected yet (its agent needs a
            # few checks to give up a hung node): a read need not wait for the election.
            found = ctx.cluster.acquire_standby(frozenset(tried))
            self._standby = found[0].uri if found is not None else None
        if found is None:
            found = yield WaitFor(ctx.cluster, ctx.mode, frozenset(), self.deadline())
        if found is not None:
            coordinator, self.token = found
            return coordinator
        topo = ctx.cluster.topology()
        what = (
            "no leader was elected"
            if ctx.mode is RoutingMode.LEADER and topo.leader is None
            else "no healthy coordinator was available"
        )
        stale = " (discovery is serving a stale cached view)" if topo.stale else ""
        raise errors.NoCoordinatorError(
            f"no coordinator could take the query: {what} within failover_timeout="
            f"{ctx.failover_timeout:g} s{stale}",
            attempts=self.attempts,
        )

    def deadline(self) -> float:
        """When the query stops looking for a coordinator (set at the first need)."""
        if self._deadline is None:
            self._deadline = time.monotonic() + self.ctx.failover_timeout
        return self._deadline

    def release(self) -> None:
        token, self.token = self.token, None
        if token is not None:
            self.ctx.cluster.done(token)

    def start(
        self, coordinator: Coordinator, *, digest: bool, threaded: bool = False
    ) -> AttemptRunner:
        """Start an attempt on ``coordinator``; it becomes the current one.

        Its first requests are made on the caller's thread by :meth:`wait`, unless
        ``threaded`` (a hedged read races two attempts, each in its own thread)."""
        ctx = self.ctx
        # A write waits longer for a silent coordinator: giving up on it means its
        # outcome is unknown, while a read just runs again elsewhere.
        read_timeout = (
            ctx.request_timeout
            if self.rerunnable
            else max(ctx.request_timeout, ctx.failover_timeout)
        )
        transport = ctx.transport(coordinator, read_timeout)
        limit_wait = getattr(transport, "limit_wait", None)
        if self.rerunnable and limit_wait is not None:
            # Until the node's round trip is known, a slow node cannot be told from a
            # hung one: the first requests wait the whole read timeout.
            latency = ctx.cluster.router.latency(coordinator.uri)
            max_wait = PAGE_MAX_WAIT
            if latency is not None:
                max_wait = min(TRINO_MAX_WAIT, max(max_wait, PAGE_MAX_WAIT_LATENCIES * latency))
                margin = max(HANG_MARGIN, HANG_MARGIN_LATENCIES * latency)
                read_timeout = min(read_timeout, max_wait + margin)
            limit_wait(max_wait, read_timeout)
        runner = ctx.runner(
            coordinator,
            self.sql,
            transport=transport,
            extra_headers={**ctx.extra_headers, "X-Trino-Trace-Token": self.trace_token},
            prefetch=ctx.prefetch,
            digest=digest,
            legacy_primitive_types=ctx.legacy_primitive_types,
        )
        if self.columnar is not None:
            runner.declare(self.columnar)
        runner.on_answer = functools.partial(ctx.cluster.router.heard, coordinator.uri)
        if self.rerunnable:
            runner.answered_since = functools.partial(
                ctx.cluster.router.heard_since, coordinator.uri
            )
        self.coordinator = coordinator
        self.runner = runner
        self.runners.append(runner)
        ctx.runners.add(runner)
        if threaded:
            runner.start()
        return runner

    def may_hedge(self, read_only: bool) -> bool:
        """Whether a first attempt may be raced by a second copy elsewhere."""
        ctx = self.ctx
        return (
            ctx.mode is not RoutingMode.LEADER
            and read_only
            and self.rerunnable
            and ctx.pinned() is None
            and ctx.cluster.router.hedge is not None
        )

    # -- watching -------------------------------------------------------------------------

    def wait(self, runner: AttemptRunner, coordinator: Coordinator) -> Steps[Event]:
        """The attempt's next event; a read gives up on a node found dead or demoted.

        The cluster tells the waiting execution when its node is marked down or the leader
        changes (:meth:`Cluster.watch`): a read waiting for a page then gives up at once,
        also in the middle of a request made on the caller's own thread."""
        ctx = self.ctx
        unwatch = ctx.cluster.watch(coordinator.uri, lambda: self._alarm(runner, coordinator))
        try:
            gone = self._gone(runner, coordinator)
            if gone is not None:
                return gone
            if not runner.threaded:
                event: Event = yield Step(runner)
                if isinstance(event, AttemptFailed) and isinstance(event.exc, Abandoned):
                    return self._gone(runner, coordinator) or event
                return event
            check_at = time.monotonic() + HANG_CHECK_AFTER
            while True:
                got: Event | None = yield NextEvent(runner, max(0.0, check_at - time.monotonic()))
                if got is not None:
                    return got
                gone = self._gone(runner, coordinator)
                if gone is not None:
                    return gone
                if time.monotonic() >= check_at:
                    # Trino answers every page request within about a second: this long a
                    # silence is worth a quick look at the node.
                    ctx.cluster.check_alive(coordinator)
                    check_at = time.monotonic() + HANG_CHECK_AFTER
        finally:
            unwatch()

    def _alarm(self, runner: AttemptRunner, coordinator: Coordinator) -> None:
        """The cluster's news about ``coordinator`` (on the thread that found out)."""
        if self.rerunnable and self._should_abandon(coordinator):
            runner.abandon(cancel=True)
        runner.wake()

    def _should_abandon(self, coordinator: Coordinator) -> bool:
        standby = coordinator.uri == self._standby
        return self.ctx.cluster.should_abandon(coordinator, self.ctx.mode, standby=standby)

    def _gone(self, runner: AttemptRunner, coordinator: Coordinator) -> AttemptFailed | None:
        """The failure of a read whose node is dead or no longer leads, else None."""
        ctx = self.ctx
        if not self.rerunnable:
            return None
        if not runner.abandoned and not self._should_abandon(coordinator):
            return None
        runner.abandon(cancel=True)
        why = "marked down" if ctx.cluster.is_dead(coordinator.uri) else "no longer the leader"
        return AttemptFailed(
            Abandoned(f"{coordinator.uri} is {why}"), Phase.EXECUTE, runner.query_id
        )

    # -- recording --------------------------------------------------------------------

    def record_success(self, runner: AttemptRunner, coordinator: Coordinator) -> None:
        elapsed = time.monotonic() - runner.started
        self.ctx.cluster.report(coordinator, ok=True, latency=runner.submit_latency)
        self.attempts.append(errors.Attempt(coordinator.uri, "", elapsed, runner.query_id))
        events.emit("attempt", node=coordinator.uri, outcome="ok", seconds=elapsed, reason="")
        if runner.submit_latency is not None:
            events.emit("submit_latency", node=coordinator.uri, seconds=runner.submit_latency)

    def record_failure(
        self, event: AttemptFailed, coordinator: Coordinator, started: float
    ) -> Failure:
        failure = classify(event.exc, event.phase)
        elapsed = time.monotonic() - started
        last = self.attempts[-1] if self.attempts else None
        if last is not None and not last.error and last.query_id == event.query_id:
            # The attempt that looked fine when its first rows came failed later on.
            self.attempts.pop()
        self.attempts.append(
            errors.Attempt(coordinator.uri, failure.reason, elapsed, event.query_id)
        )
        log.debug(
            "attempt on %s failed after %.3f s (%s, %s)",
            coordinator.uri,
            elapsed,
            failure.kind.value,
            failure.reason,
        )
        events.emit(
            "attempt",
            node=coordinator.uri,
            outcome=failure.kind.value,
            seconds=elapsed,
            reason=failure.reason,
        )
        cluster = self.ctx.cluster
        if failure.node_down and failure.silent and self._answered_meanwhile(coordinator, event):
            log.info(
                "%s did not answer within the read timeout, but answered other requests "
                "meanwhile: slow, not hung (%s)",
                coordinator.uri,
                failure.reason,
            )
            cluster.report(coordinator, ok=False)
        elif failure.node_down:
            cluster.mark_down(coordinator, failure.reason)
            events.emit("node_down", node=coordinator.uri, reason=failure.reason)
        elif not failure.kind.final:
            cluster.report(coordinator, ok=False)
        return failure

    def _answered_meanwhile(self, coordinator: Coordinator, event: AttemptFailed) -> bool:
        """Whether ``coordinator`` answered another request of this process while the
        silent one waited. A hung node answers nobody; a loaded one answers others while
        this request waits its turn."""
        sent_at = event.sent_at
        return sent_at is not None and self.ctx.cluster.router.heard_since(coordinator.uri, sent_at)

    def diverged(self, why: str, rows_compared: int) -> NoReturn:
        """Record that a resumed read's rows differ from those handed out, and raise."""
        self.record_divergence(why)
        raise errors.ResultDivergedError(
            f"cannot resume the read: {why}; the order of its rows is not deterministic "
            "(add ORDER BY on a unique key, or connect with resume='restart-only')",
            rows_compared=rows_compared,
            attempts=self.attempts,
        )

    def record_divergence(self, why: str) -> None:
        runner = self.runner
        if runner is not None:
            runner.abandon(cancel=True)
            self.attempts.append(
                errors.Attempt(
                    runner.coordinator.uri,
                    f"rows diverged: {why}",
                    time.monotonic() - runner.started,
                    runner.query_id,
                )
            )

    # -- deciding -------------------------------------------------------------------------

    def decide(
        self, failure: Failure, coordinator: Coordinator, query_id: str | None, handed: int
    ) -> None:
        """Raise unless the statement may run again (the one decision, ``decide``)."""
        ctx = self.ctx
        statement = Statement(
            rerunnable=self.rerunnable,
            pinned=ctx.pinned() is not None,
            resume=ctx.resume,
            handed=handed,
        )
        deadline = self.deadline() if not failure.kind.final else 0.0
        decide(
            failure,
            statement,
            node=coordinator.uri,
            query_id=query_id,
            attempts=self.attempts,
            retry=ctx.retry,
            deadline=deadline,
        )

    def pause(self, failed: Coordinator) -> Steps[None]:
        """Wait the retry policy's backoff, within the deadline.

        None after a node found dead (refused, silent): the next attempt goes elsewhere,
        and the backoff is there to spare a node that is struggling, not a gone one."""
        if self.ctx.cluster.is_dead(failed.uri) and self.ctx.pinned() is None:
            return
        pause = min(self.ctx.retry.backoff(self.attempts), self.deadline() - time.monotonic())
        if pause > 0:
            yield Sleep(pause)
