"""A failure of prestoha's own decoding is raised after one attempt, never retried.

Before PrestoDB's parameter kinds were read (``TYPE_SIGNATURE``, ``NAMED_TYPE_SIGNATURE``,
``LONG_LITERAL``: ``com.facebook.presto.common.type.ParameterKind.jsonName``), every row column
of a PrestoDB coordinator failed to decode, and the driver ran the query again and again on
every coordinator before giving up with ``NoCoordinatorError``. These tests put that decoding
back (the kinds unread) and check the driver now stops at the first attempt.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import prestoha
from prestoha.protocol import _presto_values
from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration

ROW = "SELECT CAST(ROW(1, 'x') AS ROW(a integer, b varchar)) AS r"


@pytest.fixture(scope="module")
def presto() -> Iterator[Coordinator]:
    with Coordinator(node_id="decoding", port=0, admin=False, flavor="prestodb") as c:
        yield c


def queries(c: Coordinator) -> int:
    assert c.registry is not None
    return len(c.registry.summaries())


def test_a_row_column_decodes(presto: Coordinator) -> None:
    with prestoha.connect(hosts=[presto.uri], user="u", protocol="presto") as conn:
        cur = conn.cursor()
        cur.execute(ROW)
        ((row,),) = cur.fetchall()
    assert (row.a, row.b) == (1, "x")


def test_a_decoding_bug_is_raised_after_one_attempt(
    presto: Coordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_presto_values, "_KINDS", {})  # the kinds left unread, as before
    before = queries(presto)
    with prestoha.connect(hosts=[presto.uri], user="u", protocol="presto") as conn:
        cur = conn.cursor()
        with pytest.raises(prestoha.InternalError) as info:
            cur.execute(ROW)
            cur.fetchall()
    assert not isinstance(info.value, prestoha.NoCoordinatorError)
    message = str(info.value)
    assert "column 'r' of type 'row(a integer,b varchar)'" in message
    assert "bug in prestoha" in message
    assert queries(presto) - before == 1
