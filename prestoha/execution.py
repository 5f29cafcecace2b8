"""One logical query across attempts: submit, stream, classify a failure, resubmit, replay.

An :class:`Execution` is what one ``cursor.execute()`` becomes. It picks a coordinator,
runs the statement there (an attempt), and when the attempt fails decides from the
failure taxonomy (``prestoha._taxonomy``) whether the statement may run again:

- nothing ran: any statement goes to the next coordinator;
- lost after it began: a read runs again, a write raises ``QueryOutcomeUnknownError``;
- the query failed: raise at once.

A read that dies after rows were handed to the caller is resumed by verified replay: the
new run's first rows are checked against a digest of the rows already handed out, and
the stream goes on from the next row, or raises ``ResultDivergedError``.
"""

from __future__ import annotations

import logging
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import requests
import trino.client

from prestoha import errors, events
from prestoha._attempt import (
    AttemptEnded,
    AttemptFailed,
    AttemptRunner,
    Event,
    Page,
    new_digest,
    row_digest_update,
)
from prestoha._hedging import hedged
from prestoha._taxonomy import REFUSED_BEFORE_RUNNING, Failure, FailureKind, Phase, classify
from prestoha.cluster import Cluster, Coordinator
from prestoha.paging import PrefetchLimit
from prestoha.retry import RetryPolicy
from prestoha.routing import InFlight
from prestoha.statements import Classification

__all__ = ["Execution", "ExecutionContext"]

log = logging.getLogger("prestoha.execution")

#: How often a waiting execution checks whether its node was marked down or lost the lead.
_POLL = 0.05
#: Seconds of silence from a coordinator after which it is asked whether it is alive.
HANG_CHECK_AFTER = 1.5


class _Abandoned(Exception):
    """The execution gave up on a node that discovery or another query found dead."""


@dataclass
class ExecutionContext:
    """What an execution needs from its connection (shared by the connection's cursors)."""

    cluster: Cluster
    mode: str
    make_client_session: Callable[[], trino.client.ClientSession]
    apply_headers: Callable[[Mapping[str, str], Coordinator], None]
    http_session: Callable[[Coordinator], requests.Session]
    auth: Any
    connect_timeout: float
    request_timeout: float
    failover_timeout: float
    retry: RetryPolicy
    resume: str
    prefetch: PrefetchLimit
    legacy_primitive_types: bool
    pinned: Callable[[], Coordinator | None] = lambda: None
    extra_headers: dict[str, str] = field(default_factory=dict)
    #: Every attempt's fetcher, so closing the connection can wait for them to stop.
    runners: weakref.WeakSet[AttemptRunner] = field(default_factory=weakref.WeakSet)


