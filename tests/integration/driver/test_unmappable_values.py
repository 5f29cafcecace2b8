"""A value with no Python counterpart fails the read at once, as the trino client does.

The answer is well formed and every coordinator would send the same value, so running the
query again elsewhere cannot help: prestoha raises ``UnmappableValueError`` (also the trino
client's ``TrinoDataError``) after one attempt, never ``NoCoordinatorError`` after many.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trino.dbapi
import trino.exceptions

import prestoha
from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration

# Each value is valid in Trino and beyond what Python's types hold: a date after 9999
# (io.trino.spi.type.SqlDate prints it as +10000-01-01), alone and inside an array.
UNMAPPABLE = ["DATE '9999-12-31' + INTERVAL '1' DAY", "ARRAY[DATE '9999-12-31' + INTERVAL '1' DAY]"]


@pytest.fixture(scope="module")
def coordinator() -> Iterator[Coordinator]:
    with Coordinator(node_id="unmappable", port=0, admin=False) as c:
        yield c


@pytest.mark.parametrize("expression", UNMAPPABLE)
def test_the_trino_client_cannot_map_it_either(coordinator: Coordinator, expression: str) -> None:
    host, port = coordinator.uri.removeprefix("http://").rsplit(":", 1)
    cur = trino.dbapi.connect(host=host, port=int(port), user="u").cursor()
    with pytest.raises(trino.exceptions.TrinoDataError):
        cur.execute(f"SELECT {expression}")
        cur.fetchall()


@pytest.mark.parametrize("expression", UNMAPPABLE)
def test_it_is_raised_after_one_attempt(coordinator: Coordinator, expression: str) -> None:
    conn = prestoha.connect(hosts=[coordinator.uri], user="u")
    cur = conn.cursor()
    with pytest.raises(prestoha.UnmappableValueError) as info:
        cur.execute(f"SELECT {expression}")
        cur.fetchall()
    assert isinstance(info.value, trino.exceptions.TrinoDataError)
    assert isinstance(info.value, prestoha.DataError)
    assert "Could not convert" in str(info.value)
    conn.close()


def test_legacy_primitive_types_return_the_text(coordinator: Coordinator) -> None:
    conn = prestoha.connect(hosts=[coordinator.uri], user="u", legacy_primitive_types=True)
    cur = conn.cursor()
    cur.execute(f"SELECT {UNMAPPABLE[0]}")
    assert cur.fetchall() == [["+10000-01-01"]]
    conn.close()
