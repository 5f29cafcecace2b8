"""Arrow decoding of Trino's JSON rows, and the columnar plan verified replay relies on."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import pyarrow as pa
import pytest

from prestoha import errors
from prestoha.dbapi._columnar import ColumnarReads
from prestoha.execution._columnar import ColumnarPlan, ColumnarRows, decode
from prestoha.execution._replay import digest_at, new_digest, row_digest_update
from prestoha.protocol import RowDecoder, arrow_decoding

arrow = arrow_decoding()


def _t(raw: str, *args: Any) -> dict[str, Any]:
    return {
        "rawType": raw,
        "arguments": [{"kind": "LONG", "value": a} if isinstance(a, int) else a for a in args],
    }


def _column(name: str, signature: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "type": signature["rawType"], "typeSignature": signature}


def _decode(signature: dict[str, Any], values: list[Any]) -> pa.Array:
    return arrow.BatchDecoder([_column("c", signature)]).batch([[v] for v in values]).column(0)


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        (_t("timestamp", 0), pa.timestamp("s")),
        (_t("timestamp", 3), pa.timestamp("ms")),
        (_t("timestamp", 6), pa.timestamp("us")),
        (_t("timestamp", 9), pa.timestamp("ns")),
        (_t("timestamp", 12), pa.timestamp("ns")),
        (_t("timestamp with time zone", 6), pa.timestamp("us", tz="UTC")),
        (_t("time", 12), pa.time64("ns")),
        (_t("decimal", 10, 2), pa.decimal128(10, 2)),
        (_t("varchar", 5), pa.string()),
        (_t("json"), pa.string()),
        (_t("HyperLogLog"), pa.binary()),
        (_t("geometry"), pa.string()),
        (_t("unknown"), pa.null()),
    ],
)
def test_arrow_type_of_a_signature(signature: dict[str, Any], expected: pa.DataType) -> None:
    assert arrow.arrow_type(signature) == expected


def test_digits_past_nanoseconds_are_cut() -> None:
    got = _decode(_t("timestamp", 12), ["2001-08-22 12:34:56.123456789999", None])
    assert got.cast(pa.int64()).to_pylist() == [998483696123456789, None]
    time = _decode(_t("time", 12), ["01:02:03.123456789999"])
    assert time.cast(pa.int64()).to_pylist() == [3723123456789]


def test_years_arrow_cannot_parse_are_read_one_by_one() -> None:
    got = _decode(_t("timestamp", 3), ["+12345-01-01 00:00:00.000", "-0001-12-31 23:59:59.999"])
    # numpy.datetime64 agrees (proleptic Gregorian, astronomical years: 0000 is 1 BC)
    assert got.cast(pa.int64()).to_pylist() == [327403382400000, -62167219200001]


def test_a_nanosecond_timestamp_out_of_range_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="lower precision"):
        _decode(_t("timestamp", 9), ["3000-01-01 00:00:00.000000000"])


def test_floats_written_as_text() -> None:
    got = _decode(_t("double"), [1.5, "NaN", "-Infinity", None]).to_pylist()
    assert got[0] == 1.5 and got[1] != got[1] and got[2] == float("-inf") and got[3] is None


def test_map_keys_are_read_back_from_their_text() -> None:
    signature = _t("map", {"kind": "TYPE", "value": _t("bigint")},
                   {"kind": "TYPE", "value": _t("boolean")})  # fmt: skip
    assert _decode(signature, [{"1": True, "-2": None}, None]).to_pylist() == [
        [(1, True), (-2, None)],
        None,
    ]


def test_rows_decoded_as_python_values_become_the_same_batch() -> None:
    columns = [
        _column("ts", _t("timestamp", 3)),
        _column("id", _t("uuid")),
        _column("ym", _t("interval year to month")),
    ]
    wire = [["2001-08-22 12:34:56.123", "12151fd2-7586-11e9-8f9e-2a86e4085a59", "1-2"]]
    mapper = RowDecoder(legacy_primitive_types=False)
    mapper.learn(columns)
    decoder = arrow.BatchDecoder(columns)
    from_python = arrow.python_batch(mapper.rows([list(r) for r in wire]), decoder.schema)
    assert from_python.equals(decoder.batch(wire))
    assert from_python.column(0).to_pylist() == [dt.datetime(2001, 8, 22, 12, 34, 56, 123000)]


# -- the plan and the digest ----------------------------------------------------------------


def test_decoded_columns_live_in_the_system_memory_pool() -> None:
    # pyarrow's default pool keeps freed pages per thread; the arrays are built on the
    # fetching thread and freed on the caller's (B4c).
    columns = [
        _column("i", _t("bigint")),
        _column("s", _t("varchar", 2147483647)),
        _column("d", _t("double")),
        _column("t", _t("timestamp", 3)),
        _column("n", _t("decimal", 10, 2)),
        _column("a", _t("array", {"kind": "TYPE", "value": _t("integer")})),
    ]
    rows = [[i, f"r{i}", i / 7, "2024-01-01 00:00:00.123", "1.50", [i, None]] for i in range(5000)]
    rows.append([None, None, "NaN", None, None, None])
    system, default = pa.system_memory_pool(), pa.default_memory_pool()
    before = system.bytes_allocated(), default.bytes_allocated()
    batch = arrow.BatchDecoder(columns).batch(rows)
    whole = arrow.concat_batches([batch.slice(0, 10), batch.slice(10)])
    assert system.bytes_allocated() - before[0] >= whole.nbytes + batch.nbytes
    if default.backend_name != "system":
        assert default.bytes_allocated() == before[1]


def test_pieces_end_where_the_callers_batches_end() -> None:
    plan = ColumnarPlan(start=0, origin=10, step=100)
    assert plan.pieces(0, 250) == [10, 100, 100, 40]
    assert plan.pieces(250, 100) == [60, 40]
    assert ColumnarPlan(start=0).pieces(5, 7) == [7]
    assert ColumnarPlan(start=0).pieces(5, 0) == []


COLUMNS = [_column("id", _t("bigint")), _column("ts", _t("timestamp", 3))]


def _wire(n: int) -> list[list[Any]]:
    return [[i, f"2024-01-01 00:00:{i % 60:02d}.000"] for i in range(n)]


def _read(pages: list[int], plan: ColumnarPlan | None) -> tuple[list[tuple[Any, Any]], Any]:
    """Decode ``sum(pages)`` rows cut into pages of these sizes; (pages, final digest)."""
    mapper = RowDecoder(legacy_primitive_types=False)
    mapper.learn(COLUMNS)
    batches = arrow.BatchDecoder(COLUMNS)
    digest = new_digest()
    rows = _wire(sum(pages))
    out, first = [], 0
    for size in pages:
        raw = [list(r) for r in rows[first : first + size]]
        got = decode(raw, first=first, plan=plan, keep_raw=True, rows=mapper,
                     batches=batches, digest=digest)  # fmt: skip
        out.append(got)
        first += size
    return out, digest


def test_the_digest_does_not_depend_on_the_pages_or_the_batches() -> None:
    plan = ColumnarPlan(start=130, origin=0, step=100)
    _, one = _read([500], plan)
    _, many = _read([70, 70, 200, 160], plan)
    assert one.digest() == many.digest()
    # ...but on where the rows stopped being digested as Python rows: a read that
    # switched at another row is not taken for the same one.
    _, other = _read([500], ColumnarPlan(start=60, origin=0, step=100))
    assert other.digest() != one.digest()


def test_the_digest_of_rows_handed_out_is_known_at_every_batch_end() -> None:
    plan = ColumnarPlan(start=30, origin=0, step=100)
    pages, _ = _read([70, 250], plan)
    second, before = pages[1]
    assert isinstance(second, ColumnarRows)
    assert [len(b) for b in second.pieces] == [30, 100, 100, 20]
    at_200 = digest_at(before, second, 130)  # rows 0..199
    _, whole = _read([200], plan)
    assert at_200.digest() == whole.digest()
    with pytest.raises(errors.ResultDivergedError):
        digest_at(before, second, 131)


def test_rows_before_the_plan_start_are_digested_as_python_rows() -> None:
    pages, _ = _read([40], ColumnarPlan(start=30))
    rows, before = pages[0]
    python = RowDecoder(legacy_primitive_types=False)
    python.learn(COLUMNS)
    expected = new_digest()
    row_digest_update(expected, python.rows([list(r) for r in _wire(20)]))
    assert digest_at(before, rows, 20).digest() == expected.digest()
    assert rows.batches(25, 40, arrow.BatchDecoder(COLUMNS))[0].num_rows == 5


def test_without_pyarrow_the_methods_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(errors.NotSupportedError, match=r"prestoha\[arrow\]"):
        ColumnarReads().fetch_arrow_table()
    with pytest.raises(errors.NotSupportedError, match=r"prestoha\[arrow\]"):
        ColumnarReads().fetch_record_batch(10)
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(errors.NotSupportedError, match=r"prestoha\[polars\]"):
        ColumnarReads().fetch_polars()
