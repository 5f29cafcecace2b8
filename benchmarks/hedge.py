"""B8 hedge: ``any`` mode over three coordinators that each answer 5 % of queries 1 s late.

prestoha with hedging (``hedge=HedgePolicy()`` with its defaults, or as ``--hedge-after`` and
``--hedge-budget`` say) against prestoha with hedging off, 1000 sequential ``SELECT 1``
each, in alternating chunks. Each chunk opens a fresh connection (the router's state is per
process and cluster, so the two settings never share it) and warms it up with queries that
are not counted. Extra submissions are counted on the coordinators themselves (queries they
registered) against the logical queries sent.
Bar: p99 with hedging <= 0.3 x p99 without; extra submissions <= 10 %.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from benchmarks import _common as c
from benchmarks._clients import AGENT_DEFAULTS, local_cluster, prestoha_connect, timed_query
from prestoha import events
from prestoha.routing import HedgePolicy
from prestoha.testing.cluster import LocalCluster

SQL = "SELECT 1"
P99_BAR = 0.3
EXTRA_BAR = 0.10


def _forget_all(cluster: LocalCluster) -> None:
    for i in range(cluster.size):
        cluster.coordinator(i).admin.forget()


def _registered(cluster: LocalCluster) -> int:
    return sum(len(cluster.coordinator(i).admin.queries()) for i in range(cluster.size))


class _Hedges:
    def __init__(self) -> None:
        self.sent = 0
        self.won = 0
        self.lock = threading.Lock()

    def __call__(self, event: str, **fields: Any) -> None:
        with self.lock:
            self.sent += 1
            self.won += bool(fields.get("won"))


def _chunk(
    cluster: LocalCluster, queries: int, warmup: int, hedge: HedgePolicy | None
) -> dict[str, Any]:
    options: dict[str, Any] = {"mode": "any"}
    if hedge is not None:
        options["hedge"] = hedge
    conn = prestoha_connect(cluster, **options)
    counter = _Hedges()
    try:
        cur = conn.cursor()
        for _ in range(warmup):
            timed_query(cur, SQL)
        # Between chunks nothing runs: the coordinators start the count from zero (their
        # history is bounded, so counting across the whole run would lose the oldest).
        _forget_all(cluster)
        before = _registered(cluster)
        unsubscribe = events.subscribe(counter, frozenset({"hedge"}))
        try:
            lat = [timed_query(cur, SQL)[0] for _ in range(queries)]
        finally:
            unsubscribe()
        after = _registered(cluster)
    finally:
        conn.close()
    return {
        "latencies": lat,
        "submissions": after - before,
        "hedge_events": counter.sent,
        "hedges_won": counter.won,
    }


def measure(
    queries: int, rounds: int, warmup: int, delay_ms: int, share: float, policy: HedgePolicy
) -> c.Outcome:
    per_chunk = max(1, queries // rounds)
    runs: dict[str, list[dict[str, Any]]] = {"hedge": [], "plain": []}
    with local_cluster(3) as cluster:
        for i in range(cluster.size):
            cluster.coordinator(i).admin.set_faults(random_latency={"ms": delay_ms, "share": share})
        for r in range(rounds):
            for label, hedge in (("hedge", policy), ("plain", None)):
                got = _chunk(cluster, per_chunk, warmup, hedge)
                runs[label].append(got)
                c.log(
                    f"round {r + 1}/{rounds} {label}: p99 "
                    f"{c.percentile(got['latencies'], 99) * 1000:.0f} ms, "
                    f"{got['submissions']} submissions for {per_chunk} queries, "
                    f"{got['hedge_events']} hedge events"
                )
    lat = {k: [x for run in v for x in run["latencies"]] for k, v in runs.items()}
    p99 = {k: c.percentile(v, 99) for k, v in lat.items()}
    sent = {k: sum(run["submissions"] for run in v) for k, v in runs.items()}
    n = {k: len(v) for k, v in lat.items()}
    extra = sent["hedge"] / n["hedge"] - 1
    extra_plain = sent["plain"] / n["plain"] - 1
    hedges = sum(run["hedge_events"] for run in runs["hedge"])
    ratio = p99["hedge"] / p99["plain"]
    notes = []
    if hedges == 0 and sent["hedge"] <= n["hedge"]:
        notes.append(
            "no hedge was sent: connect(hedge=HedgePolicy()) had no effect in this build "
            "(hedging is not wired into the execution yet)"
        )
    return c.Outcome(
        figures={
            "p99_ms_hedge": c.rnd(p99["hedge"] * 1000, 1),
            "p99_ms_plain": c.rnd(p99["plain"] * 1000, 1),
            "p50_ms_hedge": c.rnd(c.median(lat["hedge"]) * 1000, 2),
            "p50_ms_plain": c.rnd(c.median(lat["plain"]) * 1000, 2),
            "extra_submissions_hedge": c.rnd(extra),
            "extra_submissions_plain": c.rnd(extra_plain),
            "hedge_events": hedges,
            "round_p99_ratio_median": c.rnd(
                c.median(
                    [
                        c.percentile(h["latencies"], 99) / c.percentile(p["latencies"], 99)
                        for h, p in zip(runs["hedge"], runs["plain"], strict=True)
                    ]
                )
            ),
        },
        ratio=c.rnd(ratio),
        bar=f"p99 with hedging <= {P99_BAR} x p99 without; extra submissions <= {EXTRA_BAR:.0%}",
        passed=ratio <= P99_BAR and extra <= EXTRA_BAR,
        config={
            "queries_per_mode": per_chunk * rounds,
            "rounds": rounds,
            "warmup_per_chunk": warmup,
            "slow": {"ms": delay_ms, "share": share, "on": "every coordinator"},
            "hedge": repr(policy),
            "mode": "any",
            "agent": AGENT_DEFAULTS,
        },
        details={
            k: [
                {
                    "p99_ms": c.rnd(c.percentile(run["latencies"], 99) * 1000, 1),
                    "submissions": run["submissions"],
                    "hedge_events": run["hedge_events"],
                    "hedges_won": run["hedges_won"],
                }
                for run in v
            ]
            for k, v in runs.items()
        },
        notes=notes,
    )


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0], limit=900)
    p.add_argument("--queries", type=int, default=1000, help="per mode (1000)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--warmup", type=int, default=40, help="uncounted queries per chunk")
    p.add_argument("--delay-ms", type=int, default=1000)
    p.add_argument("--share", type=float, default=0.05)
    p.add_argument("--hedge-after", default=None, help="HedgePolicy(after=...): p95, p99, seconds")
    p.add_argument("--hedge-budget", type=float, default=None, help="HedgePolicy(budget=...)")
    args = p.parse_args(argv)
    fields: dict[str, Any] = {}
    if args.hedge_after is not None:
        after = args.hedge_after
        fields["after"] = after if after.startswith("p") else float(after)
    if args.hedge_budget is not None:
        fields["budget"] = args.hedge_budget
    policy = HedgePolicy(**fields)
    return c.run(
        "B8",
        "hedge",
        "any mode, each coordinator 1 s late on 5% of queries: p99 with and without hedging",
        lambda: measure(args.queries, args.rounds, args.warmup, args.delay_ms, args.share, policy),
        args=args,
    )


if __name__ == "__main__":
    sys.exit(main())
