"""B3 prefetch: rows/s when the caller works on each batch about as long as fetching it took.

One coordinator (with its agent and ZooKeeper). First the trino client streams the result
with no work, which gives the time to fetch one ``fetchmany(10000)`` batch; then trino and
prestoha (bounded prefetch, ``prefetch=`` pages) alternate, each doing that much work after
every batch. Two kinds of work are measured: ``sleep`` (waiting on I/O, e.g. writing the batch
to another service; this one decides) and ``cpu`` (pure-Python computation, which holds the
GIL, so only the coordinator's side of the fetch can overlap it).
Bar: prestoha >= 1.3 x trino.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks import _common as c
from benchmarks._clients import (
    AGENT_DEFAULTS,
    local_cluster,
    prestoha_connect,
    stream,
    trino_connect,
)

BAR = 1.3


def _work(kind: str, seconds: float) -> Callable[[list[Any]], None]:
    if kind == "sleep":
        return lambda rows: time.sleep(seconds)

    def spin(rows: list[Any]) -> None:
        end = time.perf_counter() + seconds
        x = 0
        while time.perf_counter() < end:
            x += 1

    return spin


def measure(rows: int, rounds: int, batch: int, prefetch: int, kinds: list[str]) -> c.Outcome:
    sql = c.stream_sql(rows)
    with local_cluster(1) as cluster:
        tconn = trino_connect(cluster.coordinators[0])
        pconn = prestoha_connect(cluster, prefetch=prefetch)
        try:
            stream(tconn, c.stream_sql(20_000), batch=batch)
            stream(pconn, c.stream_sql(20_000), batch=batch)
            calib = [stream(tconn, sql, batch=batch) for _ in range(3)]
            batches = -(-rows // batch)
            per_batch = c.median([s.seconds for s in calib]) / batches
            c.log(f"fetching one batch of {batch} rows takes {per_batch * 1000:.1f} ms")
            series: dict[str, list[float]] = {}
            for r in range(rounds):
                for kind in kinds:
                    work = _work(kind, per_batch)
                    for label, conn in (("trino", tconn), ("prestoha", pconn)):
                        s = stream(conn, sql, batch=batch, on_batch=work)
                        if s.rows != rows:
                            raise RuntimeError(f"{label}: expected {rows} rows, got {s.rows}")
                        series.setdefault(f"{kind}_{label}", []).append(s.rate)
                        c.log(f"round {r + 1}/{rounds} {kind} {label}: {s.rate:,.0f} rows/s")
        finally:
            pconn.close()
            tconn.close()
    med = {k: c.median(v) for k, v in series.items()}
    figures: dict[str, Any] = {"fetch_ms_per_batch": c.rnd(per_batch * 1000, 2)}
    for kind in kinds:
        figures[f"{kind}_trino_rows_per_s"] = round(med[f"{kind}_trino"])
        figures[f"{kind}_prestoha_rows_per_s"] = round(med[f"{kind}_prestoha"])
        figures[f"{kind}_ratio"] = c.rnd(med[f"{kind}_prestoha"] / med[f"{kind}_trino"])
    deciding = kinds[0]
    ratio = med[f"{deciding}_prestoha"] / med[f"{deciding}_trino"]
    return c.Outcome(
        figures=figures,
        ratio=c.rnd(ratio),
        bar=f"prestoha >= {BAR} x trino (median rows/s, work '{deciding}' after each batch)",
        passed=ratio >= BAR,
        config={
            "rows": rows,
            "rounds": rounds,
            "fetchmany": batch,
            "prefetch_pages": prefetch,
            "work": kinds,
            "agent": AGENT_DEFAULTS,
        },
        details={k: [round(x) for x in v] for k, v in series.items()},
    )


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0], limit=900)
    p.add_argument("--rows", type=int, default=300_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch", type=int, default=10_000)
    p.add_argument("--prefetch", type=int, default=4, help="prestoha's prefetch= (pages)")
    p.add_argument(
        "--work", default="sleep,cpu", help="kinds of work, the first decides (sleep,cpu)"
    )
    args = p.parse_args(argv)
    kinds = [k for k in args.work.split(",") if k]
    if not kinds or set(kinds) - {"sleep", "cpu"}:
        p.error("--work takes sleep and/or cpu")
    return c.run(
        "B3",
        "prefetch",
        "rows/s with caller work per batch, prestoha (bounded prefetch) vs trino.dbapi",
        lambda: measure(args.rows, args.rounds, args.batch, args.prefetch, kinds),
        args=args,
    )


if __name__ == "__main__":
    sys.exit(main())
