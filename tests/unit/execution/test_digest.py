from __future__ import annotations

import datetime
import decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from prestoha.execution import new_digest, row_digest_update
from prestoha.execution._replay import _encode_rows_repr

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.binary(max_size=4),
    st.datetimes(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.lists(st.integers(), max_size=3),
)
rows = st.lists(st.lists(values, min_size=1, max_size=4), max_size=30)


def _digest(pages: list[list[Any]]) -> bytes:
    d = new_digest()
    for page in pages:
        row_digest_update(d, page)
    return bytes(d.digest())


@given(rows, st.lists(st.integers(min_value=0, max_value=30), max_size=5))
def test_page_boundaries_do_not_change_the_digest(data: list[Any], cuts: list[int]) -> None:
    points = sorted({min(c, len(data)) for c in cuts})
    pages, start = [], 0
    for p in points:
        pages.append(data[start:p])
        start = p
    pages.append(data[start:])
    assert _digest(pages) == _digest([data])


@given(rows, rows)
def test_different_rows_give_different_digests(a: list[Any], b: list[Any]) -> None:
    if _encode_rows_repr(a) != _encode_rows_repr(b):
        assert _digest([a]) != _digest([b]) or repr(a) == repr(b)


def test_typical_values_are_told_apart() -> None:
    base = [[1, "a", datetime.datetime(2024, 1, 1), decimal.Decimal("1.50")]]
    assert _digest([base]) != _digest(
        [[[1, "a", datetime.datetime(2024, 1, 2), decimal.Decimal("1.50")]]]
    )
    assert _digest([base]) != _digest(
        [[[1, "a", datetime.datetime(2024, 1, 1), decimal.Decimal("1.5")]]]
    )
    assert _digest([base + base]) != _digest([base])
