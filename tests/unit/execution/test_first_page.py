"""The first pages of a query are read on the caller's thread: the hang rule still holds.

A small result costs no thread handoff, and the same rules as for pages read ahead apply
to it: a silent node is left after a short read timeout, a leader change or a node marked
down breaks the request in flight, a refused connection sends the query elsewhere at once.
"""

from __future__ import annotations

import threading

import pytest

from prestoha.execution import Cause, Execution, ExecutionContext
from prestoha.retry import RetryPolicy
from prestoha.statements import classify
from tests.unit.execution.fake import FakeCoordinator, Fault, context

READ = "SELECT n FROM t ORDER BY n"
TEN = [[i] for i in range(10)]


def nodes(count: int = 3) -> list[FakeCoordinator]:
    return [FakeCoordinator(f"http://127.0.0.1:{9 + i}") for i in range(count)]


def run(ctx: ExecutionContext, sql: str = READ) -> tuple[Execution, list[list[int]]]:
    ex = Execution(ctx, sql, classify(sql))
    try:
        ex.start()
        return ex, ex.fetchall()
    finally:
        ex.close()


def later(action: object, after: float = 0.05) -> threading.Timer:
    timer = threading.Timer(after, action)  # type: ignore[arg-type]
    timer.start()
    return timer


def test_a_small_result_is_read_on_the_callers_thread() -> None:
    a = FakeCoordinator("http://127.0.0.1:9", rows=lambda sql: [[1]])
    ctx, _ = context([a])
    _ex, rows = run(ctx)
    assert rows == [[1]]
    assert a.threads and all(t is threading.current_thread() for t in a.threads)


def test_a_longer_result_is_read_ahead_after_its_second_page() -> None:
    a = FakeCoordinator("http://127.0.0.1:9")  # 10 rows in pages of 3
    ctx, _ = context([a])
    _ex, rows = run(ctx)
    assert rows == TEN
    me = threading.current_thread()
    assert [t is me for t in a.threads] == [True, True, True, False, False]


def test_a_caller_reading_in_batches_gets_the_next_pages_read_ahead() -> None:
    a = FakeCoordinator("http://127.0.0.1:9")
    ctx, _ = context([a])
    ex = Execution(ctx, READ, classify(READ))
    ex.start()
    rows = ex.fetchmany(3) + ex.fetchmany(100)
    ex.close()
    assert rows == TEN
    assert [t is threading.current_thread() for t in a.threads] == [True, True] + [False] * 3


def test_a_read_asks_for_a_short_max_wait_and_read_timeout_a_write_does_not() -> None:
    a = FakeCoordinator("http://127.0.0.1:9")
    ctx, _ = context([a])
    run(ctx)
    run(ctx)
    run(ctx, "INSERT INTO t VALUES (1)")
    first, read, write = a.transports
    # until the node's round trip is known, a slow node cannot be told from a hung one
    assert first.read_timeout == ctx.request_timeout
    assert read.max_wait is not None and read.read_timeout is not None
    assert read.max_wait < read.read_timeout < ctx.request_timeout
    assert write.read_timeout is None  # a write waits its full timeout: giving up is costly


@pytest.mark.parametrize("request_kind", ["submit", "fetch"])
def test_a_hang_during_the_first_page_ends_at_the_short_read_timeout(request_kind: str) -> None:
    a, b, c = nodes()
    ctx, _ = context([a, b, c])  # leader mode, a leads
    run(ctx)  # a's round trip is known from now on
    a.fail_next(request_kind, Fault(hang=True))
    ex, rows = run(ctx)
    assert rows == TEN
    assert ctx.cluster.is_dead(a.uri)
    assert ex.attempts[0].error.startswith("no answer")
    # the leader is silent and not replaced yet: the read went to a standby, not waiting
    assert ex.coordinator is not None and ex.coordinator.uri in (b.uri, c.uri)
    assert a.transports[-1].read_timeout is not None
    assert a.transports[-1].read_timeout < ctx.request_timeout
    assert a.threads[-1] is threading.current_thread()  # the hung request was the caller's


@pytest.mark.parametrize("request_kind", ["submit", "fetch"])
def test_a_leader_change_during_the_first_page_breaks_the_request(request_kind: str) -> None:
    a, b, c = nodes()
    a.fail(request_kind, 0, Fault(hang=True))
    ctx, discovery = context([a, b, c])
    a.ignore_read_timeout = True  # only the news can end the request
    timer = later(lambda: discovery.set_leader(1))
    try:
        ex, rows = run(ctx)
    finally:
        timer.cancel()
    assert rows == TEN
    assert ex.attempts[0].error.endswith("is no longer the leader")
    assert not ctx.cluster.is_dead(a.uri)  # it answered nothing, but it was not asked to
    assert b.began == [READ]


def test_a_node_marked_down_by_another_query_breaks_the_request_in_flight() -> None:
    a, b, c = nodes()
    a.fail("submit", 0, Fault(hang=True))
    ctx, _ = context([a, b, c], mode="leader-preferred")
    a.ignore_read_timeout = True
    timer = later(lambda: ctx.cluster.mark_down(a.coordinator, "refused elsewhere"))
    try:
        ex, rows = run(ctx)
    finally:
        timer.cancel()
    assert rows == TEN
    assert ex.attempts[0].error.endswith("is marked down")


