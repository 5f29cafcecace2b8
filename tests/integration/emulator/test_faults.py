"""Each fault switch as the unmodified ``trino`` client sees it (emulator in-process)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
import trino.dbapi
import trino.exceptions

from prestoha.testing.coordinator import Coordinator, EmulatorAdmin

pytestmark = pytest.mark.integration


def connect(c: Coordinator, **kwargs: Any) -> trino.dbapi.Connection:
    return trino.dbapi.connect(host=c.uri, user="u", **kwargs)


def query(c: Coordinator, sql: str = "rows 3", **kwargs: Any) -> list[Any]:
    cur = connect(c, **kwargs).cursor()
    cur.execute(sql)
    rows: list[Any] = cur.fetchall()
    return rows


def test_dead_coordinator_refuses_connections(fake_engine: Any) -> None:
    c = Coordinator(engine=fake_engine).start()
    assert query(c) == [[0, "row-00000000"], [1, "row-00000001"], [2, "row-00000002"]]
    c.stop()
    with pytest.raises(trino.exceptions.TrinoConnectionError, match="failed to execute"):
        query(c, max_attempts=1)


def test_hang_is_a_read_timeout(fake_coordinator: Coordinator) -> None:
    fake_coordinator.faults.hang = True
    with socket.create_connection(("127.0.0.1", fake_coordinator.port), timeout=5):
        pass  # connections are still accepted
    with pytest.raises(trino.exceptions.TrinoConnectionError, match="Read timed out"):
        query(fake_coordinator, max_attempts=1, request_timeout=0.5)
    fake_coordinator.faults.hang = False
    assert len(query(fake_coordinator)) == 3


def test_forget_is_a_restart_mid_stream(fake_coordinator: Coordinator) -> None:
    cur = connect(fake_coordinator).cursor()
    cur.execute("rows 300000")
    assert len(cur.fetchmany(10)) == 10
    fake_coordinator.faults.forget()
    with pytest.raises(trino.exceptions.OperationalError, match="404: b'Query not found'"):
        cur.fetchall()


def test_starting(fake_coordinator: Coordinator, http: requests.Session) -> None:
    fake_coordinator.faults.starting = True
    assert http.get(f"{fake_coordinator.uri}/v1/info", timeout=5).json()["starting"] is True
    with pytest.raises(trino.exceptions.TrinoQueryError) as err:
        query(fake_coordinator)
    assert err.value.error_name == "SERVER_STARTING_UP"
    assert err.value.message == "Trino server is still initializing"
    fake_coordinator.faults.starting = False
    assert len(query(fake_coordinator)) == 3


def test_shutting_down(fake_coordinator: Coordinator, http: requests.Session) -> None:
    fake_coordinator.faults.shutting_down = True
    assert http.get(f"{fake_coordinator.uri}/v1/info/state", timeout=5).json() == "SHUTTING_DOWN"
    with pytest.raises(trino.exceptions.TrinoQueryError) as err:
        query(fake_coordinator)
    assert err.value.error_name == "SERVER_SHUTTING_DOWN"


def test_fail_post_count(fake_coordinator: Coordinator) -> None:
    fake_coordinator.faults.fail_post = {"status": 503, "count": 3}
    with pytest.raises(trino.exceptions.Http503Error):
        query(fake_coordinator, max_attempts=3)
    assert fake_coordinator.registry is not None
    assert fake_coordinator.registry.summaries() == []  # nothing was registered
    fake_coordinator.faults.fail_post = {"status": 503, "count": 2}
    assert len(query(fake_coordinator, max_attempts=3)) == 3  # the client retries 503
    assert len(fake_coordinator.registry.summaries()) == 1
    assert fake_coordinator.faults.fail_post is None  # used up


def test_fail_post_share_and_other_status(fake_coordinator: Coordinator) -> None:
    fake_coordinator.faults.fail_post = {"status": 500, "share": 1.0}
    with pytest.raises(trino.exceptions.HttpError, match="error 500"):
        query(fake_coordinator)
    fake_coordinator.faults.fail_post = {"status": 503, "share": 0.0}
    assert len(query(fake_coordinator)) == 3


def test_latency(fake_coordinator: Coordinator) -> None:
    fake_coordinator.faults.latency_ms = 1500
    with pytest.raises(trino.exceptions.TrinoConnectionError, match="Read timed out"):
        query(fake_coordinator, max_attempts=1, request_timeout=0.3)
    fake_coordinator.faults.latency_ms = 0
    assert len(query(fake_coordinator, max_attempts=1, request_timeout=5)) == 3


def test_random_latency_delays_the_first_page(fake_coordinator: Coordinator) -> None:
    fake_coordinator.faults.random_latency = {"ms": 1500, "share": 1.0}
    with pytest.raises(trino.exceptions.TrinoConnectionError, match="failed to fetch"):
        query(fake_coordinator, max_attempts=1, request_timeout=0.3)
    fake_coordinator.faults.random_latency = {"ms": 1500, "share": 0.0}
    assert len(query(fake_coordinator, max_attempts=1, request_timeout=5)) == 3


def test_close_mid_response(fake_coordinator: Coordinator) -> None:
    fake_coordinator.faults.close_mid_response = 1
    with pytest.raises(trino.exceptions.TrinoConnectionError, match="IncompleteRead"):
        query(fake_coordinator, "rows 100000")
    assert fake_coordinator.faults.close_mid_response == 0
    assert len(query(fake_coordinator, "rows 100000")) == 100000


def test_admin_api(fake_coordinator: Coordinator) -> None:
    with EmulatorAdmin(fake_coordinator.uri) as admin:
        assert admin.faults()["latency_ms"] == 0
        after = admin.set_faults(latency_ms=5, fail_post={"status": 503, "count": 2}, hang=False)
        assert after["latency_ms"] == 5
        assert after["fail_post"] == {"status": 503, "count": 2}
        assert fake_coordinator.faults.latency_ms == 5  # the same switches as in Python
        with pytest.raises(RuntimeError, match="400"):
            admin.set_faults(latency_ms=-1)
        with pytest.raises(RuntimeError, match="unknown fault field"):
            admin.set_faults(latncy_ms=1)
        assert admin.faults()["latency_ms"] == 5  # a bad update changes nothing
        assert admin.reset()["fail_post"] is None
        assert len(query(fake_coordinator)) == 3
        (entry,) = admin.queries()
        assert entry["state"] == "FINISHED"
        assert entry["sql"] == "rows 3"
        assert entry["user"] == "u"
        assert entry["node_id"] == "fake"
        assert admin.forget() == 1
        assert admin.queries() == []


def test_admin_api_is_off_without_admin(fake_engine: Any, http: requests.Session) -> None:
    with Coordinator(engine=fake_engine, admin=False) as c:
        assert http.get(f"{c.uri}/_emulator/faults", timeout=5).status_code == 404
