"""The execution core through the scripted transport: every case of the failure taxonomy
(DESIGN.md, "What a failure means"), each resume mode, a hang, a leader change during a
read, and a write lost after it began. No process, no socket: fast and deterministic."""

from __future__ import annotations

import pytest

from prestoha import errors
from prestoha.execution import Cause, Execution, ExecutionContext, ResumeMode
from prestoha.statements import classify
from tests.unit.execution.fake import FakeCoordinator, Fault, context

READ = "SELECT n FROM t ORDER BY n"
WRITE = "INSERT INTO t VALUES (1)"
TEN = [[i] for i in range(10)]


def nodes(count: int = 3) -> list[FakeCoordinator]:
    return [FakeCoordinator(f"http://127.0.0.1:{9 + i}") for i in range(count)]


def run(ctx: ExecutionContext, sql: str, **kwargs: object) -> tuple[Execution, list[list[int]]]:
    ex = Execution(ctx, sql, classify(sql), **kwargs)  # type: ignore[arg-type]
    try:
        ex.start()
        return ex, ex.fetchall()
    finally:
        ex.close()


# -- before the coordinator registered the query: anything goes elsewhere ---------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault(cause=Cause.REFUSED),
        Fault(cause=Cause.CONNECT_TIMEOUT),
        Fault(cause=Cause.UNRESOLVED),
        Fault(status=503),
        Fault(status=502),
        Fault(status=429),
    ],
    ids=["refused", "connect-timeout", "dns", "503", "502", "429"],
)
@pytest.mark.parametrize("sql", [READ, WRITE])
def test_nothing_ran_so_any_statement_goes_elsewhere(fault: Fault, sql: str) -> None:
    a, b, c = nodes()
    a.fail("submit", 0, fault)
    ctx, _ = context([a, b, c], mode="leader-preferred")
    ex, rows = run(ctx, sql)
    assert rows == (TEN if sql == READ else [[1]])
    assert next(x.error for x in ex.attempts) != ""
    assert ex.attempts[-1].error == ""
    assert len(a.submitted) == 1 and a.began == []
    assert len(b.began) + len(c.began) == 1  # ran once, elsewhere


@pytest.mark.parametrize("sql", [READ, WRITE])
def test_an_unanswered_post_is_resubmitted_even_for_a_write(sql: str) -> None:
    a, b, c = nodes()
    a.fail("submit", 0, Fault(cause=Cause.NO_ANSWER))
    ctx, _ = context([a, b, c], mode="leader-preferred")
    ex, _rows = run(ctx, sql)
    assert ex.attempts[0].error == "no answer to submit"
    assert a.began == []
    assert ctx.cluster.is_dead(a.uri)  # a silent node is taken out of use


def test_a_first_get_that_never_left_means_the_write_never_started() -> None:
    a, b, c = nodes()
    a.fail("fetch", 0, Fault(cause=Cause.REFUSED))
    ctx, _ = context([a, b, c], mode="leader-preferred")
    _ex, rows = run(ctx, WRITE)
    assert rows == [[1]]
    assert a.began == [] and len(b.began) + len(c.began) == 1


# -- after execution began: a read runs again, a write raises ---------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault(cause=Cause.RESET), Fault(cause=Cause.CUT), Fault(status=404), Fault(status=500)],
    ids=["reset", "cut", "404-after-restart", "500"],
)
def test_a_read_lost_mid_stream_resumes_with_every_row_once(fault: Fault) -> None:
    a, b, _c = nodes()
    a.fail("fetch", 2, fault)  # after two pages of three rows
    ctx, discovery = context([a, b, _c])
    discovery.set_leader(0)
    ex = Execution(ctx, READ, classify(READ))
    ex.start()
    first = ex.fetchmany(4)
    discovery.set_leader(1)  # the new leader, where the read resumes
    rest = ex.fetchall()
    ex.close()
    assert first + rest == TEN
    assert ex.failovers == 1
    assert ex.coordinator is not None and ex.coordinator.uri == b.uri