@pytest.mark.parametrize("request_kind", ["submit", "fetch"])
def test_a_refused_first_page_goes_elsewhere_without_a_backoff(
    request_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = nodes()
    a.fail(request_kind, 0, Fault(cause=Cause.REFUSED))
    slept: list[float] = []
    monkeypatch.setattr("prestoha.execution._dispatch.time.sleep", slept.append)
    retry = RetryPolicy(backoff_initial=1.0, backoff_max=1.0, jitter=0.0)
    ctx, _ = context([a, b, c], retry=retry)
    ex, rows = run(ctx)
    assert rows == TEN
    assert ex.attempts[0].error == "connection refused"
    assert slept == []  # the node is gone: nothing to spare by waiting
    assert a.began == [] and len(b.began) + len(c.began) == 1


def test_a_503_is_still_followed_by_the_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = nodes()
    a.fail("submit", 0, Fault(status=503))
    slept: list[float] = []
    monkeypatch.setattr("prestoha.execution._dispatch.time.sleep", slept.append)
    retry = RetryPolicy(backoff_initial=1.0, backoff_max=1.0, jitter=0.0)
    ctx, _ = context([a, b, c], mode="leader-preferred", retry=retry)
    _ex, rows = run(ctx)
    assert rows == TEN
    assert slept == [1.0]


def test_a_new_leader_does_not_move_a_read_a_standby_is_answering() -> None:
    a, b, c = nodes()
    ctx, discovery = context([a, b, c])
    ctx.cluster.mark_down(a.coordinator, "refused")  # the leader is gone, none elected yet
    for standby in (b, c):
        standby.fail_next("fetch", Fault(delay=0.3))  # answers, slowly
    timer = later(lambda: discovery.set_leader(2))
    try:
        ex, rows = run(ctx)
    finally:
        timer.cancel()
    assert rows == TEN
    assert [x.error for x in ex.attempts] == [""]  # one attempt, on a standby, kept
    assert b.cancelled == [] and c.cancelled == []


@pytest.mark.parametrize(("latency", "max_wait"), [(0.002, 0.25), (0.1, 0.4), (0.5, 1.0)])
def test_a_loaded_node_is_asked_for_longer_waits_up_to_trinos_cap(
    latency: float, max_wait: float
) -> None:
    # A busy coordinator polled every 250 ms for pages it has not made yet only gets busier;
    # Trino itself waits at most a second whatever maxWait says.
    a = FakeCoordinator("http://127.0.0.1:9")
    ctx, _ = context([a])
    for _ in range(100):  # the estimate settles on the node's round trip
        ctx.cluster.router.observe_latency(a.uri, latency)
    run(ctx)
    read = a.transports[-1]
    assert read.max_wait == pytest.approx(max_wait, rel=0.05)
    assert read.read_timeout is not None and read.max_wait < read.read_timeout


def _while_others_are_answered(
    ctx: ExecutionContext, node: FakeCoordinator
) -> tuple[Execution, list[list[int]], int]:
    """Run a read on ``node`` (which hangs on one request) while other queries keep being
    answered by it; the read, its rows and how many other queries ran meanwhile."""
    result: list[tuple[Execution, list[list[int]]]] = []
    ours = threading.Thread(target=lambda: result.append(run(ctx)))
    before = len(node.threads)
    ours.start()
    while len(node.threads) < before + 1 and ours.is_alive():  # its first request is out
        threading.Event().wait(0.005)
    others = 0
    while ours.is_alive():
        run(ctx)
        others += 1
    ours.join()
    ((ex, rows),) = result
    return ex, rows, others


def test_a_page_a_loaded_node_left_unanswered_is_asked_for_again() -> None:
    # A loaded coordinator keeps answering other queries while one page request waits its
    # turn past the read timeout: the same page is asked for again (Trino's safe retry of
    # the last token), the query is kept, and the node stays in use.
    a, b, c = nodes()
    ctx, _ = context([a, b, c])  # leader mode, a leads
    run(ctx)
    a.fail_next("fetch", Fault(hang=True))
    ex, rows, others = _while_others_are_answered(ctx, a)
    assert rows == TEN and others > 0
    assert [x.error for x in ex.attempts] == [""]  # one attempt, never given up
    assert not ctx.cluster.is_dead(a.uri)


def test_a_submit_a_loaded_node_left_unanswered_is_sent_again_there() -> None:
    a, b, c = nodes()
    ctx, _ = context([a, b, c])
    run(ctx)
    a.fail_next("submit", Fault(hang=True))
    ex, rows, others = _while_others_are_answered(ctx, a)
    assert rows == TEN and others > 0
    assert ex.attempts[0].error == "no answer to submit"
    assert not ctx.cluster.is_dead(a.uri)
    assert ex.coordinator is not None and ex.coordinator.uri == a.uri  # not moved away


def test_a_node_that_answers_nobody_while_a_request_waits_is_marked_down() -> None:
    a, b, c = nodes()
    ctx, _ = context([a, b, c])
    run(ctx)  # answered before the silent request was sent: proves nothing
    a.fail_next("fetch", Fault(hang=True))
    _ex, rows = run(ctx)
    assert rows == TEN
    assert ctx.cluster.is_dead(a.uri)
