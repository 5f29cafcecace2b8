"""B1 overhead_stream: rows/s streaming 1,000,000 rows through prestoha and through trino.

One coordinator (with its agent and ZooKeeper), the same query of (bigint, varchar, double,
timestamp) rows, fetched with ``fetchmany(10000)``; runs alternate trino, prestoha, trino...
Bar: prestoha's median rate >= 0.97 x trino's. A third, informative series runs prestoha with
``resume='restart-only'``, which keeps no digest of handed-out rows, so the cost of verified
replay is visible on its own.
"""

from __future__ import annotations

import sys
from typing import Any

from benchmarks import _common as c
from benchmarks._clients import (
    AGENT_DEFAULTS,
    Stream,
    local_cluster,
    prestoha_connect,
    stream,
    trino_connect,
)

BAR = 0.97


def measure(rows: int, rounds: int, batch: int) -> c.Outcome:
    sql = c.stream_sql(rows)
    with local_cluster(1) as cluster:
        uri = cluster.coordinators[0]
        tconn = trino_connect(uri)
        pconn = prestoha_connect(cluster)
        plain = prestoha_connect(cluster, resume="restart-only")
        try:
            for conn in (tconn, pconn, plain):
                stream(conn, c.stream_sql(20_000), batch=batch)  # warm up
            series: dict[str, list[Stream]] = {"trino": [], "prestoha": [], "no_digest": []}
            for i in range(rounds):
                for label, conn in (("trino", tconn), ("prestoha", pconn), ("no_digest", plain)):
                    s = stream(conn, sql, batch=batch)
                    if s.rows != rows:
                        raise RuntimeError(f"{label}: expected {rows} rows, got {s.rows}")
                    series[label].append(s)
                    c.log(
                        f"round {i + 1}/{rounds} {label}: {s.rate:,.0f} rows/s ({s.seconds:.2f} s)"
                    )
        finally:
            pconn.close()
            plain.close()
            tconn.close()
    rates = {k: [s.rate for s in v] for k, v in series.items()}
    med = {k: c.median(v) for k, v in rates.items()}
    ratio = med["prestoha"] / med["trino"]
    per_round = [p / t for p, t in zip(rates["prestoha"], rates["trino"], strict=True)]
    figures: dict[str, Any] = {
        "trino_rows_per_s": round(med["trino"]),
        "prestoha_rows_per_s": round(med["prestoha"]),
        "prestoha_no_digest_rows_per_s": round(med["no_digest"]),
        "ratio_no_digest": c.rnd(med["no_digest"] / med["trino"]),
        "ratio_per_round_median": c.rnd(c.median(per_round)),
    }
    details = {
        k: [
            {"rows_per_s": round(s.rate), "seconds": c.rnd(s.seconds, 3), "cpu": c.rnd(s.cpu, 3)}
            for s in v
        ]
        for k, v in series.items()
    }
    return c.Outcome(
        figures=figures,
        ratio=c.rnd(ratio),
        bar=f"prestoha >= {BAR} x trino (median rows/s)",
        passed=ratio >= BAR,
        config={
            "rows": rows,
            "rounds": rounds,
            "fetchmany": batch,
            "columns": "bigint, varchar, double, timestamp(3)",
            "agent": AGENT_DEFAULTS,
        },
        details=details,
    )


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0], limit=900)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch", type=int, default=10_000)
    args = p.parse_args(argv)
    return c.run(
        "B1",
        "overhead_stream",
        "rows/s streaming 1M rows, prestoha vs trino.dbapi on the same coordinator",
        lambda: measure(args.rows, args.rounds, args.batch),
        args=args,
    )


if __name__ == "__main__":
    sys.exit(main())
