"""The pure logic of the benchmarks: statistics, digests, HAProxy's config, the soak's verdict."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import _common as c
from benchmarks._haproxy import HAProxy
from benchmarks._soak_workload import Record
from benchmarks.report import END, START, merge
from benchmarks.soak import _EventCount, verdict


def test_percentile_interpolates_between_ranks() -> None:
    assert c.median([3.0, 1.0, 2.0]) == 2.0
    assert c.median([1.0, 2.0, 3.0, 4.0]) == 2.5
    assert c.percentile([float(i) for i in range(101)], 95) == 95.0
    assert c.percentile([10.0, 20.0], 75) == 17.5


def test_percentile_of_nothing_is_nan_and_rounds_to_none() -> None:
    assert c.rnd(c.median([])) is None
    assert c.rnd(1.234567, 2) == 1.23


def test_row_digest_ignores_batch_boundaries() -> None:
    rows = [[i, f"r{i}", i / 7] for i in range(10)]
    whole = c.row_digest(rows).hexdigest()
    parts = c.row_digest(rows[:3])
    c.row_digest(rows[3:7], parts)
    c.row_digest(rows[7:], parts)
    assert parts.hexdigest() == whole
    assert c.row_digest(rows[:9]).hexdigest() != whole


def test_alternate_runs_a_then_b_each_round() -> None:
    order: list[str] = []

    def a(i: int) -> int:
        order.append(f"a{i}")
        return i

    def b(i: int) -> str:
        order.append(f"b{i}")
        return f"b{i}"

    got_a, got_b = c.alternate(3, a, b)
    assert order == ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert got_a == [0, 1, 2] and got_b == ["b0", "b1", "b2"]


def test_stream_sql_asks_for_exactly_the_rows() -> None:
    sql = c.stream_sql(1500, ordered=True)
    assert "WHERE id < 1500" in sql and sql.endswith("ORDER BY id")
    assert "sequence(0, 1)" in sql  # two outer values of 1000 cover 1500 rows


def test_haproxy_config_has_one_active_server_and_backups() -> None:
    proxy = HAProxy([("c1", "http://127.0.0.1:1001"), ("c2", "http://127.0.0.1:1002")])
    try:
        text = proxy.config()
    finally:
        proxy.close()
    assert "option httpchk GET /v1/info" in text
    assert "server c1 127.0.0.1:1001 check inter 2s fall 3 rise 2\n" in text
    assert "server c2 127.0.0.1:1002 check inter 2s fall 3 rise 2 backup" in text


def test_haproxy_states_reads_the_stats_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = HAProxy([("c1", "http://127.0.0.1:1001")])
    csv = (
        "# pxname,svname,qcur,status,weight\n"
        "trino,FRONTEND,,OPEN,\n"
        "coordinators,c1,0,UP,1\n"
        "coordinators,c2,0,DOWN,1\n"
        "coordinators,BACKEND,0,UP,1\n"
    )
    monkeypatch.setattr(proxy, "command", lambda line: csv)
    try:
        assert proxy.states() == {"c1": "UP", "c2": "DOWN"}
    finally:
        proxy.close()


def _write(token: str, outcome: str) -> Record:
    return Record("write", token, 1.0, 2.0, outcome)


def _read(outcome: str) -> Record:
    return Record("read", "nation", 1.0, 2.0, outcome)


def _verdict(records: list[Record], table: dict[str, int]) -> c.Outcome:
    counts = ((20, 5), (20, 5))
    return verdict(records, table, counts, [], [], _EventCount(), 1.0, 0.0)


def test_soak_verdict_accepts_writes_that_match_their_outcomes() -> None:
    records = [
        _write("w-1", "ok"),
        _write("w-2", "unknown"),
        _write("w-3", "unknown"),
        _write("w-4", "typed"),
        *[_read("ok")] * 10,
    ]
    out = _verdict(records, {"w-1": 1, "w-2": 1})
    assert out.passed
    assert out.figures["invariants_failed"] == []


@pytest.mark.parametrize(
    ("records", "table", "broken"),
    [
        ([_write("w-1", "ok")], {"w-1": 2}, {"duplicated_writes", "writes_match_outcomes"}),
        ([_write("w-1", "ok")], {}, {"writes_match_outcomes"}),
        ([_write("w-1", "typed")], {"w-1": 1}, {"writes_match_outcomes"}),
        ([_write("w-1", "ok")], {"w-1": 1, "ghost": 1}, {"writes_match_outcomes"}),
        ([_read("wrong")] + [_read("ok")] * 999, {}, {"wrong_results"}),
        ([_read("untyped")] + [_read("ok")] * 999, {}, {"wrong_results"}),
        ([_read("typed")] + [_read("ok")] * 99, {}, {"read_availability"}),
    ],
)
def test_soak_verdict_names_the_broken_invariant(
    records: list[Record], table: dict[str, int], broken: set[str]
) -> None:
    if not any(r.kind == "read" for r in records):
        records = [*records, _read("ok")]
    out = _verdict(records, table)
    assert not out.passed
    assert set(out.figures["invariants_failed"]) == broken


def test_soak_verdict_fails_on_descriptor_growth() -> None:
    out = verdict([_read("ok")], {}, ((20, 5), (23, 5)), [], [], _EventCount(), 1.0, 0.0)
    assert out.figures["invariants_failed"] == ["fds_and_threads"]


def test_report_merge_replaces_only_the_results_section() -> None:
    page = f"# Benchmarks\n\nprose\n\n{START}\nold table\n{END}\n\nmore prose\n"
    merged = merge(page, f"{START}\nnew table\n{END}")
    assert "new table" in merged and "old table" not in merged
    assert merged.startswith("# Benchmarks\n\nprose") and merged.endswith("more prose\n")
    assert "new table" in merge("# Hand written\n", f"{START}\nnew table\n{END}")
    assert merge(None, f"{START}\nt\n{END}").startswith("# Benchmarks")


def test_report_plots_the_share_per_node_and_the_rss_series(tmp_path: Path) -> None:
    from benchmarks.report import plot_memory, plot_slow_node

    slow = {
        "id": "B7",
        "name": "slow_node",
        "details": {
            "slow_node": "c3",
            "nodes": {"slow": ["c1", "c2"] * 50, "round_robin": ["c1", "c2", "c3"] * 30},
        },
    }
    assert plot_slow_node(slow, tmp_path / "slow.png")
    memory = {
        "config": {"batch": 10_000},
        "details": {
            "fetchmany_1000000": [
                {"rows": 1_000_000, "series": [[500_000, 10.5], [1_000_000, 11.0]]}
            ],
            "fetchmany_5000000": [{"rows": 5_000_000, "series": []}],
        },
    }
    assert plot_memory([memory], tmp_path / "memory.png")
    for name in ("slow.png", "memory.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
    # nothing to draw: no file, and False
    assert not plot_memory([{"details": {}}], tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()
