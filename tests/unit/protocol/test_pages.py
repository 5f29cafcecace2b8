"""Decoding a coordinator's answer: straight from its bytes, one copy of the rows at a time."""

from __future__ import annotations

import ctypes
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trino.mapper import RowMapperFactory

from prestoha.protocol import RowDecoder, estimated_size, read_status

COLUMNS = [
    {"name": "id", "type": "bigint", "typeSignature": {"rawType": "bigint", "arguments": []}},
    {
        "name": "ts",
        "type": "timestamp(3)",
        "typeSignature": {"rawType": "timestamp", "arguments": [{"kind": "LONG", "value": 3}]},
    },
]


def _mapper() -> Any:
    return RowMapperFactory().create(columns=COLUMNS, legacy_primitive_types=False)


def _map_releasing(mapper: Any, raw: list[Any]) -> list[Any]:
    decoder = RowDecoder(legacy_primitive_types=False)
    decoder.learn(COLUMNS)
    return decoder.rows(raw)


def test_rows_are_mapped_in_order_and_the_json_rows_let_go() -> None:
    raw = [[i, "2024-01-01 00:00:00.000"] for i in range(5000)]
    out = _map_releasing(_mapper(), raw)
    assert [r[0] for r in out] == list(range(5000))
    assert out[4999][1] == dt.datetime(2024, 1, 1)
    assert raw == [None] * 5000


def test_a_small_page_is_mapped_whole() -> None:
    out = _map_releasing(_mapper(), [[7, "2024-01-01 00:00:01.000"]])
    assert out == [[7, dt.datetime(2024, 1, 1, 0, 0, 1)]]


def test_a_status_is_read_from_the_bytes() -> None:
    body = {"id": "q1", "stats": {"state": "RUNNING"}, "data": [[1, None]], "columns": COLUMNS}
    status = read_status(json.dumps(body).encode())
    assert status == body


@pytest.mark.parametrize(
    "body",
    [b"", b"  \n", b"[1, 2]", b'{"stats": {}}', b'{"id": "q1", "error": {"message": "boom"}}'],
)
def test_what_is_not_a_plain_status_goes_to_the_official_client(body: bytes) -> None:
    assert read_status(body) is None


def test_invalid_json_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        read_status(b"<html>proxy error</html>")


def test_the_estimate_counts_python_objects_not_json() -> None:
    rows = [[i, f"name-{i}", i / 7] for i in range(1000)]
    on_the_wire = len(json.dumps(rows))
    assert estimated_size(rows) > 3 * on_the_wire
    assert estimated_size([]) == 0


def _page_body(rows: int) -> tuple[dict[str, Any], bytes]:
    status = {
        "id": "q1",
        "columns": COLUMNS,
        "data": [[i, f'row-{i} \u00e9 "quoted" \\ \n', i / 7, None] for i in range(rows)],
        "stats": {"state": "RUNNING"},
    }
    return status, json.dumps(status).encode()


def test_a_large_page_is_read_as_a_small_one_is() -> None:
    small, small_body = _page_body(3)
    large, large_body = _page_body(20_000)
    assert len(small_body) < 64 * 1024 < len(large_body)
    assert read_status(small_body) == small
    assert read_status(large_body) == large


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in [
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        ]
    ]


def _glibc() -> Any:
    try:
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = _MallInfo2
    except (AttributeError, OSError):
        return None
    return libc


@pytest.mark.skipif(_glibc() is None, reason="glibc's allocator only")
def test_after_a_large_page_glibc_keeps_no_free_scratch() -> None:
    # orjson's scratch buffer (twelve times the page) is freed once the page is read; glibc
    # would keep it at the top of the heap, its touched pages counted in the RSS.
    libc = _glibc()
    _, body = _page_body(20_000)
    for _ in range(3):  # the first scratch may be mmapped; later ones come from the heap
        assert read_status(body) is not None
        assert libc.mallinfo2().keepcost < len(body)


def _compact(status: dict[str, Any]) -> bytes:
    # As Trino writes it (Jackson): no spaces, so rows are separated by "],["
    return json.dumps(status, separators=(",", ":")).encode()


def _pages_read_with_json() -> bool:
    from prestoha.protocol import _pages

    return _pages.loads is json.loads


def _largest_document_read(monkeypatch: pytest.MonkeyPatch, body: bytes) -> tuple[Any, int]:
    from prestoha.protocol import _pages

    sizes: list[int] = []
    real = _pages.loads

    def spy(document: bytes) -> Any:
        sizes.append(len(document))
        return real(document)

    monkeypatch.setattr(_pages, "loads", spy)
    return read_status(body), max(sizes)


@pytest.mark.skipif(_pages_read_with_json(), reason="slices are read with orjson only")
def test_a_large_page_is_read_a_slice_of_rows_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    status, _ = _page_body(20_000)
    body = _compact(status)
    got, largest = _largest_document_read(monkeypatch, body)
    assert got == status
    assert largest < len(body) / 8  # no document near the page's size was read


def _awkward_rows(n: int) -> list[Any]:
    # Row breaks that are not row breaks: "],[" inside strings, between nested arrays, in maps
    return [
        [i, "],[", [[1, 2], [3]], {"k],[": [[4], [5]]}, f'x\\"],[{i}', [], None] for i in range(n)
    ]


@pytest.mark.parametrize("rows", [0, 1, 3_000, 20_000])
def test_rows_that_look_like_row_breaks_are_read_exactly(rows: int) -> None:
    stats = {"a": [[1], [2]]}
    status = {"id": "q1", "columns": COLUMNS, "data": _awkward_rows(rows), "stats": stats}
    assert read_status(_compact(status)) == status


def test_a_page_with_data_in_its_stats_only_is_read_whole() -> None:
    status = {"id": "q1", "stats": {"state": "FINISHED", "pad": ["],["] * 30_000}, "data": []}
    assert read_status(_compact(status)) == status


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='],["\\{}:a é'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(_JSON_VALUES, max_size=4), max_size=30),
    slice_bytes=st.integers(1, 64),
)
def test_any_rows_read_in_slices_are_the_rows_read_whole(rows: list[Any], slice_bytes: int) -> None:
    from prestoha.protocol import _pages

    status = {"id": "q1", "columns": COLUMNS, "data": rows, "stats": {"state": "RUNNING"}}
    body = _compact(status)
    saved = _pages._SLICE_BYTES
    _pages._SLICE_BYTES = slice_bytes  # slice even these small pages, at every byte count
    try:
        assert _pages._loads_in_slices(body) == _pages.loads(body)
    finally:
        _pages._SLICE_BYTES = saved
