"""Hedged reads: past a delay, a second copy of a slow read goes to another coordinator.

"The Tail at Scale" (Dean and Barroso): a read that has not produced its first rows after
about the p95 of that time is sent again elsewhere; whichever copy answers first is kept
and the other is cancelled on its coordinator. The router's budget keeps the extra copies
to a small share of all queries.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prestoha import events
from prestoha._attempt import AttemptFailed, AttemptRunner, Event, Page
from prestoha.cluster import Coordinator

if TYPE_CHECKING:
    from prestoha.execution import Execution

__all__ = ["hedged"]


def hedged(
    ex: Execution, runner: AttemptRunner, coordinator: Coordinator
) -> tuple[list[Event], AttemptRunner, Coordinator]:
    """Wait for ``runner``'s first rows; past the hedge delay race a second copy.

    Returns the events taken so far from the winner, the winner and its coordinator; the
    execution's current runner, coordinator and in-flight token are the winner's.
    """
    cluster = ex._ctx.cluster
    router = cluster.router
    router.record_query()
    delay = router.hedge_delay()
    assert delay is not None
    early: list[Event] = []
    if _collect(runner, early, runner.started + delay):
        _first_page_seen(ex, runner, early)
        return early, runner, coordinator
    found = cluster.acquire(ex._ctx.mode, frozenset({coordinator.uri}))
    if found is None:
        return early, runner, coordinator
    if not router.try_hedge():
        cluster.done(found[1])
        return early, runner, coordinator
    second, token = found
    hedge = ex._start(second)
    # (runner, coordinator, in-flight token, events so far)
    racers = [(runner, coordinator, ex._token, early), (hedge, second, token, [])]
    ex._token = None
    while True:
        for i, (r, c, tok, got) in enumerate(racers):
            if not _collect(r, got, time.monotonic() + 0.005):
                continue
            last = got[-1]
            if isinstance(last, AttemptFailed) and len(racers) == 2:
                # This copy failed: the other may still answer.
                ex._record_failure(last, c, r.started)
                if tok is not None:
                    cluster.done(tok)
                racers.pop(i)
                break
            for loser, _, lost_token, _ in racers:
                if loser is not r:
                    loser.abandon(cancel=True)
                    if lost_token is not None:
                        cluster.done(lost_token)
            ex._token = tok
            ex.coordinator, ex._runner = c, r
            _first_page_seen(ex, r, got)
            events.emit("hedge", node=second.uri, won=r is hedge)
            return got, r, c


def _first_page_seen(ex: Execution, runner: AttemptRunner, got: list[Event]) -> None:
    if got and isinstance(got[-1], Page):
        ex._ctx.cluster.router.observe_first_page(time.monotonic() - runner.started)


def _collect(runner: AttemptRunner, got: list[Event], deadline: float) -> bool:
    """Take ``runner``'s events into ``got`` until one that decides the race (rows or
    columns, the end, a failure) or ``deadline``; whether one came."""
    while True:
        event = runner.next_event(max(0.0, min(0.05, deadline - time.monotonic())))
        if event is not None:
            got.append(event)
            if not isinstance(event, Page) or event.rows or event.columns or event.final:
                return True
            continue
        if time.monotonic() >= deadline:
            return False
