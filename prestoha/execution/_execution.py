"""One logical query across attempts: submit, stream, classify a failure, resubmit, replay.

An :class:`Execution` is what one ``cursor.execute()`` becomes. Its :class:`Dispatch`
picks a coordinator and runs the statement there (an attempt); when the attempt fails,
the failure taxonomy and the one decision (``_decision``) say whether the statement may
run again:

- nothing ran: any statement goes to the next coordinator; the query failed: raise;
- lost after it began: a read runs again, a write raises ``QueryOutcomeUnknownError``.

A read that dies after rows were handed to the caller is resumed by verified replay: the
new run's first rows are checked against a digest of the rows already handed out, and
the stream goes on from the next row, or raises ``ResultDivergedError``. Every method
that waits is written as steps (``*_steps``, see ``_steps``): the public sync methods
run them on the calling thread, ``prestoha.aio`` on an event loop.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from prestoha import errors, events
from prestoha.cluster import Coordinator
from prestoha.execution._buffer import Prefetched
from prestoha.execution._decision import ResumeMode
from prestoha.execution._dispatch import Dispatch, ExecutionContext
from prestoha.execution._failures import outcome_of
from prestoha.execution._hedging import Racer, hedged
from prestoha.execution._replay import digest_at, new_digest
from prestoha.execution._runner import AttemptEnded, AttemptFailed, AttemptRunner, Event
from prestoha.execution._steps import Steps, run
from prestoha.protocol import Page
from prestoha.statements import Classification, StatementKind

__all__ = ["Execution", "Prefetched"]

log = logging.getLogger("prestoha.execution")


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
        rerunnable = (
            idempotent if idempotent is not None else classification.kind is not StatementKind.WRITE
        )
        if classification.transaction == "commit" and idempotent is None:
            rerunnable = False
        #: May this statement run again after it began? Reads and session statements may.
        self.rerunnable = rerunnable
        self.trace_token = uuid.uuid4().hex
        self._dispatch = Dispatch(ctx, sql, rerunnable=rerunnable, trace_token=self.trace_token)
        self.columns: list[dict[str, Any]] | None = None
        self.update_type: str | None = None
        self.update_count: int | None = None
        self.stats: dict[str, Any] = {}
        #: Called with a copy of ``stats`` each time a response is read (``stats_callback``).
        self.on_stats: Callable[[dict[str, Any]], None] | None = None
        self.warnings: list[Any] = []
        self.query_id: str | None = None
        self.info_uri: str | None = None
        self.failovers = 0
        #: Bytes of spooled or inline result segments received (the spooling protocol).
        self.segment_bytes = 0
        self._page: Page | None = None
        self._pos = 0
        self._handed = 0
        self._done = False
        self._closed = False
        self._began = time.monotonic()
        self._reported = False
        self._pending: errors.Error | None = None
        #: Where the running fetch call began (rows handed, page, position): rows taken
        #: into a batch it has not returned yet can be taken again from a new attempt.
        self._mark: tuple[int, Page | None, int] | None = None

    # -- the public face ------------------------------------------------------------------

    @property
    def attempts(self) -> list[errors.Attempt]:
        """Every attempt so far, oldest first."""
        return self._dispatch.attempts

    @property
    def coordinator(self) -> Coordinator | None:
        """The coordinator of the current (or last) attempt."""
        return self._dispatch.coordinator

    @property
    def runners(self) -> list[AttemptRunner]:
        """Every attempt this statement started (hedged copies too), oldest first."""
        return self._dispatch.runners

    @property
    def rows_handed(self) -> int:
        return self._handed

    @property
    def prefetched(self) -> Prefetched:
        """What the fetching thread has read ahead, and the rows of the page being read."""
        runner = self._dispatch.runner
        nbytes, rows = runner.buffered if runner is not None else (0, 0)
        return Prefetched(nbytes, rows, len(self._page.rows) if self._page is not None else 0)

    def read_ahead(self) -> None:
        """Fetch the rest of the result in the background from now on (the caller reads it
        in batches); a small result is otherwise read on the caller's thread."""
        runner = self._dispatch.runner
        if runner is not None and not runner.threaded and not self._done and not self._closed:
            runner.start()

    def start(self) -> None:
        """Run the statement until its first rows (or, for a write, its end) are known."""
        run(self.start_steps())

    def start_steps(self) -> Steps[None]:
        """:meth:`start` as steps (see ``_steps``)."""
        self._began = time.monotonic()
        try:
            yield from self._run_attempts(resume_at=0, digest=None)
        except BaseException as exc:
            self._finish(exc)
            raise
        if self._done:
            self._finish(None)

    def ready(self) -> bool:
        """Whether the next row can be taken without waiting (nor raising)."""
        page, pos = self._page, self._pos
        ok = self._pending is None and not self._closed
        return ok and page is not None and pos < len(page.rows)

    def fetchone(self) -> Any | None:
        return self.take_one() if self.ready() or run(self._has_rows()) else None

    def take_one(self) -> Any:
        """The next row, when :meth:`ready` (or ``_has_rows`` said there is one)."""
        page = self._page
        assert page is not None
        row = page.rows[self._pos]
        self._pos += 1
        self._handed += 1
        return row

    def fetchone_steps(self) -> Steps[Any | None]:
        """:meth:`fetchone` as steps."""
        return self.take_one() if (yield from self._has_rows()) else None

    def fetchmany(self, size: int) -> list[Any]:
        return run(self.fetchmany_steps(size))

    def fetchmany_steps(self, size: int) -> Steps[list[Any]]:
        """:meth:`fetchmany` as steps."""
        # A caller reading in batches works on each one: fetch the next pages meanwhile.
        self.read_ahead()
        out: list[Any] = []
        start = self._handed
        self._mark = (start, self._page, self._pos)
        try:
            while len(out) < size and (yield from self._more(out)):
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
        return run(self.fetchall_steps())

    def fetchall_steps(self) -> Steps[list[Any]]:
        """:meth:`fetchall` as steps."""
        # No partial result here: an error ends the query, and a caller of fetchall()
        # would take a shortened list for the whole answer.
        out: list[Any] = []
        start = self._handed
        self._mark = (start, self._page, self._pos)
        try:
            while (yield from self._has_rows()):
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

    def __del__(self) -> None:  # a query nobody can read any more is cancelled
        if not getattr(self, "_closed", True):
            self.close()

    def close(self) -> None:
        """Stop the query: the coordinator cancels it if it still runs."""
        if self._closed:
            return
        self._closed = True
        runner, self._dispatch.runner = self._dispatch.runner, None
        if runner is not None and not self._done:
            runner.abandon(cancel=True)
        self._page = None
        self._dispatch.release()

    def _finish(self, exc: BaseException | None) -> None:
        """Report the query's outcome once."""
        if self._reported:
            return
        self._reported = True
        events.emit(
            "query",
            outcome=outcome_of(exc),
            seconds=time.monotonic() - self._began,
            attempts=len(self.attempts),
            read_only=self.classification.read_only,
        )

    # -- streaming ---------------------------------------------------------------------

    def _more(self, out: list[Any]) -> Steps[bool]:
        """``_has_rows`` for a batch: rows already taken into ``out`` are handed out
        before an error is raised (on the next fetch), never dropped."""
        try:
            return (yield from self._has_rows())
        except errors.Error as exc:
            if not out:
                raise
            self._pending = exc
            return False

    def _has_rows(self) -> Steps[bool]:
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
                yield from self._advance()
            except BaseException as exc:
                self._finish(exc)
                raise

    def _advance(self) -> Steps[None]:
        dispatch = self._dispatch
        runner, coordinator = dispatch.runner, dispatch.coordinator
        assert runner is not None and coordinator is not None
        event = yield from dispatch.wait(runner, coordinator)
        if isinstance(event, Page):
            self._take_page(event)
            if event.rows:
                self._page, self._pos = event, 0
            return
        if isinstance(event, AttemptEnded):
            self._done = True
            dispatch.release()
            return
        failure = dispatch.record_failure(event, coordinator, runner.started)
        # Rows the running fetch call took but has not returned are nobody's yet: the new
        # attempt resumes after the rows the caller has, and the batch starts over.
        taken = self._handed
        handed, page, pos = self._mark or (taken, self._page, self._pos)
        self._handed = handed
        try:
            dispatch.decide(failure, coordinator, runner.query_id, handed)
            self.failovers += 1
            events.emit("failover", node=coordinator.uri, reason=failure.reason, rows_handed=handed)
            log.info(
                "query %s lost on %s after %d rows (%s); resuming elsewhere",
                runner.query_id,
                coordinator.uri,
                handed,
                failure.reason,
            )
            if handed == 0 or page is None:
                digest = new_digest()
            else:
                digest = digest_at(page.digest_before, page.rows, pos)
            yield from self._run_attempts(resume_at=handed, digest=digest)
        except BaseException:
            self._handed = taken  # the batch built so far is handed out with the error
            raise

    def _take_page(self, page: Page) -> None:
        self.segment_bytes += page.segment_bytes
        self.query_id = page.query_id
        self.info_uri = page.info_uri
        self.stats = page.stats
        if self.on_stats is not None:
            self.on_stats(copy.deepcopy(page.stats))
        if page.warnings:
            self.warnings = page.warnings
        if page.columns and self.columns is None:
            self.columns = page.columns
        if page.update_type is not None:
            self.update_type = page.update_type
        if page.update_count is not None:
            self.update_count = page.update_count
        coordinator = self._dispatch.coordinator
        if page.headers and coordinator is not None:
            self._ctx.apply_headers({k: ",".join(v) for k, v in page.headers.items()}, coordinator)
        if page.final:
            self._done = True
            self._dispatch.runner = None
            self._dispatch.release()

    # -- attempts ----------------------------------------------------------------------

    def _run_attempts(self, *, resume_at: int, digest: Any) -> Steps[None]:
        dispatch = self._dispatch
        digests = self.rerunnable and self._ctx.resume is ResumeMode.VERIFY
        tried: set[str] = set()
        while True:
            coordinator = yield from dispatch.choose(tried)
            self._done = False
            hedge = resume_at == 0 and dispatch.may_hedge(self.classification.read_only)
            runner = dispatch.start(coordinator, digest=digests, threaded=hedge)
            first: list[Event] = []
            if hedge:
                runner, coordinator, first = yield from self._hedge(runner, coordinator, digests)
            outcome = yield from self._until_ready(runner, coordinator, resume_at, digest, first)
            if outcome is None:
                dispatch.record_success(runner, coordinator)
                if len(self.attempts) > 1:
                    events.emit("resubmission", node=coordinator.uri, replay_rows=resume_at)
                return
            failure = dispatch.record_failure(outcome, coordinator, runner.started)
            dispatch.decide(failure, coordinator, runner.query_id, self._handed)
            log.info(
                "query %s failed on %s (%s); submitting it again",
                runner.query_id or "(not registered)",
                coordinator.uri,
                failure.reason,
            )
            tried.add(coordinator.uri)
            yield from dispatch.pause(coordinator)

    def _hedge(
        self, runner: AttemptRunner, coordinator: Coordinator, digests: bool
    ) -> Steps[tuple[AttemptRunner, Coordinator, list[Event]]]:
        dispatch = self._dispatch
        first = Racer(runner, coordinator, dispatch.token, [])
        dispatch.token = None
        winner = yield from hedged(
            first,
            cluster=self._ctx.cluster,
            mode=self._ctx.mode,
            start=lambda other: dispatch.start(other, digest=digests, threaded=True),
            record_failure=dispatch.record_failure,
        )
        dispatch.runner, dispatch.coordinator = winner.runner, winner.coordinator
        dispatch.token = winner.token
        return winner.runner, winner.coordinator, winner.got

    def _until_ready(
        self,
        runner: AttemptRunner,
        coordinator: Coordinator,
        resume_at: int,
        digest: Any,
        first: list[Event] | None = None,
    ) -> Steps[AttemptFailed | None]:
        """Consume pages until the attempt is usable; its failure, or None when ready.

        ``first`` are events already taken from the runner (while racing a hedge).
        """
        seen = 0
        pending = list(first or ())
        while True:
            if pending:
                event = pending.pop(0)
            else:
                event = yield from self._dispatch.wait(runner, coordinator)
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
                d = digest_at(event.digest_before, event.rows, offset)
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
        self._dispatch.diverged(why, self._handed)
