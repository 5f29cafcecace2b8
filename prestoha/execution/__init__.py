"""One logical query across attempts: the core of the driver.

Owns the attempt loop (``Execution``), the failure taxonomy and the one decision of
whether a failed statement may run again, verified replay, hedging, the bounded prefetch
of pages, and the :class:`Transport` seam through which an attempt talks to a coordinator
(:class:`HttpTransport` for real; tests script their own). The DB-API layer
(``prestoha.dbapi``) builds an :class:`ExecutionContext` per connection and an
:class:`Execution` per statement.
"""

from __future__ import annotations

from prestoha.execution import _workers
from prestoha.execution._async import AsyncAttemptRunner, AsyncTransport, settle
from prestoha.execution._buffer import DEFAULT_PREFETCH, PageBuffer, PrefetchLimit
from prestoha.execution._columnar import switch as read_as_arrow
from prestoha.execution._columnar import take_batches, take_batches_steps
from prestoha.execution._decision import ResumeMode
from prestoha.execution._dispatch import ExecutionContext
from prestoha.execution._execution import Execution, Prefetched
from prestoha.execution._failures import Failure, FailureKind, Phase, classify
from prestoha.execution._http import HttpTransport, new_http_session
from prestoha.execution._replay import new_digest, row_digest_update
from prestoha.execution._runner import AttemptRunner
from prestoha.execution._steps import Steps, run, run_async
from prestoha.execution._transport import Answer, Cause, Transport, TransportError

__all__ = [
    "DEFAULT_PREFETCH",
    "Answer",
    "AsyncAttemptRunner",
    "AsyncTransport",
    "AttemptRunner",
    "Cause",
    "Execution",
    "ExecutionContext",
    "Failure",
    "FailureKind",
    "HttpTransport",
    "PageBuffer",
    "Phase",
    "Prefetched",
    "PrefetchLimit",
    "ResumeMode",
    "Steps",
    "Transport",
    "TransportError",
    "FETCHER_IDLE_TIMEOUT",
    "busy_fetchers",
    "release_idle_fetchers",
    "classify",
    "read_as_arrow",
    "take_batches",
    "take_batches_steps",
    "new_digest",
    "new_http_session",
    "row_digest_update",
    "run",
    "run_async",
    "settle",
]

#: Seconds an idle fetch thread waits for the next query before it exits.
FETCHER_IDLE_TIMEOUT = _workers.IDLE_TIMEOUT


def busy_fetchers() -> int:
    """Background threads fetching pages or sending cancels now, in this process."""
    return _workers.busy()


def release_idle_fetchers() -> int:
    """Let the idle fetch threads of this process exit now rather than after
    :data:`FETCHER_IDLE_TIMEOUT` (for test fixtures); returns how many."""
    return _workers.release_idle()