@pytest.mark.parametrize("cause", [Cause.RESET, Cause.LOST, Cause.CUT, Cause.NO_ANSWER])
def test_a_write_lost_after_it_began_raises_outcome_unknown_and_never_runs_twice(
    cause: Cause,
) -> None:
    a, b, c = nodes()
    a.page_size = 1
    a.faults.clear()
    ctx, _ = context([a, b, c])
    # the INSERT's first GET is answered, then the connection goes: fail the next one
    a._pages = _two_page_write(a._pages)  # type: ignore[method-assign]
    a.fail("fetch", 1, Fault(cause=cause))
    with pytest.raises(errors.QueryOutcomeUnknownError) as info:
        run(ctx, WRITE)
    err = info.value
    assert err.node == a.uri and err.query_id is not None
    assert len(a.submitted) == 1 and b.submitted == [] and c.submitted == []
    assert err.attempts[-1].node == a.uri


def _two_page_write(pages_of):  # type: ignore[no-untyped-def]
    def pages(query_id: str, sql: str) -> list[dict[str, object]]:
        final = pages_of(query_id, sql)[0]
        running = {k: v for k, v in final.items() if k not in ("data", "updateCount")}
        running["stats"] = {"state": "RUNNING"}
        running["nextUri"] = f"http://x/v1/statement/executing/{query_id}/2"
        return [running, final]

    return pages


def test_a_user_error_is_raised_at_once_and_never_retried() -> None:
    a, b, c = nodes()
    a.fail("fetch", 0, Fault(query_error=("TABLE_NOT_FOUND", "USER_ERROR")))
    ctx, _ = context([a, b, c], mode="leader-preferred")
    with pytest.raises(errors.ProgrammingError) as info:
        run(ctx, READ)
    assert info.value.error_name == "TABLE_NOT_FOUND"
    assert len(a.submitted) + len(b.submitted) + len(c.submitted) == 1


def test_not_now_sends_a_read_elsewhere_and_refuses_to_move_a_write() -> None:
    a, b, c = nodes()
    a.fail("fetch", 0, Fault(query_error=("SERVER_STARTING_UP", "INTERNAL_ERROR")))
    ctx, _ = context([a, b, c], mode="leader-preferred")
    _ex, rows = run(ctx, READ)
    assert rows == TEN
    a.fail("fetch", 1, Fault(query_error=("SERVER_SHUTTING_DOWN", "INTERNAL_ERROR")))
    ctx, _ = context([a], mode="leader-preferred")
    with pytest.raises(errors.OperationalError, match="did not run"):
        run(ctx, WRITE)
    assert a.submitted.count(WRITE) == 1


# -- resume modes -------------------------------------------------------------------------


def _lose_after_rows(resume: ResumeMode) -> tuple[Execution, list[list[int]]]:
    a, b, c = nodes()
    a.fail("fetch", 2, Fault(cause=Cause.RESET))
    ctx, discovery = context([a, b, c], resume=resume)
    ex = Execution(ctx, READ, classify(READ))
    ex.start()
    first = ex.fetchmany(2)
    discovery.set_leader(1)
    return ex, first


def test_resume_verify_goes_on_after_the_rows_handed_out() -> None:
    ex, first = _lose_after_rows(ResumeMode.VERIFY)
    assert first + ex.fetchall() == TEN


@pytest.mark.parametrize("resume", [ResumeMode.RESTART_ONLY, ResumeMode.NEVER])
def test_restart_only_and_never_do_not_resume_after_rows(resume: ResumeMode) -> None:
    ex, first = _lose_after_rows(resume)
    with pytest.raises(errors.OperationalError, match=f"resume={resume.value!r}|resume='never'"):
        first + ex.fetchall()


def test_restart_only_reruns_a_read_that_handed_out_nothing() -> None:
    a, b, c = nodes()
    a.fail("fetch", 0, Fault(cause=Cause.RESET))
    ctx, _ = context([a, b, c], resume=ResumeMode.RESTART_ONLY, mode="leader-preferred")
    ex, rows = run(ctx, READ)
    assert rows == TEN
    assert ex.attempts[0].node == a.uri and ex.attempts[0].error
    assert a.began == []
    assert len(b.submitted) + len(c.submitted) == 1


def test_a_resumed_read_with_other_rows_raises_result_diverged() -> None:
    a = FakeCoordinator("http://127.0.0.1:9")
    b = FakeCoordinator("http://127.0.0.1:10", rows=lambda sql: [[i * 2] for i in range(10)])
    a.fail("fetch", 2, Fault(cause=Cause.RESET))
    ctx, discovery = context([a, b])
    ex = Execution(ctx, READ, classify(READ))
    ex.start()
    first = ex.fetchmany(4)
    discovery.set_leader(1)
    with pytest.raises(errors.ResultDivergedError) as info:
        ex.fetchall()
    assert first == TEN[:4]
    assert info.value.rows_compared == 4


