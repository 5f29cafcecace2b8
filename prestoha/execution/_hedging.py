"""Hedged reads: past a delay, a second copy of a slow read goes to another coordinator.

"The Tail at Scale" (Dean and Barroso): a read that has not produced its first rows after
about the p95 of that time is sent again elsewhere; whichever copy answers first is kept
and the other is cancelled on its coordinator. The router's budget keeps the extra copies
to a small share of all queries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from prestoha import events
from prestoha.cluster import Cluster, Coordinator
from prestoha.execution._runner import AttemptFailed, AttemptRunner, Event
from prestoha.execution._steps import NextEvent, Steps
from prestoha.protocol import Page
from prestoha.routing import InFlight, RoutingMode

__all__ = ["Racer", "hedged"]


@dataclass
class Racer:
    """One copy of the read: its attempt, coordinator, in-flight slot and events so far."""

    runner: AttemptRunner
    coordinator: Coordinator
    token: InFlight | None
    got: list[Event]


def hedged(
    first: Racer,
    *,
    cluster: Cluster,
    mode: RoutingMode,
    start: Callable[[Coordinator], AttemptRunner],
    record_failure: Callable[[AttemptFailed, Coordinator, float], object],
) -> Steps[Racer]:
    """Wait for ``first``'s first rows; past the hedge delay race a second copy.

    ``start`` starts an attempt on another coordinator, ``record_failure`` records the
    failure of a copy that lost while the other may still answer. Returns the winner,
    with the events taken from it so far; the loser is cancelled and its slot given back.
    """
    router = cluster.router
    router.record_query()
    delay = router.hedge_delay()
    assert delay is not None
    if (yield from _collect(first.runner, first.got, first.runner.started + delay)):
        _first_page_seen(cluster, first)
        return first
    found = cluster.acquire(mode, frozenset({first.coordinator.uri}))
    if found is None:
        return first
    if not router.try_hedge():
        cluster.done(found[1])
        return first
    second, token = found
    hedge = Racer(start(second), second, token, [])
    racers = [first, hedge]
    while True:
        for i, racer in enumerate(racers):
            if not (yield from _collect(racer.runner, racer.got, time.monotonic() + 0.005)):
                continue
            last = racer.got[-1]
            if isinstance(last, AttemptFailed) and len(racers) == 2:
                # This copy failed: the other may still answer.
                record_failure(last, racer.coordinator, racer.runner.started)
                if racer.token is not None:
                    cluster.done(racer.token)
                racers.pop(i)
                break
            for loser in racers:
                if loser is not racer:
                    loser.runner.abandon(cancel=True)
                    if loser.token is not None:
                        cluster.done(loser.token)
            _first_page_seen(cluster, racer)
            events.emit("hedge", node=second.uri, won=racer is hedge)
            return racer


def _first_page_seen(cluster: Cluster, racer: Racer) -> None:
    if racer.got and isinstance(racer.got[-1], Page):
        cluster.router.observe_first_page(time.monotonic() - racer.runner.started)


def _collect(runner: AttemptRunner, got: list[Event], deadline: float) -> Steps[bool]:
    """Take ``runner``'s events into ``got`` until one that decides the race (rows, the
    end, a failure) or ``deadline``; whether one came.

    Columns alone do not decide it: Trino sends them as soon as the query is planned, long
    before the first rows of a query that is slow to produce them."""
    while True:
        event = yield NextEvent(runner, max(0.0, min(0.05, deadline - time.monotonic())))
        if event is not None:
            got.append(event)
            if not isinstance(event, Page) or event.rows or event.final:
                return True
            continue
        if time.monotonic() >= deadline:
            return False
