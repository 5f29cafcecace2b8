"""``python -m benchmarks.report``: docs/benchmarks.md and its plots from benchmarks/results/.

Reads every ``benchmarks/results/<name>.json`` and writes the table of the latest figures into
``docs/benchmarks.md`` (between its results markers, leaving the rest of the page alone; the
page is made when missing) and, when matplotlib is installed, the plots in ``docs/img/``: the
failover timelines (``failover_kill.png``, ``failover_hang.png``), each node's share of the
queries over time (``slow_node.png``), the RSS against rows read (``memory.png``, with the
columnar runs of B4c), the rows/s of each way into a DataFrame or a table (``columnar.png``) and
the queries/s and memory per query in flight of the asyncio, threaded and aiotrino clients
(``concurrency_async.png``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.__main__ import BENCHMARKS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOCS = ROOT / "docs"

#: The figures the table shows for each benchmark, in order.
HEADLINE = {
    "overhead_stream": ["trino_rows_per_s", "prestoha_rows_per_s", "prestoha_no_digest_rows_per_s"],
    "overhead_small": ["trino_median_ms", "prestoha_median_ms", "limit_ms"],
    "prefetch": ["sleep_trino_rows_per_s", "sleep_prestoha_rows_per_s", "cpu_ratio"],
    "memory": [
        "fetchmany_growth_small_mib",
        "fetchmany_growth_large_mib",
        "read_sql_growth_small_mib",
        "read_sql_growth_large_mib",
    ],
    "failover_kill": [
        "prestoha_gap_median_s",
        "prestoha_gap_max_s",
        "haproxy_gap_median_s",
        "prestoha_failed_queries",
        "haproxy_failed_queries",
    ],
    "failover_kill_prestodb": [
        "prestoha_gap_median_s",
        "haproxy_gap_median_s",
        "prestoha_failed_queries",
        "haproxy_failed_queries",
    ],
    "failover_hang": [
        "prestoha_gap_median_s",
        "prestoha_gap_max_s",
        "haproxy_gap_median_s",
        "prestoha_failed_queries",
        "haproxy_failed_queries",
    ],
    "slow_node": [
        "prestoha_share_on_slow",
        "prestoha_p95_ms_slow_on",
        "prestoha_p95_ms_slow_off",
        "round_robin_p95_ms",
    ],
    "hedge": ["p99_ms_hedge", "p99_ms_plain", "extra_submissions_hedge", "hedge_events"],
    "midstream": ["fault_free_median_s", "faulted_median_s", "faulted_same_digest", "rows_twice"],
    "memory_columnar": [
        "fetch_record_batch_growth_small_mib",
        "fetch_record_batch_growth_large_mib",
    ],
    "columnar": [
        "fetch_df_rows_per_s",
        "read_sql_rows_per_s",
        "fetch_arrow_table_rows_per_s",
        "trino_fetchall_rows_per_s",
        "df_ratio",
        "arrow_ratio",
    ],
    "concurrency_async": [
        "aio_qps",
        "threads_qps",
        "aiotrino_qps",
        "aio_cpu_ms_per_query",
        "aiotrino_cpu_ms_per_query",
        "aio_rss_kib_per_query",
        "threads_rss_kib_per_query",
        "aiotrino_rss_kib_per_query",
    ],
    "soak": ["reads", "writes", "chaos_actions", "read_availability", "invariants_failed"],
}


def load() -> dict[str, dict[str, Any]]:
    """Each benchmark's result, followed by its labelled runs (``<name>-<label>.json``)."""
    found = {}
    for _, name in [*BENCHMARKS, ("R1", "soak")]:
        path = RESULTS / f"{name}.json"
        if path.exists():
            found[name] = json.loads(path.read_text())
        for labelled in sorted(RESULTS.glob(f"{name}-*.json")):
            found[labelled.stem] = json.loads(labelled.read_text())
    return found


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| id | benchmark | figures | ratio | bar | pass | date |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        figs = r.get("figures", {})
        base = r.get("name", name)
        shown = "; ".join(f"{k} = {figs[k]}" for k in HEADLINE.get(base, []) if k in figs)
        if r.get("label"):
            shown = f"({r.get('what', '')}) " + shown
        if r.get("error"):
            shown += f" (error: {r['error'][:80]})"
        verdict = "yes" if r.get("pass") else "**no**"
        if r.get("label") and not r.get("pass"):
            verdict = "no (a report with other settings, not judged)"
        lines.append(
            f"| {r.get('id')} | `{name}` | {shown} | {r.get('ratio')} | {r.get('bar')} "
            f"| {verdict} | {str(r.get('date', ''))[:10]} |"
        )
    return "\n".join(lines)


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _save(plt: Any, fig: Any, out: Path) -> bool:
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return True


