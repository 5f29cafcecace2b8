"""What a failure means, decided in one place (the table in DESIGN.md, "What a failure means").

Every failure of an attempt is put in one :class:`Failure` class, from the exception and
the phase the attempt was in. The execution then decides from that class alone whether the
statement may run again, and where.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import trino.exceptions

from prestoha import errors
from prestoha.execution._transport import Cause, TransportError
from prestoha.protocol import DecodingFailed

__all__ = [
    "REFUSED_BEFORE_RUNNING",
    "Abandoned",
    "Failure",
    "FailureKind",
    "Phase",
    "classify",
    "may_rerun_anything",
    "outcome_of",
    "query_error",
]

#: "Not now" answers given instead of running the statement: it did not run.
REFUSED_BEFORE_RUNNING = frozenset(
    {"SERVER_STARTING_UP", "SERVER_SHUTTING_DOWN", "NO_NODES_AVAILABLE"}
)


class Phase(enum.Enum):
    """Where an attempt was when it failed."""

    #: The POST that registers the query. Trino runs nothing until the first GET.
    SUBMIT = "submit"
    #: Any request after the POST was answered: the query may be running.
    EXECUTE = "execute"


class FailureKind(enum.Enum):
    """The failure taxonomy."""

    #: Nothing ran (refused, connect timeout, 502/503/504/429 on POST, unanswered POST):
    #: any statement may be sent anywhere.
    NOT_RUN = "not run"
    #: Lost after execution began: a read may run again, a write's outcome is unknown.
    LOST = "lost"
    #: The cluster said "not now" (starting, shutting down, no nodes): a read may go
    #: elsewhere; a write, unless nothing ran, may not.
    NOT_NOW = "not now"
    #: The query itself failed (``USER_ERROR`` and the like): raise, never retry.
    QUERY_FAILED = "query failed"
    #: The client cannot talk to the node as configured (a TLS certificate that does not
    #: verify, a header that cannot be sent, a ``nextUri`` to another host): raise a
    #: ``ConfigurationError`` saying what to fix; the node is not at fault.
    CONFIGURATION = "configuration"

    @property
    def final(self) -> bool:
        """Raised at once, never retried, and never counted against the node's health."""
        return self in (FailureKind.QUERY_FAILED, FailureKind.CONFIGURATION)


@dataclass(frozen=True)
class Failure:
    """One classified failure of one attempt."""

    kind: FailureKind
    phase: Phase
    #: One line for the attempt history and the logs (never a credential).
    reason: str
    #: The node refused, reset or dropped the connection, or fell silent: take it out of
    #: use for every query of the process.
    node_down: bool = False
    #: Nothing of the statement can have run (it never got past registration).
    nothing_ran: bool = False
    #: The node said nothing within the read timeout (``node_down`` unless it answered
    #: other requests meanwhile: then it is slow, not hung).
    silent: bool = False
    #: The error to raise as is for ``QUERY_FAILED``.
    error: errors.Error | None = None
    #: Trino's error name, when the coordinator reported one.
    error_name: str | None = None


#: Errors by which a cluster says "not now" rather than "this query is wrong" (so does a
#: PrestoDB error marked ``retriable`` that is not a ``USER_ERROR``).
NOT_NOW_ERRORS = frozenset(
    {
        "SERVER_STARTING_UP",
        "SERVER_SHUTTING_DOWN",
        "NO_NODES_AVAILABLE",
        "REMOTE_TASK_ERROR",
        "REMOTE_HOST_GONE",
        "PAGE_TRANSPORT_ERROR",
        "PAGE_TRANSPORT_TIMEOUT",
        "TOO_MANY_REQUESTS_FAILED",
        "QUERY_QUEUE_FULL",
    }
)

#: HTTP statuses that mean "this server cannot take it now, nothing was done".
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


class Abandoned(Exception):
    """The execution gave up on a node that discovery or another query found dead, or that
    lost the lead."""


def classify(exc: BaseException, phase: Phase) -> Failure:
    """Put one attempt's failure in its class."""
    if isinstance(exc, trino.exceptions.TrinoQueryError):
        return _classify_query_error(exc, phase)
    if isinstance(exc, trino.exceptions.TrinoDataError):
        # The official mappers' "no Python value for this" (trino/mapper.py): the answer was
        # well formed and any coordinator would send the same value, so nothing to retry.
        detail = _one_line(str(exc))
        return Failure(
            FailureKind.QUERY_FAILED, phase, detail, error=errors.UnmappableValueError(detail)
        )
    if isinstance(exc, DecodingFailed):
        # prestoha's own decoding failed on a well-formed answer: every coordinator would
        # send the same, so another attempt would fail alike. A driver bug, raised at once.
        detail = str(exc)
        return Failure(FailureKind.QUERY_FAILED, phase, detail, error=errors.InternalError(detail))
    if isinstance(exc, TransportError):
        return _classify_transport(exc, phase)
    if isinstance(exc, Abandoned):
        return Failure(FailureKind.LOST, phase, _one_line(str(exc)))
    if isinstance(exc, _BUGS):
        # A programming error in the driver (or a transport): every attempt would hit it
        # again, so it is raised at once rather than retried until failover_timeout.
        detail = f"{type(exc).__name__}: {_one_line(str(exc))}"
        return Failure(FailureKind.QUERY_FAILED, phase, detail, error=errors.InternalError(detail))
    kind = FailureKind.NOT_RUN if phase is Phase.SUBMIT else FailureKind.LOST
    if isinstance(exc, (ValueError, KeyError)):
        # A body that is not a Trino answer: something in between (a proxy) or a sick node.
        return Failure(kind, phase, f"malformed answer: {_one_line(str(exc))}")
    return Failure(kind, phase, f"{type(exc).__name__}: {_one_line(str(exc))}")


