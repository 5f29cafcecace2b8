"""The emulator's column-at-a-time encoding sends exactly what its row-at-a-time encoding sends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from prestoha.testing.coordinator.sql import Engine, QueryError, SessionContext, queries
from prestoha.testing.coordinator.sql.batch_values import batch_encoder, next_batch
from prestoha.testing.coordinator.sql.types import parse_type
from prestoha.testing.coordinator.sql.values import row_encoder

pa = pytest.importorskip("pyarrow")

# DuckDB's timestamps reach far past Python's years 1..9999, which it hands out as text.
_MICROS = st.integers(min_value=-200_000_000_000_000_000, max_value=500_000_000_000_000_000)
_NEAR = st.integers(min_value=-3_000_000_000_000_000, max_value=3_000_000_000_000_000)
# Whole seconds: exact at every precision, so the vectorised text is used.
_WHOLE = _NEAR.map(lambda v: v - v % 1_000_000)
_FLOATS = st.floats(allow_nan=True, allow_infinity=True)


def _both(table: Any, types: list[str]) -> tuple[list[Any], list[Any]]:
    """The JSON rows of ``table`` as the row path and as the batch path make them."""
    trino = [parse_type(t) for t in types]
    with duckdb.connect() as con:
        relation = con.from_arrow(table)
        duck = [str(t) for t in relation.types]
        by_row = row_encoder(trino)
        expected = [by_row(r) for r in relation.fetchall()]
        by_batch = batch_encoder(trino, duck)
        assert by_batch is not None, duck
        reader = relation.to_arrow_reader(7)  # several batches
        got: list[Any] = []
        while (batch := next_batch(reader)) is not None:
            got.extend(by_batch(batch))
    return expected, got


def _same(expected: list[Any], got: list[Any]) -> None:
    # NaN is sent as the text "NaN", so plain equality holds for every value sent.
    assert got == expected
    assert [[type(v) for v in r] for r in got] == [[type(v) for v in r] for r in expected]


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.lists(st.one_of(st.none(), _MICROS, _NEAR), min_size=1, max_size=40),
        st.lists(st.one_of(st.none(), _WHOLE), min_size=1, max_size=40),
    ),
    st.sampled_from([0, 1, 3, 6, 9, 12]),
)
@example([253402300799_500000], 0)  # the last half second of year 9999 rounds up past it
def test_timestamps_of_any_year_and_precision(micros: list[int | None], precision: int) -> None:
    table = pa.table({"t": pa.array(micros, pa.timestamp("us"))})
    _same(*_both(table, [f"timestamp({precision})"]))


@pytest.mark.parametrize(
    ("precision", "text"), [(0, "+10000-01-01 00:00:00"), (3, "9999-12-31 23:59:59.500")]
)
def test_rounding_past_year_9999_gives_year_10000_as_trino_writes_it(
    precision: int, text: str
) -> None:
    # DateTimes.round, then LocalDateTime's uuuu: a "+" before a year of five digits
    table = pa.table({"t": pa.array([253402300799_500000], pa.timestamp("us"))})
    expected, got = _both(table, [f"timestamp({precision})"])
    assert expected == got == [[text]]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
            st.one_of(st.none(), st.text()),
            st.one_of(st.none(), _FLOATS),
            st.one_of(st.none(), st.booleans()),
            st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_plain_columns(rows: list[tuple[Any, ...]]) -> None:
    ints, texts, floats, flags, small = (list(c) for c in zip(*rows, strict=True))
    table = pa.table(
        {
            "i": pa.array(ints, pa.int64()),
            "s": pa.array(texts, pa.string()),
            "d": pa.array(floats, pa.float64()),
            "b": pa.array(flags, pa.bool_()),
            "n": pa.array(small, pa.int32()),
        }
    )
    _same(*_both(table, ["bigint", "varchar", "double", "boolean", "integer"]))


def test_types_without_a_batch_encoding_take_the_row_path() -> None:
    assert batch_encoder([parse_type("real")], ["FLOAT"]) is None
    assert batch_encoder([parse_type("decimal(10,2)")], ["DECIMAL(10,2)"]) is None
    # a varchar holding DuckDB's text of a value: not the value itself
    assert batch_encoder([parse_type("varchar")], ["UUID"]) is None
    assert batch_encoder([parse_type("varchar")], ["VARCHAR"], as_text=[True]) is None
    assert batch_encoder([parse_type("bigint")], ["BIGINT"]) is not None


# -- through the engine ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(node_id="batches")
    yield e
    e.close()


def _rows(engine: Engine, sql: str) -> list[Any]:
    session = SessionContext(catalog="tpch", schema="tiny", user="tester")
    return list(engine.execute(sql, session, query_id="q").rows)


def test_the_engine_sends_the_same_rows_either_way(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql = (
        "SELECT orderkey, orderstatus, CAST(totalprice AS double) / 3 AS third, "
        "CAST(orderdate AS timestamp(3)) + orderkey * INTERVAL '0.0015' SECOND AS at, "
        "nan() AS n FROM orders"
    )
    made: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        made.append(batch_encoder(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(queries, "batch_encoder", spy)
    by_batch = _rows(engine, sql)
    assert made and made[0] is not None  # the batch path was taken
    monkeypatch.setattr(queries, "batch_encoder", lambda *a, **k: None)
    by_row = _rows(engine, sql)
    assert len(by_batch) == 15000
    assert by_batch == by_row
    assert by_batch[1] == [2, "O", pytest.approx(38426.09 / 3), "1996-12-01 00:00:00.003", "NaN"]
    assert by_batch[0][3] == "1996-01-02 00:00:00.002"  # 1.5 ms, rounded half up


def test_a_failure_inside_the_stream_is_duckdbs_error(engine: Engine) -> None:
    # The last of 1,500,000 rows fails, after DuckDB streamed the first ones out.
    sql = (
        "SELECT CAST(CASE WHEN k = 1499999 THEN 'x' ELSE CAST(k AS varchar) END AS bigint) "
        "FROM (SELECT a * 1000 + b AS k FROM UNNEST(sequence(0, 1499)) AS x(a) "
        "CROSS JOIN UNNEST(sequence(0, 999)) AS y(b))"
    )
    session = SessionContext(catalog="tpch", schema="tiny", user="tester")
    pulled = 0
    with pytest.raises(QueryError) as failed:
        for _ in engine.execute(sql, session, query_id="q").rows:
            pulled += 1
    assert pulled > 0
    assert failed.value.error_name == "INVALID_CAST_ARGUMENT"
    assert "'x'" in failed.value.message
