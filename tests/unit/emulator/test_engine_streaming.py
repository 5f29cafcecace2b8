"""Streaming, cancellation, concurrency and session-dependent output of the emulator engine."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from prestoha.testing.coordinator.sql import Engine, QueryError, SessionContext


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(node_id="stream")
    yield e
    e.close()


def _session(**kw: Any) -> SessionContext:
    kw.setdefault("user", "tester")
    return SessionContext(catalog="tpch", schema="sf1", **kw)


def test_close_stops_a_stream_being_read_in_another_thread(engine: Engine) -> None:
    result = engine.execute("SELECT * FROM lineitem", _session(), query_id="q")
    pulled = 0
    started = threading.Event()
    outcome: list[BaseException | None] = []

    def consume() -> None:
        nonlocal pulled
        try:
            for _ in result.rows:
                pulled += 1
                started.set()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=consume)
    thread.start()
    assert started.wait(30)
    result.close()
    result.close()  # twice is harmless
    thread.join(30)
    assert not thread.is_alive()
    assert outcome in ([None], []) or isinstance(outcome[0], QueryError)
    assert 0 < pulled < 6_000_000


def test_an_abandoned_result_can_be_closed_before_reading(engine: Engine) -> None:
    result = engine.execute("SELECT * FROM orders", _session(), query_id="q")
    result.close()
    assert list(result.rows) == []


def test_statements_run_concurrently_on_one_engine(engine: Engine) -> None:
    errors: list[BaseException] = []
    counts: list[int] = []
    sess = SessionContext(user="u", catalog="memory", schema="default")
    engine.execute("CREATE TABLE conc (t bigint, i bigint)", sess, query_id="c")

    def work(t: int) -> None:
        try:
            for i in range(5):
                list(engine.execute(f"INSERT INTO conc VALUES ({t}, {i})", sess, query_id="i").rows)
                rows = list(
                    engine.execute("SELECT count(*) FROM tpch.tiny.orders", sess, query_id="s").rows
                )
                counts.append(rows[0][0])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    assert counts == [15000] * 30
    total = list(engine.execute("SELECT count(*) FROM conc", sess, query_id="c").rows)
    assert total == [[30]]


def test_datetime_output_without_parametric_datetime(engine: Engine) -> None:
    sess = SessionContext(user="u", parametric_datetime=False)
    result = engine.execute(
        "SELECT TIMESTAMP '2020-01-02 03:04:05.123456', TIME '01:02:03'", sess, query_id="q"
    )
    assert [c.type for c in result.columns] == ["timestamp", "time"]
    assert result.columns[0].type_signature == {"rawType": "timestamp", "arguments": []}
    assert list(result.rows) == [["2020-01-02 03:04:05.123", "01:02:03.000"]]


def test_time_zone_of_the_session_shapes_zoned_values(engine: Engine) -> None:
    def first(sess: SessionContext) -> Any:
        return next(iter(engine.execute("SELECT from_unixtime(0)", sess, query_id="q").rows))[0]

    assert first(SessionContext(user="u")) == "1970-01-01 00:00:00.000 UTC"
    assert first(SessionContext(user="u", time_zone="America/New_York")) == (
        "1969-12-31 19:00:00.000 America/New_York"
    )
    assert first(SessionContext(user="u", time_zone="+05:30")) == "1970-01-01 05:30:00.000 +05:30"
    by_property = SessionContext(user="u", properties={"time_zone_id": "Asia/Kolkata"})
    assert first(by_property) == "1970-01-01 05:30:00.000 Asia/Kolkata"
    changes = engine.execute("SET TIME ZONE 'Asia/Tokyo'", SessionContext(user="u"), query_id="q")
    assert changes.changes.set_session == {"time_zone_id": "Asia/Tokyo"}
    with pytest.raises(QueryError) as info:
        engine.execute("SET TIME ZONE 'Mars/Base'", SessionContext(user="u"), query_id="q")
    assert info.value.error_name == "INVALID_LITERAL"
