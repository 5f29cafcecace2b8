"""prestoha.protocol: the logical session, its headers and the trino ClientSession round trip."""

from __future__ import annotations

import copy
import threading
import warnings
from typing import Any

import pytest
import trino.client
from requests.structures import CaseInsensitiveDict

from prestoha.protocol import LogicalSession, SessionState


def make(**kw: Any) -> LogicalSession:
    kw.setdefault("user", "alice")
    return LogicalSession(**kw)


def request_headers(client_session: trino.client.ClientSession) -> CaseInsensitiveDict[str]:
    """The headers the unmodified trino client would send with this ClientSession."""
    request = trino.client.TrinoRequest("coordinator", 8080, client_session)
    return request.http_headers


# ---------------------------------------------------------------- construction


def test_defaults() -> None:
    session = make()
    assert (session.catalog, session.schema, session.source) == (None, None, "prestoha")
    assert session.properties == {} and session.prepared == {} and session.roles == {}
    assert not session.in_transaction


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"user": ""}, "user"),
        ({"timezone": "Mars/Olympus_Mons"}, "time zone"),
        ({"properties": {"a=b": "1"}}, "session property"),
        ({"properties": {"": "1"}}, "session property"),
        ({"roles": {"hive,x": "admin"}}, "role catalog"),
        ({"client_tags": ["a,b"]}, "client tags"),
        ({"extra_credential": [("bad key", "v")]}, "extra credential"),
        ({"extra_credential": [("only-one",)]}, "pairs"),
        ({"headers": {"X-Trino-Catalog": "x"}}, "set by the driver"),
        ({"headers": {"user-agent": "x"}}, "set by the driver"),
    ],
)
def test_bad_values_are_rejected_clearly(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(**kw)


def test_values_are_normalised() -> None:
    session = make(
        properties={"join_distribution_type": "BROADCAST", "optimize_hash_generation": True},
        roles={"system": "admin", "hive": "ROLE{analyst}", "iceberg": "ALL"},
        extra_credential=[("k", 1)],
    )
    assert session.properties["optimize_hash_generation"] == "true"
    assert session.roles == {"system": "admin", "hive": "analyst", "iceberg": "ALL"}
    assert session.extra_credential == [("k", "1")]


# ---------------------------------------------------------------- secrets


def test_secrets_never_appear_in_repr_or_snapshot() -> None:
    session = make(
        extra_credential=[("aws_secret", "s3cr3t-value")],
        headers={"Authorization": "Bearer t0ken-value", "X-Custom": "custom-value"},
    )
    text = repr(session)
    for secret in ("s3cr3t-value", "t0ken-value", "custom-value"):
        assert secret not in text
        assert secret not in repr(session.snapshot())
    assert "aws_secret=***" in text and "Authorization" in text
    assert secret not in str(session)


# ---------------------------------------------------------------- to the trino client


def test_to_client_session_carries_everything() -> None:
    session = make(
        catalog="hive",
        schema="web",
        source="app",
        properties={"query_max_run_time": "1h", "hive.compression_codec": "ZSTD"},
        roles={"system": "admin", "hive": "ALL"},
        path="hive.fns",
        timezone="Asia/Tokyo",
        prepared={"q1": "SELECT * FROM t WHERE a = ?"},
        client_tags=["etl", "nightly"],
        extra_credential=[("token", "a b")],
        headers={"X-Custom": "v"},
        authorization_user="bob",
        client_info="report",
        trace_token="trace-1",
    )
    client_session = session.to_client_session()
    assert isinstance(client_session, trino.client.ClientSession)
    assert client_session.roles == {"system": "ROLE{admin}", "hive": "ALL"}
    sent = request_headers(client_session)
    assert sent["X-Trino-User"] == "bob"
    assert sent["X-Trino-Original-User"] == "alice"
    assert (sent["X-Trino-Catalog"], sent["X-Trino-Schema"]) == ("hive", "web")
    assert sent["X-Trino-Source"] == "app"
    assert sent["X-Trino-Time-Zone"] == "Asia/Tokyo"
    assert set(sent["X-Trino-Session"].split(",")) == {
        "query_max_run_time=1h",
        "hive.compression_codec=ZSTD",
    }
    assert sent["X-Trino-Role"] == "system=ROLE%7Badmin%7D,hive=ALL"
    assert sent["X-Trino-Prepared-Statement"] == "q1=SELECT+%2A+FROM+t+WHERE+a+%3D+%3F"
    assert sent["X-Trino-Client-Tags"] == "etl,nightly"
    assert sent["X-Trino-Extra-Credential"] == "token=a+b"
    assert sent["X-Trino-Path"] == "hive.fns"
    assert sent["X-Trino-Client-Info"] == "report"
    assert sent["X-Trino-Trace-Token"] == "trace-1"
    assert sent["X-Custom"] == "v"
    assert sent["X-Trino-Transaction-Id"] == "NONE"


def test_to_client_session_without_warnings_and_independent() -> None:
    session = make(roles={"system": "admin"}, properties={"a": "1"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = session.to_client_session()
    first.properties["a"] = "changed"
    first.prepared_statements["p"] = "SELECT 1"
    assert session.properties == {"a": "1"} and session.prepared == {}
    assert session.to_client_session() is not first


def test_fields_override_same_named_custom_headers() -> None:
    session = make(headers={"x-trino-path": "old", "X-Keep": "1"}, path="new.path")
    sent = request_headers(session.to_client_session())
    assert sent["X-Trino-Path"] == "new.path"
    assert session.headers == {"x-trino-path": "old", "X-Keep": "1"}


def test_transaction_id_is_sent_while_open() -> None:
    session = make(transaction_id="tx-1")
    assert request_headers(session.to_client_session())["X-Trino-Transaction-Id"] == "tx-1"


# ---------------------------------------------------------------- raw response headers


def test_apply_response_headers_covers_every_header() -> None:
    session = make(properties={"old": "x", "keep": "y"}, prepared={"gone": "SELECT 0"})
    changed = session.apply_response_headers(
        {
            "X-Trino-Set-Catalog": "hive",
            "X-Trino-Set-Schema": "web",
            "X-Trino-Set-Path": "hive.fns, system.builtin",
            "X-Trino-Set-Session": "query_max_run_time=2h, hive.codec=a%2Cb+c",
            "X-Trino-Clear-Session": "old",
            "X-Trino-Set-Role": "system=ROLE%7Badmin%7D, hive=ALL",
            "X-Trino-Added-Prepare": "my+q=SELECT+*+FROM+t+WHERE+a+%3D+%3F",
            "X-Trino-Deallocated-Prepare": "gone",
            "X-Trino-Started-Transaction-Id": "20240101_000000_00001_abcde",
            "X-Trino-Set-Authorization-User": "bob",
        },
        node="http://c1:8080",
    )
    assert changed == {
        "catalog",
        "schema",
        "path",
        "properties",
        "roles",
        "prepared",
        "transaction_id",
        "pinned_node",
        "authorization_user",
    }
    assert (session.catalog, session.schema) == ("hive", "web")
    assert session.path == "hive.fns, system.builtin"
    assert session.properties == {"keep": "y", "query_max_run_time": "2h", "hive.codec": "a,b c"}
    assert session.roles == {"system": "admin", "hive": "ALL"}
    assert session.prepared == {"my q": "SELECT * FROM t WHERE a = ?"}
    assert session.transaction_id == "20240101_000000_00001_abcde"
    assert session.pinned_node == "http://c1:8080"
    assert session.in_transaction
    assert session.authorization_user == "bob"

    cleared = session.apply_response_headers(
        {"x-trino-clear-transaction-id": "true", "X-TRINO-RESET-AUTHORIZATION-USER": "true"}
    )
    assert cleared == {"transaction_id", "pinned_node", "authorization_user"}
    state = session.snapshot()
    assert (state.transaction_id, state.pinned_node, state.authorization_user) == (None,) * 3


def test_presto_headers_are_understood() -> None:
    session = make()
    session.apply_response_headers(
        {
            "X-Presto-Set-Catalog": "hive",
            "X-Presto-Set-Session": "a=1",
            "X-Presto-Added-Prepare": "p=SELECT+1",
            "X-Presto-Started-Transaction-Id": "tx",
        }
    )
    assert (session.catalog, session.properties, session.prepared) == (
        "hive",
        {"a": "1"},
        {"p": "SELECT 1"},
    )
    assert session.transaction_id == "tx"


def test_requests_header_dict_with_repeated_headers() -> None:
    # requests joins repeated headers with ", "; a plain dict may hold several spellings
    headers = CaseInsensitiveDict({"X-Trino-Set-Session": "a=1, b=2"})
    session = make()
    session.apply_response_headers(headers)
    session.apply_response_headers({"X-Trino-Set-Session": "c=3", "x-trino-set-session": "d=4"})
    assert session.properties == {"a": "1", "b": "2", "c": "3", "d": "4"}


def test_malformed_and_irrelevant_headers_are_ignored() -> None:
    session = make(catalog="keep", properties={"p": "1"})
    before = session.snapshot()
    changed = session.apply_response_headers(
        {
            "Content-Type": "application/json",
            "X-Trino-Set-Session": "no-equals-sign, =nokey",
            "X-Trino-Set-Catalog": "  ",
            "X-Trino-Started-Transaction-Id": "NONE",
            "X-Trino-Clear-Transaction-Id": "false",
            "X-Trino-Unknown": "whatever",
        }
    )
    assert changed == set()
    assert session.snapshot() == before


def test_unchanged_values_are_not_reported() -> None:
    session = make(catalog="hive", properties={"a": "1"})
    assert session.apply_response_headers({"X-Trino-Set-Catalog": "hive"}) == set()
    assert session.apply_response_headers({"X-Trino-Set-Session": "a=1"}) == set()
    assert session.apply_response_headers({"X-Trino-Clear-Session": "missing"}) == set()


# ---------------------------------------------------------------- copies, snapshots, threads


def test_copy_is_independent_and_equal() -> None:
    session = make(properties={"a": "1"}, extra_credential=[("k", "v")], headers={"H": "1"})
    for twin in (session.copy(), copy.copy(session), copy.deepcopy(session)):
        assert twin == session and twin is not session
        twin.properties["a"] = "2"
        twin.extra_credential.append(("k2", "v2"))
        assert session.properties == {"a": "1"}
        assert session.extra_credential == [("k", "v")]


def test_snapshot_is_immutable() -> None:
    session = make(properties={"a": "1"}, client_tags=["t"])
    state = session.snapshot()
    assert isinstance(state, SessionState)
    with pytest.raises(TypeError):
        state.properties["a"] = "2"  # type: ignore[index]
    session.properties["a"] = "3"
    assert state.properties["a"] == "1"
    assert state.client_tags == ("t",)


def test_end_transaction() -> None:
    session = make()
    session.apply_response_headers({"X-Trino-Started-Transaction-Id": "tx"}, node="n1")
    session.end_transaction()
    assert (session.transaction_id, session.pinned_node, session.in_transaction) == (
        None,
        None,
        False,
    )


def test_concurrent_updates_are_not_lost() -> None:
    session = make()
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        start.wait()
        for i in range(200):
            session.apply_response_headers({"X-Trino-Set-Session": f"p{n}_{i}={i}"})
            session.to_client_session()
            session.apply_response_headers({"X-Trino-Added-Prepare": f"q{n}_{i}=SELECT+1"})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(session.properties) == 8 * 200
    assert len(session.prepared) == 8 * 200