def test_never_resumes_a_read_lost_after_it_began() -> None:
    a, b, _c = nodes()
    a.fail("fetch", 0, Fault(cause=Cause.RESET))
    ctx, _discovery = context([a, b, _c], resume=ResumeMode.NEVER, mode="leader-preferred")
    with pytest.raises(errors.OperationalError, match="resume='never'"):
        run(ctx, READ)


# -- a hang, a leader change ------------------------------------------------------------


def test_a_read_hung_on_the_old_leader_moves_when_the_leader_changes() -> None:
    a, b, c = nodes()
    a.fail("fetch", 1, Fault(hang=True))
    ctx, discovery = context([a, b, c])
    ex = Execution(ctx, READ, classify(READ))
    ex.start()
    first = ex.fetchmany(3)
    discovery.set_leader(1)
    rest = ex.fetchall()
    ex.close()
    assert first + rest == TEN
    assert any("no longer the leader" in x.error for x in ex.attempts)
    assert a.cancelled, "the query left behind on the old leader was cancelled"


def test_a_silent_coordinator_is_left_and_marked_down() -> None:
    a, b, c = nodes()
    a.fail("fetch", 1, Fault(cause=Cause.NO_ANSWER))
    ctx, _ = context([a, b, c], mode="leader-preferred")
    _ex, rows = run(ctx, READ)
    assert rows == TEN
    assert ctx.cluster.is_dead(a.uri)


# -- bounds -----------------------------------------------------------------------------


def test_when_every_coordinator_refuses_the_error_lists_each_attempt() -> None:
    from prestoha.retry import RetryPolicy

    a, b, c = nodes()
    for node in (a, b, c):
        for n in range(100):
            node.fail("submit", n, Fault(cause=Cause.REFUSED))
    retry = RetryPolicy(max_attempts=6, backoff_initial=0, backoff_max=0, jitter=0)
    ctx, _ = context([a, b, c], mode="leader-preferred", retry=retry)
    with pytest.raises(errors.NoCoordinatorError) as info:
        run(ctx, READ)
    tried = {x.node for x in info.value.attempts}
    assert tried == {a.uri, b.uri, c.uri}
    assert all(x.error == "connection refused" for x in info.value.attempts)


def test_the_retry_policy_bounds_attempts_by_the_history() -> None:
    from prestoha.retry import RetryPolicy

    a, b, c = nodes()
    for node in (a, b, c):
        for n in range(5):
            node.fail("submit", n, Fault(status=503))
    retry = RetryPolicy(max_attempts=2, backoff_initial=0)
    ctx, _ = context([a, b, c], mode="leader-preferred", retry=retry)
    with pytest.raises(errors.NoCoordinatorError) as info:
        run(ctx, READ)
    assert len(info.value.attempts) == 2


def test_inside_a_transaction_nothing_moves() -> None:
    a, b, c = nodes()
    a.fail("fetch", 1, Fault(cause=Cause.RESET))
    ctx, _ = context([a, b, c], pinned=a.coordinator)
    with pytest.raises(errors.OperationalError, match="transaction"):
        run(ctx, READ)
    assert b.submitted == [] and c.submitted == []


def test_idempotent_true_lets_a_write_run_again() -> None:
    a, b, c = nodes()
    a._pages = _two_page_write(a._pages)  # type: ignore[method-assign]
    a.fail("fetch", 1, Fault(cause=Cause.RESET))
    ctx, _ = context([a, b, c], mode="leader-preferred")
    ex, rows = run(ctx, WRITE, idempotent=True)
    assert rows == [[1]]
    assert len(ex.attempts) == 2


# -- one question for hedging, resubmission and replay ------------------------------------


@pytest.mark.parametrize(("idempotent", "copies"), [(None, 2), (False, 1)])
def test_a_read_marked_not_repeatable_is_never_hedged(idempotent: bool | None, copies: int) -> None:
    from prestoha.routing import HedgePolicy

    a, b, c = nodes()
    for node in (a, b, c):
        node.fail("fetch", 0, Fault(delay=0.3))  # every first page is slow
    hedge = HedgePolicy(after=0.05, min_delay=0.0, budget=1.0, burst=10)
    ctx, _ = context([a, b, c], mode="any", hedge=hedge)
    _ex, rows = run(ctx, READ, idempotent=idempotent)
    assert rows == TEN
    assert len(a.submitted) + len(b.submitted) + len(c.submitted) == copies