def plot_failover(result: dict[str, Any], out: Path) -> bool:
    """One row per trial: each query a bar from its start to its end, around the fault."""
    plt = _pyplot()
    trials = result.get("details", {}).get("trials", [])
    if plt is None or not trials:
        return False
    clients = ["prestoha", "haproxy"]
    fig, axes = plt.subplots(len(clients), 1, figsize=(10, 5), sharex=True)
    right = max((t["gap_s"] or 0) for t in trials) + 1.5
    colours = {"c1": "tab:blue", "c2": "tab:green", "c3": "tab:purple"}
    for ax, client in zip(axes, clients, strict=True):
        mine = [t for t in trials if t["client"] == client]
        for row, t in enumerate(mine):
            for start, end, node, ok in t["timeline"]:
                colour = colours.get(node or "", "tab:gray") if ok else "tab:red"
                ax.plot([start, end], [row, row], color=colour, linewidth=6, solid_capstyle="butt")
            if t["gap_s"] is not None:
                ax.plot([t["gap_s"]], [row], marker="|", color="black", markersize=14)
        ax.axvline(0, color="black", linestyle="--", linewidth=1)
        ax.set_yticks(range(len(mine)), [f"trial {i + 1}" for i in range(len(mine))])
        baseline = "prestodb.dbapi" if "prestodb" in result["config"] else "trino.dbapi"
        label = "prestoha (leader mode)" if client == "prestoha" else f"HAProxy + {baseline}"
        ax.set_title(label, fontsize=10, loc="left")
        ax.set_xlim(-1.0, right)
    from matplotlib.lines import Line2D

    handles = [
        Line2D([0], [0], color=v, linewidth=6, label=f"ok on {k}") for k, v in colours.items()
    ]
    handles.append(Line2D([0], [0], color="tab:red", linewidth=6, label="failed"))
    axes[0].legend(handles=handles, loc="upper right", fontsize=8, ncol=4)
    axes[-1].set_xlabel("seconds after the fault (dashed line); | = first success on another node")
    fig.suptitle(f"{result['id']} {result['name']}: {result['config'].get('fault', '')}")
    return _save(plt, fig, out)


def plot_slow_node(result: dict[str, Any], out: Path, window: int = 50) -> bool:
    """B7: each node's share of the last ``window`` queries, query after query."""
    plt = _pyplot()
    nodes = result.get("details", {}).get("nodes", {})
    shown = [(k, t) for k, t in (("slow", "prestoha, any mode"), ("round_robin", "round robin"))]
    shown = [(k, t) for k, t in shown if nodes.get(k)]
    if plt is None or not shown:
        return False
    slow = result["details"].get("slow_node", "c3")
    fig, axes = plt.subplots(len(shown), 1, figsize=(10, 5), sharex=True, squeeze=False)
    for ax, (key, title) in zip(axes[:, 0], shown, strict=True):
        seq = nodes[key]
        for node in sorted(set(seq)):
            hits = [1 if n == node else 0 for n in seq]
            share = [
                sum(hits[max(0, i + 1 - window) : i + 1]) / min(i + 1, window)
                for i in range(len(hits))
            ]
            label = f"{node} (200 ms late)" if node == slow else node
            ax.plot(range(1, len(seq) + 1), share, label=label, linewidth=1.5)
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"share of last {window}")
        ax.set_title(title, fontsize=10, loc="left")
        ax.legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("query")
    fig.suptitle(f"{result['id']} {result['name']}: where the queries went")
    return _save(plt, fig, out)


