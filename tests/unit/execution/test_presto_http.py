"""The HTTP transport speaking PrestoDB: ``X-Presto-*`` headers out and in, the server-side
retry URI followed and recorded, PrestoDB's errors and statuses put in the failure taxonomy.

Every answer is shaped as PrestoDB writes it (``com.facebook.presto.server.protocol.
QueryResourceUtil``, ``QueuedStatementResource``, ``com.facebook.presto.client.QueryError``).
"""

from __future__ import annotations

from typing import Any

import pytest
import responses
import trino.client
import trino.exceptions

from prestoha import events
from prestoha.execution import Cause, HttpTransport, TransportError, new_http_session
from prestoha.execution._failures import FailureKind, Phase, classify
from prestoha.execution._http import server_retry_of
from prestoha.protocol import PRESTO, TRINO, Dialect, LogicalSession

URI = "http://c1.example:8080"
QUEUED = f"{URI}/v1/statement/queued/20250101_000000_00001_abcde/1?slug=x0123"


def transport(session: LogicalSession | None = None, dialect: Dialect = PRESTO) -> HttpTransport:
    session = session or LogicalSession(user="ana", catalog="hive", schema="web")
    return HttpTransport(
        host="c1.example",
        port=8080,
        scheme="http",
        client_session=session.to_client_session(),
        http_session=new_http_session(True),
        auth=None,
        connect_timeout=1.0,
        read_timeout=5.0,
        dialect=dialect,
    )


def registered(query_id: str = "20250101_000000_00001_abcde") -> dict[str, Any]:
    # QueuedStatementResource's answer to the POST: registered, not yet dispatched.
    return {
        "id": query_id,
        "infoUri": f"{URI}/ui/query.html?{query_id}",
        "nextUri": QUEUED,
        "stats": {"state": "WAITING_FOR_PREREQUISITES", "waitingForPrerequisites": True},
        "warnings": [],
    }


@responses.activate
def test_every_request_header_is_in_the_presto_family() -> None:
    responses.post(f"{URI}/v1/statement", json=registered())
    session = LogicalSession(
        user="ana",
        catalog="hive",
        schema="web",
        source="etl",
        properties={"query_max_run_time": "1h"},
        roles={"hive": "admin"},
        timezone="Europe/Paris",
        client_tags=["nightly"],
        extra_credential=[("token", "s3cr3t")],
        prepared={"st1": "SELECT ?"},
        client_info="job 7",
        transaction_id="6d3c1f9a-0000-0000-0000-000000000001",
    )
    transport(session).submit("SELECT 1", {"X-Trino-Trace-Token": "t1"})
    sent = responses.calls[0].request.headers
    names = {name.lower() for name in sent}
    assert not [n for n in names if n.startswith("x-trino-")]
    # HttpRequestSessionContext reads these (com.facebook.presto.server)
    assert sent["X-Presto-User"] == "ana"
    assert sent["X-Presto-Source"] == "etl"
    assert sent["X-Presto-Catalog"] == "hive"
    assert sent["X-Presto-Schema"] == "web"
    assert sent["X-Presto-Time-Zone"] == "Europe/Paris"
    assert sent["X-Presto-Session"] == "query_max_run_time=1h"
    assert sent["X-Presto-Role"] == "hive=ROLE%7Badmin%7D"
    assert sent["X-Presto-Client-Tags"] == "nightly"
    assert sent["X-Presto-Client-Info"] == "job 7"
    assert sent["X-Presto-Extra-Credential"] == "token=s3cr3t"
    assert sent["X-Presto-Prepared-Statement"] == "st1=SELECT+%3F"
    assert sent["X-Presto-Transaction-Id"] == "6d3c1f9a-0000-0000-0000-000000000001"
    assert sent["X-Presto-Trace-Token"] == "t1"
    # Trino-only headers PrestoDB does not read are not sent at all
    assert "x-presto-client-capabilities" not in names
    assert "x-presto-query-data-encoding" not in names


@responses.activate
def test_the_trino_dialect_keeps_the_trino_family() -> None:
    responses.post(f"{URI}/v1/statement", json=registered())
    transport(dialect=TRINO).submit("SELECT 1", {"X-Trino-Trace-Token": "t1"})
    sent = responses.calls[0].request.headers
    assert sent["X-Trino-User"] == "ana"
    assert sent["X-Trino-Trace-Token"] == "t1"
    assert not [n for n in sent if n.lower().startswith("x-presto-")]


