"""The demo's bookkeeping and its summary, without a cluster (the real run is an integration
test: tests/integration/test_demo.py)."""

from __future__ import annotations

import importlib.util
import time
from typing import Any

import pytest
from click.testing import CliRunner

from prestoha.cli import cli
from prestoha.testing.commands.demo_view import summary_lines
from prestoha.testing.commands.scenario import Tally


def test_the_gap_runs_from_the_kill_to_the_first_success_elsewhere() -> None:
    t = Tally()
    began = time.monotonic()
    t.success("c1", attempts=1, began=began, rows=5)
    t.killed_node, t.kill_at = "c1", time.monotonic()
    t.success("c1", attempts=1, began=began, rows=5)  # finished on c1 from its buffers
    assert t.first_after_kill is None
    t.success("c2", attempts=2, began=began, rows=5)
    assert t.first_after_kill is not None and t.first_after_kill >= t.kill_at
    assert t.first_after_kill_node == "c2"
    assert t.slowest_across_kill > 0
    assert (t.ok, t.moved, t.rows_checked) == (3, 1, 15)
    assert t.served == {"c1": 2, "c2": 1}
    t.failure("ProgrammingError: boom")
    assert (t.failed, t.errors) == (1, ["ProgrammingError: boom"])


def summary(**changes: Any) -> dict[str, Any]:
    s: dict[str, Any] = {
        "queries": 10, "succeeded": 10, "failures": 0, "failovers": 2, "resubmissions": 2,
        "verified_replays": 1, "replayed_rows": 5000, "rows_checked": 70_000,
        "node_down_marks": 1, "killed": "c1", "new_leader": "c2", "gap_seconds": 0.25,
        "gap_served_by": "c2", "slowest_query_across_kill_seconds": 1.5,
        "election_seconds": 0.2, "rejoined_seconds": 1.1, "served_by": {"c1": 4, "c2": 6},
        "threads": 4, "mode": "leader", "seconds": 12.0, "errors": [],
    }  # fmt: skip
    s.update(changes)
    return s


def test_summary_lines_say_what_happened() -> None:
    lines = dict(summary_lines(summary()))
    assert lines["queries"] == "10 succeeded, 0 failed, in 12.0 s"
    assert lines["gap"] == "0.25 s from the SIGKILL to the next successful query (on c2)"
    assert "2 queries moved" in lines["failovers"] and "5,000 rows" in lines["failovers"]
    assert lines["served by"] == "c1 4 · c2 6"
    assert lines["failures"] == "0"


def test_summary_lines_when_nothing_came_after_the_kill() -> None:
    s = summary(
        gap_seconds=None, election_seconds=None, rejoined_seconds=None, failures=2,
        errors=["NoCoordinatorError: no coordinator could take the query\nattempts (3):"],
    )  # fmt: skip
    lines = summary_lines(s)
    text = dict(lines)
    assert text["gap"] == "no query succeeded after the kill"
    assert text["ZooKeeper"] == "no new leader was elected"
    assert ("error", "NoCoordinatorError: no coordinator could take the query") in lines


def test_without_the_emulator_the_demo_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "duckdb" else real(name, *a)
    )
    result = CliRunner().invoke(cli, ["demo", "--json"])
    assert result.exit_code == 1
    assert "pip install 'prestoha[testing]'" in result.output
