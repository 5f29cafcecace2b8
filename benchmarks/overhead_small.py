"""B2 overhead_small: median latency of 300 sequential one-row queries, prestoha vs trino.

One coordinator (with its agent and ZooKeeper). Each round sends 300 ``SELECT 1`` through
each client, interleaved query by query (trino, prestoha, prestoha, trino... so neither
always goes first); a round's figure is each client's median latency, and the result the
median over the rounds. Bar: prestoha <= 1.05 x trino + 0.25 ms. The output splits each
client's median into ``execute`` (until the first rows are known) and ``fetch`` (the rest).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from benchmarks import _common as c
from benchmarks._clients import (
    AGENT_DEFAULTS,
    local_cluster,
    prestoha_connect,
    timed_query,
    trino_connect,
)

SQL = "SELECT 1"


def measure(queries: int, rounds: int) -> c.Outcome:
    with local_cluster(1) as cluster:
        tconn = trino_connect(cluster.coordinators[0])
        pconn = prestoha_connect(cluster)
        try:
            tcur, pcur = tconn.cursor(), pconn.cursor()
            for _ in range(20):  # warm up: connection pools, caches, the router's estimate
                timed_query(tcur, SQL)
                timed_query(pcur, SQL)
            t_medians, p_medians = [], []
            t_all: list[float] = []
            p_all: list[float] = []
            parts: dict[str, list[float]] = {"trino": [], "prestoha": []}
            for r in range(rounds):
                t_lat: list[float] = []
                p_lat: list[float] = []
                for i in range(queries):
                    order = (("trino", tcur, t_lat), ("prestoha", pcur, p_lat))
                    for name, cur, into in order if i % 2 == 0 else reversed(order):
                        seconds, executed, rows = _timed(cur)
                        if rows != [[1]]:
                            raise RuntimeError(f"SELECT 1 returned {rows!r}")
                        into.append(seconds)
                        parts[name].append(executed)
                t_medians.append(c.median(t_lat))
                p_medians.append(c.median(p_lat))
                t_all += t_lat
                p_all += p_lat
                c.log(
                    f"round {r + 1}/{rounds}: trino {t_medians[-1] * 1000:.2f} ms, "
                    f"prestoha {p_medians[-1] * 1000:.2f} ms"
                )
        finally:
            pconn.close()
            tconn.close()
    t_med, p_med = c.median(t_medians), c.median(p_medians)
    limit = 1.05 * t_med + 0.00025
    split = {
        f"{name}_{part}_ms": c.rnd(value * 1000, 3)
        for name, executes, total in (
            ("trino", parts["trino"], t_all),
            ("prestoha", parts["prestoha"], p_all),
        )
        for part, value in (
            ("execute", c.median(executes)),
            ("fetch", c.median([t - e for t, e in zip(total, executes, strict=True)])),
        )
    }
    c.log("median split: " + ", ".join(f"{k} {v}" for k, v in split.items()))
    return c.Outcome(
        figures={
            "trino_median_ms": c.rnd(t_med * 1000, 3),
            "prestoha_median_ms": c.rnd(p_med * 1000, 3),
            "limit_ms": c.rnd(limit * 1000, 3),
            "extra_ms": c.rnd((p_med - t_med) * 1000, 3),
            "trino_p95_ms": c.rnd(c.percentile(t_all, 95) * 1000, 3),
            "prestoha_p95_ms": c.rnd(c.percentile(p_all, 95) * 1000, 3),
            **split,
        },
        ratio=c.rnd(p_med / t_med),
        bar="prestoha median <= 1.05 x trino median + 0.25 ms",
        passed=p_med <= limit,
        config={
            "queries_per_round": queries,
            "rounds": rounds,
            "sql": SQL,
            "agent": AGENT_DEFAULTS,
        },
        details={
            "trino_round_medians_ms": [c.rnd(x * 1000, 3) for x in t_medians],
            "prestoha_round_medians_ms": [c.rnd(x * 1000, 3) for x in p_medians],
        },
    )


def _timed(cur: Any) -> tuple[float, float, list[Any]]:
    """Seconds to the last row, seconds of ``execute`` alone, and the rows."""
    began = time.perf_counter()
    cur.execute(SQL)
    executed = time.perf_counter() - began
    rows = cur.fetchall()
    return time.perf_counter() - began, executed, rows


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0], limit=600)
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)
    return c.run(
        "B2",
        "overhead_small",
        "median latency of 300 sequential SELECT 1, prestoha vs trino.dbapi",
        lambda: measure(args.queries, args.rounds),
        args=args,
    )


if __name__ == "__main__":
    sys.exit(main())
