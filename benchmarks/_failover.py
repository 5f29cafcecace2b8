"""B5 and B6: the leader coordinator dies (SIGKILL) or hangs (SIGSTOP) under a query loop.

Three coordinators with their agents. One client thread sends a small read query
(``SELECT node_id FROM system.runtime.nodes``, whose one row names the node that ran it)
back to back and records every query's start, end, node and outcome. Trials alternate:

- prestoha (``leader`` mode, found through ZooKeeper);
- the baseline: HAProxy in front of the same three coordinators (the current leader as the
  server, the other two as ``backup``; ``check inter 2s fall 3 rise 2`` on ``/v1/info``),
  driven by the unmodified ``trino.dbapi`` client with its defaults.

In each trial the client runs for a warm-up, then the leader is killed or stopped; the gap
is the time from the fault to the end of the first query that succeeded on another node.
After each trial everything is healed (the node restarted or resumed, all registered, a
leader elected). The timeline of every trial (times relative to the fault) is kept in the
result so it can be plotted.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import _common as c
from benchmarks._clients import (
    AGENT_DEFAULTS,
    local_cluster,
    prestodb_connect,
    prestoha_connect,
    trino_connect,
)
from benchmarks._gap import Recorder, breakdown, election_seconds
from benchmarks._haproxy import HAProxy
from prestoha.testing.cluster import LocalCluster

HAPROXY_CHECK = "check inter 2s fall 3 rise 2"
#: The baseline client for each flavor of emulated coordinators (LocalCluster's ``flavor``).
_BASELINE = {"trino": "trino.dbapi", "presto": "trino.dbapi", "prestodb": "prestodb.dbapi"}
_BASELINE_KEY = {"trino": "trino", "presto": "trino", "prestodb": "prestodb"}
_COORDINATORS = {
    "trino": "coordinators",
    "presto": "coordinators",
    "prestodb": "PrestoDB coordinators",
}


@dataclass
class Query:
    start: float
    end: float
    node: str | None
    error: str | None


class Loop(threading.Thread):
    """Runs ``one()`` (which returns the serving node's id) back to back until stopped."""

    def __init__(self, one: Callable[[], str]) -> None:
        super().__init__(name="bench-client", daemon=True)
        self.one = one
        self.queries: list[Query] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.stopping.is_set():
            began = time.monotonic()
            node: str | None = None
            error: str | None = None
            try:
                node = self.one()
            except Exception as exc:
                error = f"{type(exc).__name__}: {str(exc)[:300]}"
            with self.lock:
                self.queries.append(Query(began, time.monotonic(), node, error))

    def snapshot(self) -> list[Query]:
        with self.lock:
            return list(self.queries)


def _who(cur: Any) -> str:
    cur.execute(c.WHO_SQL)
    rows = cur.fetchall()
    return str(rows[0][0])


def _first_success(queries: list[Query], after: float, not_node: str) -> Query | None:
    for q in queries:
        if q.error is None and q.end > after and q.node != not_node:
            return q
    return None


def trial(
    cluster: LocalCluster,
    client: str,
    fault: str,
    *,
    warmup: float,
    window: float,
    tail: float,
    prestoha_options: dict[str, Any],
    flavor: str = "trino",
) -> dict[str, Any]:
    """One trial; its gap, failures and timeline."""
    cluster.heal()
    leader = cluster.wait_for_leader(30)
    li = cluster.index(leader.node_id)
    proxy: HAProxy | None = None
    conn: Any = None
    loop: Loop | None = None
    recorder: Recorder | None = None
    try:
        if client == "haproxy":
            order = [li] + [i for i in range(cluster.size) if i != li]
            servers = [(cluster.node_ids[i], cluster.coordinators[i]) for i in order]
            proxy = HAProxy(servers, check=HAPROXY_CHECK).start()
            proxy.wait_all_up(30)
            # the baseline speaks the coordinators' own protocol
            conn = prestodb_connect(proxy.uri) if flavor == "prestodb" else trino_connect(proxy.uri)
        else:
            conn = prestoha_connect(cluster, **prestoha_options)
        cur = conn.cursor()
        loop = Loop(lambda: _who(cur))
        loop.start()
        time.sleep(warmup)
        before = loop.snapshot()
        served = {q.node for q in before if q.error is None}
        if served != {leader.node_id}:
            raise RuntimeError(
                f"{client}: before the fault queries went to {served}, not the leader"
            )
        if client == "prestoha":
            recorder = Recorder()
        t_fault, fault_wall = time.monotonic(), time.time()
        if fault == "kill":
            cluster.kill(li)
        else:
            cluster.stop(li)
        deadline = t_fault + window
        first: Query | None = None
        while time.monotonic() < deadline:
            first = _first_success(loop.snapshot(), t_fault, leader.node_id)
            if first is not None:
                break
            time.sleep(0.02)
        time.sleep(tail)
        if fault == "hang":
            cluster.cont(li)  # releases a request the client may still wait on
        loop.stopping.set()
        loop.join(60)
    finally:
        seen = recorder.close() if recorder is not None else []
        if loop is not None:
            loop.stopping.set()
        if fault == "hang":
            cluster.cont(li)
        if loop is not None:
            loop.join(60)
        if conn is not None:
            conn.close()
        if proxy is not None:
            proxy.close()
    queries = loop.snapshot()
    gap = (first.end - t_fault) if first is not None else None
    failed = [q for q in queries if q.error is not None]
    horizon = (gap if gap is not None else window) + tail
    timeline = [
        [round(q.start - t_fault, 4), round(q.end - t_fault, 4), q.node, q.error is None]
        for q in queries
        if q.end >= t_fault - 1.0 and q.start <= t_fault + horizon
    ]
    split = None
    if client == "prestoha":
        election = election_seconds(
            cluster.zk_hosts, f"{cluster.root}/{cluster.cluster}/leader", fault_wall, leader.node_id
        )
        split = breakdown(seen, t_fault, cluster.coordinators[li], gap, election)
    return {
        "client": client,
        "fault": fault,
        "leader": leader.node_id,
        "gap_s": c.rnd(gap, 4),
        "breakdown": split,
        "censored": gap is None,
        "queries": len(queries),
        "queries_before_fault": len(before),
        "failed": len(failed),
        "errors": sorted({f.error or "" for f in failed})[:10],
        "next_node": first.node if first else None,
        "timeline": timeline,
    }


def measure(fault: str, args: argparse.Namespace, flavor: str = "trino") -> c.Outcome:
    # (every trial <=, median <= (None: no separate bar), baseline / prestoha >=)
    worst_bar, median_bar, ratio_bar = (0.3, 0.2, 20.0) if fault == "kill" else (1.2, None, 2.0)
    options: dict[str, Any] = {"mode": "leader"}
    if args.request_timeout is not None:
        options["request_timeout"] = args.request_timeout
    agent = dict(AGENT_DEFAULTS)
    for key, value in (
        ("interval", args.agent_interval),
        ("check_timeout", args.agent_check_timeout),
        ("fall", args.agent_fall),
    ):
        if value is not None:
            agent[key] = value
    trials: list[dict[str, Any]] = []
    with local_cluster(
        3,
        agent_interval=agent["interval"],
        fall=agent["fall"],
        agent_args=("--check-timeout", str(agent["check_timeout"])),
        flavor=flavor,
    ) as cluster:
        for i in range(args.trials):
            for client in ("prestoha", "haproxy"):
                t = trial(
                    cluster,
                    client,
                    fault,
                    warmup=args.warmup,
                    window=args.window,
                    tail=args.tail,
                    prestoha_options=options,
                    flavor=flavor,
                )
                trials.append(t)
                c.log(
                    f"trial {i + 1}/{args.trials} {client}: gap {t['gap_s']} s, "
                    f"{t['failed']} failed of {t['queries']}"
                )
                if t["breakdown"]:
                    c.log("  " + ", ".join(f"{k} {v}" for k, v in t["breakdown"].items()))

    def gaps(client: str) -> list[float]:
        return [
            t["gap_s"] if t["gap_s"] is not None else args.window
            for t in trials
            if t["client"] == client
        ]

    p_gap, h_gap = c.median(gaps("prestoha")), c.median(gaps("haproxy"))
    p_worst = max(gaps("prestoha"))
    p_failed = sum(t["failed"] for t in trials if t["client"] == "prestoha")
    h_failed = sum(t["failed"] for t in trials if t["client"] == "haproxy")
    ratio = h_gap / p_gap if p_gap > 0 else None
    passed = (
        p_failed == 0
        and p_worst <= worst_bar
        and (median_bar is None or p_gap <= median_bar)
        and ratio is not None
        and ratio >= ratio_bar
    )
    splits = [t["breakdown"] for t in trials if t["client"] == "prestoha" and t["breakdown"]]
    where = {
        key: c.rnd(c.median(values), 4) if values else None
        for key in ("detection_s", "resubmission_s", "query_s", "rest_s", "election_s")
        for values in [[float(b[key]) for b in splits if b.get(key) is not None]]
    }
    c.log("prestoha gap, median of each part: " + ", ".join(f"{k} {v}" for k, v in where.items()))
    censored = sum(1 for t in trials if t["censored"])
    notes = []
    if censored:
        notes.append(
            f"{censored} trial(s) saw no success within {args.window:g} s; "
            f"counted as {args.window:g} s"
        )
    return c.Outcome(
        figures={
            "prestoha_gap_median_s": c.rnd(p_gap, 3),
            "prestoha_gap_max_s": c.rnd(p_worst, 3),
            "prestoha_gap_parts_median_s": where,
            "haproxy_gap_median_s": c.rnd(h_gap, 3),
            "prestoha_failed_queries": p_failed,
            "haproxy_failed_queries": h_failed,
            "prestoha_gaps_s": gaps("prestoha"),
            "haproxy_gaps_s": gaps("haproxy"),
        },
        ratio=c.rnd(ratio, 3),
        bar=(
            f"prestoha: 0 failed queries, every gap <= {worst_bar:g} s"
            + (f", gap median <= {median_bar:g} s" if median_bar is not None else "")
            + f"; haproxy gap / prestoha gap >= {ratio_bar:g}"
        ),
        passed=passed,
        config={
            "trials_per_client": args.trials,
            "fault": "SIGKILL of the leader" if fault == "kill" else "SIGSTOP of the leader",
            "query": c.WHO_SQL,
            "prestoha": {**options, "request_timeout": args.request_timeout or "default"},
            "coordinators": flavor,
            _BASELINE_KEY[flavor]: f"{_BASELINE[flavor]} defaults (max_attempts 3, "
            "request_timeout 30 s)",
            "haproxy": f"1 server + 2 backup, {HAPROXY_CHECK}, option httpchk GET /v1/info, "
            "timeouts connect 5s client 50s server 50s",
            "agent": agent,
            "warmup_s": args.warmup,
            "window_s": args.window,
        },
        details={"trials": trials},
        notes=notes,
    )


def main(
    fault: str, bench_id: str, name: str, argv: list[str] | None, flavor: str = "trino"
) -> int:
    doc = "SIGKILL" if fault == "kill" else "SIGSTOP"
    p = c.parser(f"{bench_id} {name}: {doc} the leader under a query loop", limit=1500)
    p.add_argument("--trials", type=int, default=5, help="trials per client (5)")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--window", type=float, default=30.0 if fault == "kill" else 90.0)
    p.add_argument("--tail", type=float, default=1.0)
    p.add_argument(
        "--request-timeout", type=float, default=None, help="prestoha's (default: its own)"
    )
    p.add_argument("--agent-interval", type=float, default=None, help="(the agent's default)")
    p.add_argument("--agent-check-timeout", type=float, default=None, help="(the agent's default)")
    p.add_argument("--agent-fall", type=int, default=None, help="(the agent's default)")
    args = p.parse_args(argv)
    return c.run(
        bench_id,
        name,
        f"{doc} the leader of 3 {_COORDINATORS[flavor]} under back-to-back small reads: "
        f"prestoha vs HAProxy + {_BASELINE[flavor]}",
        lambda: measure(fault, args, flavor),
        args=args,
    )