@responses.activate
def test_a_new_transaction_is_declared_with_none_in_the_presto_header() -> None:
    # NONE says the client supports transactions (HttpRequestSessionContext)
    responses.post(f"{URI}/v1/statement", json=registered())
    transport().submit("START TRANSACTION", {})
    assert responses.calls[0].request.headers["X-Presto-Transaction-Id"] == "NONE"


@responses.activate
def test_presto_response_headers_change_the_session() -> None:
    # QueryResourceUtil.toResponse: one header per item, values URLEncoder-encoded
    page = {"id": "q1", "stats": {"state": "FINISHED"}, "columns": [], "data": []}
    responses.get(
        f"{URI}/v1/statement/executing/q1/1",
        json=page,
        headers=[
            ("X-Presto-Set-Catalog", "tpch"),
            ("X-Presto-Set-Schema", "sf1"),
            ("X-Presto-Set-Session", "query_max_run_time=2+h"),
            ("X-Presto-Set-Session", "join_distribution_type=BROADCAST"),
            ("X-Presto-Clear-Session", "hash_partition_count"),
            ("X-Presto-Set-Role", "hive=ROLE%7Badmin%7D"),
            ("X-Presto-Added-Prepare", "my+q=SELECT+%3F+%2B+1"),
            ("X-Presto-Deallocated-Prepare", "old"),
            ("X-Presto-Started-Transaction-Id", "6d3c1f9a-0000-0000-0000-000000000002"),
            ("X-Presto-Added-Session-Functions", "%7B%22id%22%3A1%7D=%7B%22body%22%3A2%7D"),
        ],
    )
    session = LogicalSession(
        user="ana", properties={"hash_partition_count": "8"}, prepared={"old": "SELECT 2"}
    )
    answer = transport(session).fetch(f"{URI}/v1/statement/executing/q1/1")
    changed = session.apply_response_headers(
        {k: ",".join(v) for k, v in answer.headers.items()}, node=URI
    )
    assert session.catalog == "tpch" and session.schema == "sf1"
    assert session.properties == {
        "query_max_run_time": "2 h",  # Java's URLEncoder writes a space as '+'
        "join_distribution_type": "BROADCAST",
    }
    assert session.roles == {"hive": "admin"}
    assert session.prepared == {"my q": "SELECT ? + 1"}
    assert session.transaction_id == "6d3c1f9a-0000-0000-0000-000000000002"
    assert session.pinned_node == URI
    assert session.session_functions == {'{"id":1}': "%7B%22id%22%3A1%7D=%7B%22body%22%3A2%7D"}
    assert "session_functions" in changed


@responses.activate
def test_session_functions_are_sent_back_until_removed() -> None:
    item = "%7B%22id%22%3A1%7D=%7B%22body%22%3A2%7D"
    session = LogicalSession(user="ana")
    session.apply_response_headers({"X-Presto-Added-Session-Function": item})
    responses.post(f"{URI}/v1/statement", json=registered())
    transport(session).submit("SELECT foo()", {})
    assert responses.calls[0].request.headers["X-Presto-Session-Function"] == item

    session.apply_response_headers({"X-Presto-Removed-Session-Function": "%7B%22id%22%3A1%7D"})
    transport(session).submit("SELECT 1", {})
    assert "X-Presto-Session-Function" not in responses.calls[1].request.headers


def test_the_driver_sets_the_session_function_header_itself() -> None:
    with pytest.raises(ValueError, match="set by the driver"):
        LogicalSession(user="ana", headers={"X-Presto-Session-Function": "x=y"})


# -- the server-side retry ----------------------------------------------------------------


def test_the_retry_uri_names_the_failed_query() -> None:
    assert server_retry_of(f"{URI}/v1/statement/queued/retry/20250101_1") == "20250101_1"
    assert server_retry_of(QUEUED) is None
    assert server_retry_of(f"{URI}/v1/statement/executing/q1/2?slug=x1") is None


