"""The benchmarks' baseline: the real HAProxy in front of emulated coordinators."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trino.dbapi

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks._common import HAPROXY
from benchmarks._haproxy import HAProxy
from prestoha.testing.coordinator.process import EmulatorProcess

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.path.exists(HAPROXY), reason="Debian haproxy is not installed"),
]


@pytest.fixture(scope="module")
def emulators() -> Iterator[list[EmulatorProcess]]:
    with (
        EmulatorProcess(node_id="c1", admin=False) as first,
        EmulatorProcess(node_id="c2", admin=False) as second,
    ):
        yield [first, second]


def _who(uri: str) -> str:
    conn = trino.dbapi.connect(host=uri, user="test")  # type: ignore[no-untyped-call]
    try:
        cur = conn.cursor()
        cur.execute("SELECT node_id FROM system.runtime.nodes")
        return str(cur.fetchall()[0][0])
    finally:
        conn.close()


def test_the_active_server_takes_the_queries_and_is_stopped_on_close(
    emulators: list[EmulatorProcess],
) -> None:
    proxy = HAProxy([("c1", emulators[0].uri), ("c2", emulators[1].uri)])
    with proxy:
        assert proxy.wait_all_up(30) == {"c1": "UP", "c2": "UP"}
        assert {_who(proxy.uri) for _ in range(3)} == {"c1"}
        process = proxy.process
        assert process is not None and process.poll() is None
    assert process.poll() is not None
    assert not proxy.directory.exists()


def test_a_backup_takes_over_once_checks_mark_the_server_down(
    emulators: list[EmulatorProcess],
) -> None:
    # fast checks: this is about the launcher and the backup line, not HAProxy's defaults
    proxy = HAProxy(
        [("c1", emulators[0].uri), ("c2", emulators[1].uri)],
        check="check inter 200ms fall 2 rise 1",
    )
    with proxy:
        proxy.wait_all_up(30)
        emulators[0].kill()
        try:
            deadline = time.monotonic() + 20
            states = proxy.states()
            while not states["c1"].startswith("DOWN") and time.monotonic() < deadline:
                time.sleep(0.1)
                states = proxy.states()
            assert states["c1"].startswith("DOWN")
            assert _who(proxy.uri) == "c2"
        finally:
            emulators[0].restart()