class Execution:
    """One statement, run until it succeeds or fails for good."""

    def __init__(
        self,
        ctx: ExecutionContext,
        sql: str,
        classification: Classification,
        *,
        idempotent: bool | None = None,
    ) -> None:
        self._ctx = ctx
        self.sql = sql
        self.classification = classification
        #: May this statement run again after it began? Reads and session statements may.
        self.rerunnable = (
            idempotent if idempotent is not None else classification.kind.value != "write"
        )
        if classification.transaction == "commit" and idempotent is None:
            self.rerunnable = False
        self.trace_token = uuid.uuid4().hex
        self.attempts: list[errors.Attempt] = []
        self.columns: list[dict[str, Any]] | None = None
        self.update_type: str | None = None
        self.update_count: int | None = None
        self.stats: dict[str, Any] = {}
        self.warnings: list[Any] = []
        self.query_id: str | None = None
        self.info_uri: str | None = None
        self.coordinator: Coordinator | None = None
        self.failovers = 0
        #: Bytes of spooled or inline result segments received (the spooling protocol).
        self.segment_bytes = 0
        self._runner: AttemptRunner | None = None
        self._page: Page | None = None
        self._pos = 0
        self._handed = 0
        self._done = False
        self._closed = False
        self._failures = 0
        self._deadline: float | None = None
        self._token: InFlight | None = None
        self._began = time.monotonic()
        self._reported = False
        self._pending: errors.Error | None = None
        #: Where the running fetch call began (rows handed, page, position): rows taken
        #: into a batch it has not returned yet can be taken again from a new attempt.
        self._mark: tuple[int, Page | None, int] | None = None

    # -- the public face ------------------------------------------------------------------

    def start(self) -> None:
        """Run the statement until its first rows (or, for a write, its end) are known."""
        self._began = time.monotonic()
        try:
            self._run_attempts(resume_at=0, digest=None)
        except BaseException as exc:
            self._finish(exc)
            raise
        if self._done:
            self._finish(None)

    def _finish(self, exc: BaseException | None) -> None:
        """Report the query's outcome once."""
        if self._reported:
            return
        self._reported = True
        if exc is None:
            outcome = "ok"
        elif isinstance(exc, errors.QueryOutcomeUnknownError):
            outcome = "outcome_unknown"
        elif isinstance(exc, errors.ResultDivergedError):
            outcome = "diverged"
        elif isinstance(exc, errors.NoCoordinatorError):
            outcome = "no_coordinator"
        else:
            outcome = "failed"
        events.emit(
            "query",
            outcome=outcome,
            seconds=time.monotonic() - self._began,
            attempts=len(self.attempts),
            read_only=self.classification.read_only,
        )

    @property
    def rows_handed(self) -> int:
        return self._handed

    def fetchone(self) -> Any | None:
        if not self._has_rows():
            return None
        page = self._page
        assert page is not None
        row = page.rows[self._pos]
        self._pos += 1
        self._handed += 1
        return row

    def fetchmany(self, size: int) -> list[Any]:
        out: list[Any] = []
        start = self._handed
        self._mark = (start, self._page, self._pos)
        try:
            while len(out) < size and self._more(out):
                if self._handed < start + len(out):  # a failover went back to ``start``
                    out.clear()
                page = self._page
                assert page is not None
                take = page.rows[self._pos : self._pos + (size - len(out))]
                self._pos += len(take)
                self._handed += len(take)
                out.extend(take)
        finally:
            self._mark = None
        return out

    def fetchall(self) -> list[Any]:
        # No partial result here: an error ends the query, and a caller of fetchall()
        # would take a shortened list for the whole answer.
        out: list[Any] = []
        start = self._handed
        self._mark = (start, self._page, self._pos)
        try:
            while self._has_rows():
                if self._handed < start + len(out):  # a failover went back to ``start``
                    out.clear()
                page = self._page
                assert page is not None
                take = page.rows[self._pos :]
                self._pos = len(page.rows)
                self._handed += len(take)
                out.extend(take)
        finally:
            self._mark = None
        return out

    def __iter__(self) -> Iterator[Any]:
        while True:
            batch = self.fetchmany(1024)
            if not batch:
                return
            yield from batch

    def __del__(self) -> None:
        # A query nobody can read any more is cancelled, not left running.
        if not getattr(self, "_closed", True):
            self.close()

    def close(self) -> None:
        """Stop the query: the coordinator cancels it if it still runs."""
        if self._closed:
            return
        self._closed = True
        runner, self._runner = self._runner, None
        if runner is not None and not self._done:
            runner.abandon(cancel=True)
        self._page = None
        self._release()

    # -- streaming ---------------------------------------------------------------------

    def _more(self, out: list[Any]) -> bool:
        """``_has_rows`` for a batch: rows already taken into ``out`` are handed out
        before an error is raised (on the next fetch), never dropped."""
        try:
            return self._has_rows()
        except errors.Error as exc:
            if not out:
                raise
            self._pending = exc
            return False

    def _has_rows(self) -> bool:
        if self._pending is not None:
            exc, self._pending = self._pending, None
            raise exc
        if self._closed:
            raise errors.ProgrammingError("the cursor's query was closed")
        while True:
            page = self._page
            if page is not None and self._pos < len(page.rows):
                return True
            if self._done:
                self._finish(None)
                return False
            try:
                self._advance()
            except BaseException as exc:
                self._finish(exc)
                raise

    def _advance(self) -> None:
        runner = self._runner
        assert runner is not None and self.coordinator is not None
        event = self._wait(runner, self.coordinator)
        if isinstance(event, Page):
            self._take_page(event)
            if event.rows:
                self._page, self._pos = event, 0
            return
        if isinstance(event, AttemptEnded):
            self._done = True
            self._release()
            return
        failure = self._record_failure(event, self.coordinator, runner.started)
        # Rows the running fetch call took but has not returned are nobody's yet: the new
        # attempt resumes after the rows the caller has, and the batch starts over.
        taken = self._handed
        handed, page, pos = self._mark or (taken, self._page, self._pos)
        self._handed = handed
        try:
            self._decide(failure, self.coordinator, runner.query_id)
            self.failovers += 1
            events.emit(
                "failover", node=self.coordinator.uri, reason=failure.reason, rows_handed=handed
            )
            log.info(
                "query %s lost on %s after %d rows (%s); resuming elsewhere",
                runner.query_id,
                self.coordinator.uri,
                handed,
                failure.reason,
            )
            self._run_attempts(resume_at=handed, digest=self._digest_at(handed, page, pos))
        except BaseException:
            self._handed = taken  # the batch built so far is handed out with the error
            raise

    @staticmethod
    def _digest_at(handed: int, page: Page | None, pos: int) -> Any:
        """The digest of the first ``handed`` rows, ``pos`` of them being in ``page``."""
        if handed == 0 or page is None:
            return new_digest()
        if page.digest_before is None:
            return None
        d = page.digest_before.copy()
        row_digest_update(d, page.rows[:pos])
        return d

    def _take_page(self, page: Page) -> None:
        self.segment_bytes += page.segment_bytes
        self.query_id = page.query_id
        self.info_uri = page.info_uri
        self.stats = page.stats
        if page.warnings:
            self.warnings = page.warnings
        if page.columns and self.columns is None:
            self.columns = page.columns
        if page.update_type is not None:
            self.update_type = page.update_type
        if page.update_count is not None:
            self.update_count = page.update_count
        if page.headers and self.coordinator is not None:
            self._ctx.apply_headers(
                {k: ",".join(v) for k, v in page.headers.items()}, self.coordinator
            )
        if page.final:
            self._done = True
            self._runner = None
            self._release()

    # -- attempts ----------------------------------------------------------------------

    def _run_attempts(self, *, resume_at: int, digest: Any) -> None:
        ctx = self._ctx
        tried: set[str] = set()
        while True:
            coordinator = self._choose(tried)
            runner = self._start(coordinator)
            first: list[Event] = []
            if resume_at == 0 and self._may_hedge():
                first, runner, coordinator = hedged(self, runner, coordinator)
            started = runner.started
            outcome = self._until_ready(runner, coordinator, resume_at, digest, first)
            if outcome is None:
                elapsed = time.monotonic() - started
                ctx.cluster.report(coordinator, ok=True, latency=runner.submit_latency)
                self.attempts.append(errors.Attempt(coordinator.uri, "", elapsed, runner.query_id))
                events.emit(
                    "attempt", node=coordinator.uri, outcome="ok", seconds=elapsed, reason=""
                )
                if runner.submit_latency is not None:
                    events.emit(
                        "submit_latency", node=coordinator.uri, seconds=runner.submit_latency
                    )
                if len(self.attempts) > 1:
                    events.emit("resubmission", node=coordinator.uri, replay_rows=resume_at)
                return
            failure = self._record_failure(outcome, coordinator, started)
            self._decide(failure, coordinator, runner.query_id)
            log.info(
                "query %s failed on %s (%s); submitting it again",
                runner.query_id or "(not registered)",
                coordinator.uri,
                failure.reason,
            )
            tried.add(coordinator.uri)
            self._pause()

    def _start(self, coordinator: Coordinator) -> AttemptRunner:
        ctx = self._ctx
        runner = AttemptRunner(
            coordinator,
            self.sql,
            client_session=ctx.make_client_session(),
            http_session=ctx.http_session(coordinator),
            auth=ctx.auth,
            connect_timeout=ctx.connect_timeout,
            # A write waits longer for a silent coordinator: giving up on it means its
            # outcome is unknown, while a read just runs again elsewhere.
            read_timeout=(
                ctx.request_timeout
                if self.rerunnable
                else max(ctx.request_timeout, ctx.failover_timeout)
            ),
            extra_headers={**ctx.extra_headers, "X-Trino-Trace-Token": self.trace_token},
            prefetch=ctx.prefetch,
            digest=self.rerunnable and ctx.resume == "verify",
            legacy_primitive_types=ctx.legacy_primitive_types,
        )
        self.coordinator = coordinator
        self._runner = runner
        ctx.runners.add(runner)
        self._done = False
        runner.start()
        return runner

    # -- hedging (prestoha/_hedging.py) ------------------------------------------------

    def _may_hedge(self) -> bool:
        ctx = self._ctx
        return (
            ctx.mode != "leader"
            and self.classification.read_only
            and ctx.pinned() is None
            and ctx.cluster.router.hedge is not None
        )

    def _until_ready(
        self,
        runner: AttemptRunner,
        coordinator: Coordinator,
        resume_at: int,
        digest: Any,
        first: list[Event] | None = None,
    ) -> AttemptFailed | None:
        """Consume pages until the attempt is usable; its failure, or None when ready.

        ``first`` are events already taken from the runner (while racing a hedge).
        """
        seen = 0
        pending = list(first or ())
        while True:
            event = pending.pop(0) if pending else self._wait(runner, coordinator)
            if isinstance(event, AttemptFailed):
                return event
            if isinstance(event, AttemptEnded):
                self._done = True
                if resume_at > seen:
                    self._diverged(f"the new run ended after {seen} of {resume_at} rows")
                self._page, self._pos = None, 0
                return None
            if resume_at and event.columns and self.columns and event.columns != self.columns:
                self._diverged("the new run has different columns")
            self._take_page(event)
            rows = len(event.rows)
            if resume_at > seen + rows:
                seen += rows
                if event.final:
                    self._diverged(f"the new run ended after {seen} of {resume_at} rows")
                continue
            offset = resume_at - seen
            if resume_at and digest is not None:
                d = event.digest_before.copy()
                row_digest_update(d, event.rows[:offset])
                if d.digest() != digest.digest():
                    events.emit("replay", rows=resume_at, ok=False)
                    self._diverged(f"the first {resume_at} rows differ from those handed out")
                events.emit("replay", rows=resume_at, ok=True)
            current = self._page
            if current is not None and self._pos < len(current.rows):
                # Draining a statement to its end: keep the rows not handed out yet.
                kept = current.rows[self._pos :] + event.rows[offset:]
                event, offset = replace(event, rows=kept, digest_before=None), 0
            if event.rows or current is None or self._pos >= len(current.rows):
                self._page, self._pos = event, offset
            if self.columns is None and not event.final and not event.rows:
                continue  # no columns yet: keep going, as the trino client does
            if self.update_type is not None and not self._done:
                continue  # a write or session statement: run it to its end before returning
            return None

    def _diverged(self, why: str) -> None:
        runner = self._runner
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
        raise errors.ResultDivergedError(
            f"cannot resume the read: {why}; the order of its rows is not deterministic "
            "(add ORDER BY on a unique key, or connect with resume='restart-only')",
            rows_compared=self._handed,
            attempts=self.attempts,
        )

    def _wait(self, runner: AttemptRunner, coordinator: Coordinator) -> Any:
        ctx = self._ctx
        check_at = time.monotonic() + HANG_CHECK_AFTER
        while True:
            event = runner.next_event(_POLL)
            if event is not None:
                return event
            if time.monotonic() > check_at:
                # Trino answers every page request within about a second: this long a
                # silence is worth a quick look at the node.
                ctx.cluster.check_alive(coordinator)
                check_at = time.monotonic() + HANG_CHECK_AFTER
            if self.rerunnable and ctx.cluster.should_abandon(coordinator, ctx.mode):
                runner.abandon(cancel=True)
                why = (
                    "marked down"
                    if ctx.cluster.is_dead(coordinator.uri)
                    else "no longer the leader"
                )
                return AttemptFailed(
                    _Abandoned(f"{coordinator.uri} is {why}"), Phase.EXECUTE, runner.query_id
                )

    def _choose(self, tried: set[str]) -> Coordinator:
        ctx = self._ctx
        self._release()
        pinned = ctx.pinned()
        if pinned is not None:
            if ctx.cluster.is_dead(pinned.uri):
                raise errors.OperationalError(
                    f"the transaction's coordinator {pinned.uri} is down; the transaction "
                    "is gone (the coordinator rolled it back, or it never committed)",
                    attempts=self.attempts,
                )
            return pinned
        exclude = frozenset(tried) if ctx.mode != "leader" else frozenset()
        found = ctx.cluster.acquire(ctx.mode, exclude)
        if found is None and exclude:
            found = ctx.cluster.acquire(ctx.mode)
        if found is None:
            if self._deadline is None:
                self._deadline = time.monotonic() + ctx.failover_timeout
            found = ctx.cluster.wait_for(ctx.mode, frozenset(), self._deadline)
        if found is not None:
            coordinator, self._token = found
            return coordinator
        topo = ctx.cluster.topology()
        what = (
            "no leader was elected"
            if ctx.mode == "leader" and topo.leader is None
            else "no healthy coordinator was available"
        )
        stale = " (discovery is serving a stale cached view)" if topo.stale else ""
        raise errors.NoCoordinatorError(
            f"no coordinator could take the query: {what} within failover_timeout="
            f"{ctx.failover_timeout:g} s{stale}",
            attempts=self.attempts,
        )

    def _release(self) -> None:
        token, self._token = self._token, None
        if token is not None:
            self._ctx.cluster.done(token)

    def _record_failure(
        self, event: AttemptFailed, coordinator: Coordinator, started: float
    ) -> Failure:
        if isinstance(event.exc, _Abandoned):
            failure = Failure(FailureKind.LOST, event.phase, str(event.exc))
        else:
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
        cluster = self._ctx.cluster
        if failure.node_down or "no answer" in failure.reason:
            cluster.mark_down(coordinator, failure.reason)
            events.emit("node_down", node=coordinator.uri, reason=failure.reason)
        elif failure.kind is not FailureKind.QUERY_FAILED:
            cluster.report(coordinator, ok=False)
        return failure

    def _decide(self, failure: Failure, coordinator: Coordinator, query_id: str | None) -> None:
        """Raise unless the statement may run again."""
        if failure.kind is FailureKind.QUERY_FAILED:
            assert failure.error is not None
            raise failure.error
        if self._ctx.pinned() is not None:
            cls = errors.QueryOutcomeUnknownError if not self.rerunnable else None
            message = (
                f"the transaction's coordinator {coordinator.uri} failed ({failure.reason}); "
                "the transaction cannot move to another coordinator"
            )
            if cls is not None:
                raise cls(message, node=coordinator.uri, query_id=query_id, attempts=self.attempts)
            raise errors.OperationalError(message, attempts=self.attempts)
        may_rerun = may_rerun_anything(failure) or self.rerunnable
        if not may_rerun and failure.error_name in REFUSED_BEFORE_RUNNING:
            raise errors.OperationalError(
                f"{coordinator.uri} refused the statement ({failure.reason}); it did not run "
                "and, as it writes, was not sent elsewhere. Run it again when the cluster "
                "is ready",
                attempts=self.attempts,
            )
        if not may_rerun:
            raise errors.QueryOutcomeUnknownError(
                f"the statement may have run on {coordinator.uri} before it was lost "
                f"({failure.reason}); it was not run again. Check whether it took effect "
                f"(query id {query_id}) before running it again",
                node=coordinator.uri,
                query_id=query_id,
                attempts=self.attempts,
            )
        if self._ctx.resume == "never" and not may_rerun_anything(failure):
            raise errors.OperationalError(
                f"the read was lost on {coordinator.uri} after it began ({failure.reason}); "
                "resume='never' does not run it again",
                attempts=self.attempts,
            )
        if self._handed and self._ctx.resume != "verify":
            raise errors.OperationalError(
                f"the read was lost on {coordinator.uri} after {self._handed} rows were handed "
                f"out ({failure.reason}); resume={self._ctx.resume!r} does not resume it",
                attempts=self.attempts,
            )
        self._failures += 1
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self._ctx.failover_timeout
        if self._failures >= self._ctx.retry.max_attempts or now >= self._deadline:
            raise errors.NoCoordinatorError(
                f"no coordinator could take the query after {len(self.attempts)} attempts",
                attempts=self.attempts,
            )

    def _pause(self) -> None:
        assert self._deadline is not None
        pause = min(self._ctx.retry.wait(self._failures), self._deadline - time.monotonic())
        if pause > 0:
            time.sleep(pause)


def may_rerun_anything(failure: Failure) -> bool:
    """Nothing of the statement can have run: any statement may go elsewhere."""
    return failure.nothing_ran or failure.kind is FailureKind.NOT_RUN