@responses.activate
def test_a_server_side_retry_is_followed_and_recorded_not_failed() -> None:
    # Query.getNextResultWithRetry: no error, WAITING_FOR_PREREQUISITES, nextUri to the
    # retry endpoint (no slug); that endpoint answers with a new query id and slug.
    retry_uri = f"{URI}/v1/statement/queued/retry/q_old"
    responses.get(
        f"{URI}/v1/statement/executing/q_old/1",
        json={
            "id": "q_old",
            "nextUri": retry_uri,
            "stats": {"state": "WAITING_FOR_PREREQUISITES", "waitingForPrerequisites": True},
        },
    )
    responses.get(retry_uri, json={**registered("q_new"), "nextUri": f"{URI}/v1/x/q_new/1"})
    seen: list[tuple[str, dict[str, Any]]] = []
    unsubscribe = events.subscribe(lambda event, **f: seen.append((event, f)))
    try:
        t = transport()
        first = t.fetch(f"{URI}/v1/statement/executing/q_old/1")
        assert first.status["nextUri"] == retry_uri
        second = t.fetch(first.status["nextUri"])
    finally:
        unsubscribe()
    assert second.status["id"] == "q_new"
    assert seen == [("server_retry", {"node": URI, "query_id": "q_old", "new_query_id": "q_new"})]


# -- errors and statuses ------------------------------------------------------------------


def presto_error(name: str, error_type: str, retriable: bool) -> dict[str, Any]:
    # com.facebook.presto.client.QueryError, as Query.toQueryError fills it
    return {
        "id": "q1",
        "stats": {"state": "FAILED"},
        "error": {
            "message": "boom",
            "sqlState": None,
            "errorCode": 65540,
            "errorName": name,
            "errorType": error_type,
            "retriable": retriable,
            "errorLocation": None,
            "failureInfo": {"type": "com.facebook.presto.spi.PrestoException"},
        },
    }


@responses.activate
@pytest.mark.parametrize(
    ("name", "error_type", "retriable", "kind"),
    [
        # marked retriable by the cluster: "not now", as Trino's REMOTE_TASK_ERROR
        ("EXCEEDED_TIME_LIMIT_ON_WORKER", "INTERNAL_ERROR", True, FailureKind.NOT_NOW),
        ("GENERIC_INTERNAL_ERROR", "INTERNAL_ERROR", False, FailureKind.QUERY_FAILED),
        # a user error stays the query's fault, whatever the flag says
        ("SYNTAX_ERROR", "USER_ERROR", True, FailureKind.QUERY_FAILED),
        ("REMOTE_TASK_ERROR", "INTERNAL_ERROR", False, FailureKind.NOT_NOW),
    ],
)
def test_a_retriable_presto_error_is_not_now(
    name: str, error_type: str, retriable: bool, kind: FailureKind
) -> None:
    responses.get(
        f"{URI}/v1/statement/executing/q1/2", json=presto_error(name, error_type, retriable)
    )
    with pytest.raises(trino.exceptions.TrinoQueryError) as info:
        transport().fetch(f"{URI}/v1/statement/executing/q1/2")
    failure = classify(info.value, Phase.EXECUTE)
    assert failure.kind is kind
    assert failure.error_name == (name if kind is FailureKind.NOT_NOW else None)


@responses.activate
@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, "Query not found"),  # unknown id or slug: another coordinator, a restart (LQP)
        (410, ""),  # a stale token (Query.getResults)
    ],
)
def test_an_expired_next_uri_is_a_lost_query_whether_404_or_410(status: int, body: str) -> None:
    uri = f"{URI}/v1/statement/executing/q1/5?slug=x0123"
    responses.get(uri, status=status, body=body, content_type="text/plain")
    with pytest.raises(TransportError) as info:
        transport().fetch(uri)
    assert info.value.cause is Cause.HTTP_STATUS
    failure = classify(info.value, Phase.EXECUTE)
    assert failure.kind is FailureKind.LOST
    assert not failure.nothing_ran


@responses.activate
def test_a_missing_user_is_refused_at_submit_as_a_query_failure() -> None:
    # what PrestoDB answers to a client that sends X-Trino-User only
    responses.post(f"{URI}/v1/statement", status=400, body="User must be set")
    with pytest.raises(TransportError) as info:
        transport(dialect=TRINO).submit("SELECT 1", {})
    failure = classify(info.value, Phase.SUBMIT)
    assert failure.kind is FailureKind.QUERY_FAILED
    assert "User must be set" in failure.reason