_BUGS = (TypeError, AttributeError, NameError, AssertionError, NotImplementedError)


def _classify_transport(exc: TransportError, phase: Phase) -> Failure:
    cause = exc.cause
    if cause is Cause.HTTP_STATUS:
        return _classify_status(exc.status, exc.body, phase)
    if cause.local:
        return _classify_local(exc, phase)
    submit = phase is Phase.SUBMIT
    if cause is Cause.NO_ANSWER:
        # An unanswered POST leaves at most a registration that nobody polls: Trino starts
        # a query on the first GET of its queued URI. A silent node is taken out of use.
        if submit:
            return Failure(
                FailureKind.NOT_RUN,
                phase,
                "no answer to submit",
                node_down=True,
                nothing_ran=True,
                silent=True,
            )
        return Failure(
            FailureKind.LOST, phase, "no answer while running", node_down=True, silent=True
        )
    if cause in (Cause.NO_STATUS, Cause.MALFORMED):
        reason = exc.detail if cause is Cause.NO_STATUS else f"malformed answer: {exc.detail}"
        kind = FailureKind.NOT_RUN if submit else FailureKind.LOST
        return Failure(kind, phase, reason, nothing_ran=submit and cause is Cause.NO_STATUS)
    # A connection failure. During the POST (or the first GET that never left, which the
    # attempt counts as submitting): at most an orphan registration, which Trino never
    # runs. Later, even a request that never left leaves a query that already runs.
    kind = FailureKind.NOT_RUN if submit else FailureKind.LOST
    return Failure(kind, phase, cause.value, node_down=cause.node_down, nothing_ran=submit)


_FIXES = {
    Cause.TLS: (
        "verify",
        "True with a certificate the system trusts, or the path of the CA bundle that signed it",
    ),
    Cause.NOT_SENT: (
        "user, source, client_tags, http_headers, extra_credential, verify",
        "values without line breaks or characters outside latin-1, a readable CA bundle",
    ),
    Cause.FOREIGN_URI: (
        "next_uri_hosts",
        "the coordinator's own host (check its external address), or add the host to "
        "next_uri_hosts if it is trusted",
    ),
}


def _classify_local(exc: TransportError, phase: Phase) -> Failure:
    option, accepted = _FIXES[exc.cause]
    reason = f"{exc.cause.value}: {exc.detail}" if exc.detail else exc.cause.value
    return Failure(
        FailureKind.CONFIGURATION,
        phase,
        reason,
        nothing_ran=phase is Phase.SUBMIT,
        error=errors.ConfigurationError(option, reason, accepted),
    )


def _classify_status(status: int, body: str, phase: Phase) -> Failure:
    detail = f"HTTP {status}" + (f": {_one_line(body)}" if body.strip() else "")
    if phase is Phase.SUBMIT:
        if status in RETRYABLE_STATUSES:
            return Failure(FailureKind.NOT_RUN, phase, detail, nothing_ran=True)
        if status in (400, 401, 403, 413, 415):
            error = errors.http_error(status, f"coordinator refused: {detail}")
            return Failure(FailureKind.QUERY_FAILED, phase, detail, error=error)
        return Failure(FailureKind.NOT_RUN, phase, detail, nothing_ran=True)
    # 404 "Query not found" after a restart, 410, 5xx mid-stream: the query is lost.
    return Failure(FailureKind.LOST, phase, detail)


def _classify_query_error(exc: trino.exceptions.TrinoQueryError, phase: Phase) -> Failure:
    name = exc.error_name or "UNKNOWN"
    reason = f"{name}: {_one_line(exc.message)}"
    if (name in NOT_NOW_ERRORS or _retriable(exc)) and exc.error_type != "USER_ERROR":
        return Failure(
            FailureKind.NOT_NOW,
            phase,
            reason,
            nothing_ran=phase is Phase.SUBMIT,
            error_name=name,
        )
    return Failure(FailureKind.QUERY_FAILED, phase, reason, error=query_error(exc))


def _retriable(exc: trino.exceptions.TrinoQueryError) -> bool:
    """PrestoDB marks an error its own server-side retry may retry
    (``com.facebook.presto.client.QueryError.isRetriable``, ``"retriable": true``): the
    cluster failed it, not the query. Trino's errors have no such field."""
    error = getattr(exc, "_error", None)
    return isinstance(error, dict) and error.get("retriable") is True


def query_error(exc: trino.exceptions.TrinoQueryError) -> errors.Error:
    """The error for a query the coordinator failed: a PEP 249 error and the class the
    official client raises for it, with Trino's details kept (see prestoha.errors)."""
    return errors.query_error(exc._error, exc.query_id)


def outcome_of(exc: BaseException | None) -> str:
    """How a query ended, as the ``query`` event and the metrics name it."""
    if exc is None:
        return "ok"
    for kind, name in _OUTCOMES:
        if isinstance(exc, kind):
            return name
    return "failed"


_OUTCOMES: tuple[tuple[type[BaseException], str], ...] = (
    (errors.QueryOutcomeUnknownError, "outcome_unknown"),
    (errors.ResultDivergedError, "diverged"),
    (errors.NoCoordinatorError, "no_coordinator"),
)


def may_rerun_anything(failure: Failure) -> bool:
    """Nothing of the statement can have run: any statement may go elsewhere."""
    return failure.nothing_ran or failure.kind is FailureKind.NOT_RUN


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:197] + "..."
