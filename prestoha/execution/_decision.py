"""Whether a failed statement may run again: the one place that decides it.

The failure taxonomy (``_failures``) says what a failure was; this says what that means
for a given statement in a given state: raise at once, raise ``QueryOutcomeUnknownError``,
or go on to another attempt.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Sequence
from dataclasses import dataclass

from prestoha import errors
from prestoha.execution._failures import (
    REFUSED_BEFORE_RUNNING,
    Failure,
    may_rerun_anything,
)
from prestoha.retry import RetryPolicy

__all__ = ["ResumeMode", "Statement", "decide"]


class ResumeMode(str, enum.Enum):
    """What a read lost after it began may do (the ``resume`` option)."""

    #: Run it again; if rows were handed out, verify them by digest and go on (default).
    VERIFY = "verify"
    #: Run it again only while no row was handed out.
    RESTART_ONLY = "restart-only"
    #: Never run it again after it began.
    NEVER = "never"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Statement:
    """What the decision needs to know of the statement that failed."""

    #: May it run a second time (a read, a session statement, or ``idempotent=True``)?
    rerunnable: bool
    #: Is it pinned to its coordinator by an open transaction?
    pinned: bool
    resume: ResumeMode
    #: Rows already handed to the caller.
    handed: int


def decide(
    failure: Failure,
    statement: Statement,
    *,
    node: str,
    query_id: str | None,
    attempts: Sequence[errors.Attempt],
    retry: RetryPolicy,
    deadline: float,
) -> None:
    """Raise unless the statement may run again on another attempt."""
    if failure.kind.final:
        assert failure.error is not None
        raise failure.error
    if statement.pinned:
        message = (
            f"the transaction's coordinator {node} failed ({failure.reason}); "
            "the transaction cannot move to another coordinator"
        )
        if not statement.rerunnable:
            raise errors.QueryOutcomeUnknownError(
                message, node=node, query_id=query_id, attempts=attempts
            )
        raise errors.OperationalError(message, attempts=attempts)
    may_rerun = may_rerun_anything(failure) or statement.rerunnable
    if not may_rerun and failure.error_name in REFUSED_BEFORE_RUNNING:
        raise errors.OperationalError(
            f"{node} refused the statement ({failure.reason}); it did not run and, as it "
            "writes, was not sent elsewhere. Run it again when the cluster is ready",
            attempts=attempts,
        )
    if not may_rerun:
        raise errors.QueryOutcomeUnknownError(
            f"the statement may have run on {node} before it was lost ({failure.reason}); "
            f"it was not run again. Check whether it took effect (query id {query_id}) "
            "before running it again",
            node=node,
            query_id=query_id,
            attempts=attempts,
        )
    if statement.resume is ResumeMode.NEVER and not may_rerun_anything(failure):
        raise errors.OperationalError(
            f"the read was lost on {node} after it began ({failure.reason}); "
            "resume='never' does not run it again",
            attempts=attempts,
        )
    if statement.handed and statement.resume is not ResumeMode.VERIFY:
        raise errors.OperationalError(
            f"the read was lost on {node} after {statement.handed} rows were handed out "
            f"({failure.reason}); resume={statement.resume.value!r} does not resume it",
            attempts=attempts,
        )
    if retry.exhausted(attempts) or time.monotonic() >= deadline:
        raise errors.NoCoordinatorError(
            f"no coordinator could take the query after {len(attempts)} attempts",
            attempts=attempts,
        )
