"""``prestoha status`` shows what coordinators and ZooKeeper say without crashing on its shape
and without letting their control characters reach the terminal."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from prestoha.cli.status import _print_status, _status
from prestoha.discovery import Leader, Member, Topology

URI = "http://c1.example:8080"


def topology(node_id: str = "c1", problems: tuple[str, ...] = ()) -> Topology:
    member = Member(node_id=node_id, uri=URI, environment="", version="", state="ACTIVE",
                    registered_at="", zone=None, weight=100)  # fmt: skip
    leader = Leader(node_id=node_id, uri=URI, epoch=3)
    return Topology(members=(member,), leader=leader, stale=False, version=1, problems=problems)


@responses.activate
@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        "a string",
        {"nodeVersion": "479"},
        {"nodeVersion": {"version": {"x": 1}}},
        {"nodeVersion": None, "starting": "yes"},
    ],
)
def test_a_malformed_info_answer_never_crashes(
    body: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    responses.get(f"{URI}/v1/info", json=body)
    _print_status(_status(topology(), "zk1:2181", "default", "/prestoha", 1.0))
    out = capsys.readouterr().out
    assert "c1" in out and "Traceback" not in out


@responses.activate
def test_remote_text_reaches_the_terminal_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    responses.get(f"{URI}/v1/info", json={"nodeVersion": {"version": "479\x1b[2J\nFAKE"}})
    topo = topology(node_id="c1\x1b]0;owned\x07", problems=("bad\rrecord\x1b[31m",))
    _print_status(_status(topo, "zk1:2181", "default", "/prestoha", 1.0))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out
    assert "\\x1b[2J\\nFAKE" in out
    assert len(out.splitlines()) == 5  # one line per item: nothing injected a line break