def plot_memory(results: list[dict[str, Any]], out: Path) -> bool:
    """B4: RSS growth against rows read, for the last run of each size and way of reading."""
    plt = _pyplot()
    runs = []
    for result in results:
        batch = result.get("config", {}).get("batch")
        for key, got in sorted(result.get("details", {}).items()):
            if got and isinstance(got, list) and got[-1].get("series"):
                runs.append((f"{key.rsplit('_', 1)[0]}, batch {batch:,}", got[-1]))
    if plt is None or not runs:
        return False
    fig, ax = plt.subplots(figsize=(10, 5))
    for label, got in runs:
        xs = [0] + [x / 1e6 for x, _ in got["series"]]
        ys = [0.0] + [y for _, y in got["series"]]
        ax.plot(xs, ys, marker=".", label=f"{label}, {got['rows'] / 1e6:g}M rows")
    ax.axhline(64, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel("million rows read")
    ax.set_ylabel("RSS above the start (MiB)")
    ax.legend(fontsize=7, ncol=2)
    fig.suptitle("B4 memory: RSS while streaming (dashed: 64 MiB)")
    return _save(plt, fig, out)


def plot_columnar(result: dict[str, Any], out: Path) -> bool:
    """B10: rows/s of each way of reading, every round a dot, the median a bar."""
    plt = _pyplot()
    details = result.get("details", {})
    ways = [
        ("fetch_df", "prestoha fetch_df()"),
        ("read_sql", "pandas.read_sql, trino://"),
        ("fetch_arrow_table", "prestoha fetch_arrow_table()"),
        ("trino_fetchall", "trino.dbapi fetchall()"),
    ]
    ways = [(k, t) for k, t in ways if details.get(k)]
    if plt is None or not ways:
        return False
    fig, ax = plt.subplots(figsize=(10, 4.5))
    colours = ["tab:blue", "tab:gray", "tab:green", "tab:gray"]
    for i, (key, _) in enumerate(ways):
        rates = [r["rows_per_s"] / 1000 for r in details[key]]
        ax.bar(i, sorted(rates)[len(rates) // 2], color=colours[i % 4], alpha=0.6)
        ax.plot([i] * len(rates), rates, "k.", markersize=5)
    ax.set_xticks(range(len(ways)), [t for _, t in ways], fontsize=8)
    ax.set_ylabel("thousand rows/s")
    figures = result.get("figures", {})
    fig.suptitle(
        f"B10 columnar: {result.get('config', {}).get('rows', 0):,} rows; "
        f"fetch_df / read_sql = {figures.get('df_ratio')}, "
        f"fetch_arrow_table / fetchall = {figures.get('arrow_ratio')}"
    )
    return _save(plt, fig, out)


def plot_concurrency(result: dict[str, Any], out: Path) -> bool:
    """B11: queries/s of each client (every round a dot, the median a bar) and the memory
    of one query in flight (RSS growth and traced Python allocations)."""
    plt = _pyplot()
    details = result.get("details", {})
    clients = [
        ("aio", "prestoha.aio\n(one loop)"),
        ("threads", "prestoha\n(threads)"),
        ("aiotrino", "aiotrino\n(one loop)"),
    ]
    clients = [(k, t) for k, t in clients if details.get(k)]
    if plt is None or not clients:
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    colours = {"aio": "tab:blue", "threads": "tab:green", "aiotrino": "tab:gray"}
    for i, (key, _) in enumerate(clients):
        rates = [r["qps"] for r in details[key]]
        left.bar(i, sorted(rates)[len(rates) // 2], color=colours[key], alpha=0.6)
        left.plot([i] * len(rates), rates, "k.", markersize=5)
    left.set_xticks(range(len(clients)), [t for _, t in clients], fontsize=8)
    left.set_ylabel("queries/s")
    left.set_title("throughput", fontsize=10, loc="left")
    memory = details.get("memory", {})
    width = 0.38
    for i, (key, _) in enumerate(clients):
        runs = memory.get(key) or []
        for j, (field, hatch) in enumerate(
            (("rss_kib_per_query", ""), ("traced_kib_per_query", "//"))
        ):
            values = sorted(r[field] for r in runs)
            if values:
                right.bar(
                    i + (j - 0.5) * width,
                    values[len(values) // 2],
                    width,
                    color=colours[key],
                    alpha=0.6,
                    hatch=hatch,
                )
    right.set_xticks(range(len(clients)), [t for _, t in clients], fontsize=8)
    right.set_ylabel("KiB per query in flight")
    right.set_title("memory: RSS growth (plain), traced (hatched)", fontsize=10, loc="left")
    config = result.get("config", {})
    fig.suptitle(
        f"B11 concurrency_async: {config.get('workers')} queries in flight; "
        f"prestoha.aio / aiotrino = {result.get('ratio')}"
    )
    return _save(plt, fig, out)


START = "<!-- results: written by python -m benchmarks.report -->"
END = "<!-- end of results -->"
INTRO = """# Benchmarks

The latest figures of `make bench` (`python -m benchmarks`), taken from
`benchmarks/results/*.json` by `python -m benchmarks.report`. What each benchmark measures and
its bar are in the docstring of its module (`benchmarks/<name>.py`) and in BENCHMARKS.md; every
deciding figure is a ratio of two things measured in the same run, alternating.
"""


def merge(existing: str | None, section: str) -> str:
    """Put ``section`` between the markers of ``existing`` (or at its end); keep the rest."""
    if existing is None:
        return f"{INTRO}\n{section}\n"
    if START in existing and END in existing:
        head, rest = existing.split(START, 1)
        tail = rest.split(END, 1)[1]
        return head + section + tail
    return existing.rstrip("\n") + "\n\n" + section + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    p.add_argument("--skip", default="", help="result files to leave out (comma-separated stems)")
    args = p.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    results = {k: v for k, v in load().items() if k not in skip}
    plots: list[tuple[str, str]] = []
    for name in ("failover_kill", "failover_kill_prestodb", "failover_hang"):
        if name in results and plot_failover(results[name], DOCS / "img" / f"{name}.png"):
            plots.append((name, f"{name} timeline"))
    if "slow_node" in results and plot_slow_node(
        results["slow_node"], DOCS / "img" / "slow_node.png"
    ):
        plots.append(("slow_node", "slow_node: share per node over time"))
    memory = [v for k, v in results.items() if k.startswith(("memory-", "memory_columnar"))]
    memory = [results["memory"], *memory] if "memory" in results else memory
    if plot_memory(memory, DOCS / "img" / "memory.png"):
        plots.append(("memory", "memory: RSS against rows"))
    if "columnar" in results and plot_columnar(results["columnar"], DOCS / "img" / "columnar.png"):
        plots.append(("columnar", "columnar: rows/s into pandas and Arrow"))
    if "concurrency_async" in results and plot_concurrency(
        results["concurrency_async"], DOCS / "img" / "concurrency_async.png"
    ):
        plots.append(("concurrency_async", "concurrency_async: queries/s and memory per query"))
    section = [START, table(results), ""]
    for name, title in plots:
        section += [f"![{title}](img/{name}.png)", ""]
    section.append(END)
    DOCS.mkdir(exist_ok=True)
    target = DOCS / "benchmarks.md"
    target.write_text(merge(target.read_text() if target.exists() else None, "\n".join(section)))
    print(f"wrote docs/benchmarks.md ({len(results)} results, {len(plots)} plots)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
