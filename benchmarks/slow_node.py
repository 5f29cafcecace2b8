"""B7 slow_node: ``any`` mode over three coordinators, one of which answers 200 ms late.

Each round runs 500 sequential ``SELECT 1`` through a fresh prestoha connection in ``any``
mode twice: with the slow node slowed (every response 200 ms late) and with the delay off.
The baseline is round-robin over the same three coordinators (what HAProxy's
``balance roundrobin`` does), through ``trino.dbapi``, with the slow node slowed.
Bar: <= 5 % of prestoha's queries on the slow node, and its p95 latency <= 1.15 x its p95
with the delay switched off.
"""

from __future__ import annotations

import itertools
import sys
from typing import Any

from benchmarks import _common as c
from benchmarks._clients import (
    AGENT_DEFAULTS,
    local_cluster,
    prestoha_connect,
    timed_query,
    trino_connect,
)
from prestoha.testing.cluster import LocalCluster

SQL = "SELECT 1"
SHARE_BAR = 0.05
P95_BAR = 1.15


def _prestoha(cluster: LocalCluster, queries: int, slow_uri: str) -> dict[str, Any]:
    conn = prestoha_connect(cluster, mode="any")
    try:
        cur = conn.cursor()
        lat, on_slow, nodes = [], 0, []
        for _ in range(queries):
            seconds, _rows = timed_query(cur, SQL)
            lat.append(seconds)
            on_slow += cur.coordinator == slow_uri
            nodes.append(_node_name(cluster, cur.coordinator))
    finally:
        conn.close()
    return {"latencies": lat, "on_slow": on_slow, "nodes": nodes}


def _node_name(cluster: LocalCluster, uri: str | None) -> str:
    return f"c{cluster.coordinators.index(uri) + 1}" if uri in cluster.coordinators else "?"


def _round_robin(cluster: LocalCluster, queries: int, slow: int) -> dict[str, Any]:
    conns = [trino_connect(uri) for uri in cluster.coordinators]
    try:
        curs = [conn.cursor() for conn in conns]
        lat, on_slow, nodes = [], 0, []
        for _, i in zip(range(queries), itertools.cycle(range(len(curs))), strict=False):
            seconds, _rows = timed_query(curs[i], SQL)
            lat.append(seconds)
            on_slow += i == slow
            nodes.append(f"c{i + 1}")
    finally:
        for conn in conns:
            conn.close()
    return {"latencies": lat, "on_slow": on_slow, "nodes": nodes}


def measure(queries: int, rounds: int, baseline_rounds: int, delay_ms: int) -> c.Outcome:
    runs: dict[str, list[dict[str, Any]]] = {"slow": [], "off": [], "round_robin": []}
    with local_cluster(3) as cluster:
        slow = 2
        slow_uri = cluster.coordinators[slow]
        warm = prestoha_connect(cluster, mode="any")
        for _ in range(30):
            timed_query(warm.cursor(), SQL)
        warm.close()
        for r in range(rounds):
            cluster.set_delay(slow, delay_ms)
            runs["slow"].append(_prestoha(cluster, queries, slow_uri))
            if r < baseline_rounds:
                runs["round_robin"].append(_round_robin(cluster, queries, slow))
            cluster.set_delay(slow, 0)
            runs["off"].append(_prestoha(cluster, queries, slow_uri))
            s, o = runs["slow"][-1], runs["off"][-1]
            c.log(
                f"round {r + 1}/{rounds}: slow on: {s['on_slow']} of {queries} on the slow "
                f"node, p95 {c.percentile(s['latencies'], 95) * 1000:.1f} ms; slow off: p95 "
                f"{c.percentile(o['latencies'], 95) * 1000:.1f} ms"
            )
    p95 = {k: [c.percentile(x["latencies"], 95) for x in v] for k, v in runs.items()}
    share = {k: [x["on_slow"] / queries for x in v] for k, v in runs.items()}
    ratios = [a / b for a, b in zip(p95["slow"], p95["off"], strict=True)]
    share_med = c.median(share["slow"])
    ratio = c.median(ratios)
    return c.Outcome(
        figures={
            "prestoha_share_on_slow": c.rnd(share_med),
            "prestoha_share_on_slow_max": c.rnd(max(share["slow"])),
            "prestoha_p95_ms_slow_on": c.rnd(c.median(p95["slow"]) * 1000, 2),
            "prestoha_p95_ms_slow_off": c.rnd(c.median(p95["off"]) * 1000, 2),
            "round_robin_share_on_slow": c.rnd(c.median(share["round_robin"])),
            "round_robin_p95_ms": c.rnd(c.median(p95["round_robin"]) * 1000, 2),
            "round_robin_median_ms": c.rnd(
                c.median([c.median(x["latencies"]) for x in runs["round_robin"]]) * 1000, 2
            ),
            "prestoha_median_ms_slow_on": c.rnd(
                c.median([c.median(x["latencies"]) for x in runs["slow"]]) * 1000, 2
            ),
        },
        ratio=c.rnd(ratio),
        bar=f"<= {SHARE_BAR:.0%} of queries on the slow node; p95 <= {P95_BAR} x p95 without it",
        passed=share_med <= SHARE_BAR and ratio <= P95_BAR,
        config={
            "queries": queries,
            "rounds": rounds,
            "baseline_rounds": baseline_rounds,
            "delay_ms": delay_ms,
            "sql": SQL,
            "mode": "any",
            "agent": AGENT_DEFAULTS,
        },
        details={
            "p95_ms": {k: [c.rnd(x * 1000, 2) for x in v] for k, v in p95.items()},
            "share_on_slow": {k: [c.rnd(x) for x in v] for k, v in share.items()},
            # the node of every query of the first round, for the share-over-time plot
            "nodes": {k: v[0]["nodes"] for k, v in runs.items() if v},
            "slow_node": f"c{slow + 1}",
        },
    )


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0], limit=900)
    p.add_argument("--queries", type=int, default=500)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--baseline-rounds", type=int, default=2)
    p.add_argument("--delay-ms", type=int, default=200)
    args = p.parse_args(argv)
    return c.run(
        "B7",
        "slow_node",
        "any mode with one coordinator 200 ms late: share on it and p95, vs round robin",
        lambda: measure(args.queries, args.rounds, args.baseline_rounds, args.delay_ms),
        args=args,
    )


if __name__ == "__main__":
    sys.exit(main())
