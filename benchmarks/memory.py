"""B4 memory: peak RSS growth of a client streaming 1M and 5M rows through prestoha.

Every measurement is a fresh child process: it connects, warms up, resets its peak RSS
(``/proc/self/clear_refs``), streams the rows through ``fetchmany(10000)`` or
``pandas.read_sql(chunksize=10000)`` (on the DB-API connection, or with ``--via
read_sql_engine`` on a ``prestoha://`` engine) keeping none of them, and reports how far its
peak RSS rose above where it started. Runs alternate 1M, 5M, 1M, 5M... With ``--baseline``
the unmodified trino client runs the same loops, to show what the rows themselves cost.
Bar, for each way of reading: growth(5M) <= 1.1 x growth(1M), and <= 64 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import _common as c
from benchmarks._clients import AGENT_DEFAULTS, local_cluster, trino_connect

MIB = 1 << 20
LIMIT_MIB = 64
BAR = 1.1
ROOT = Path(__file__).resolve().parent.parent
#: Ways of reading only prestoha has.
PRESTOHA_ONLY = ("fetch_df_chunks", "fetch_record_batch")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def child(kwargs: dict[str, Any], rows: int, via: str, batch: int) -> dict[str, Any]:
    """In the child process: stream ``rows`` rows and report the RSS figures."""
    import gc

    import prestoha

    kwargs = dict(kwargs)
    url = kwargs.pop("sqlalchemy_url", None)
    conn: Any
    if "trino_uri" in kwargs:  # the baseline: the unmodified trino client
        conn = trino_connect(kwargs["trino_uri"])
        url = url and url.replace("prestoha://", "trino://")
    else:
        conn = prestoha.connect(**kwargs)
    step = max(batch, rows // 20)  # RSS is sampled every 5 % of the rows

    def batch_sizes(query: str) -> Iterator[int]:
        """The length of every batch (or DataFrame) the chosen way of reading hands out."""
        if via in ("fetchmany", "fetch_df_chunks", "fetch_record_batch"):
            cur = conn.cursor()
            cur.execute(query)
            if via == "fetchmany":
                while got := cur.fetchmany(batch):
                    yield len(got)
            elif via == "fetch_record_batch":
                for record_batch in cur.fetch_record_batch(batch):
                    yield record_batch.num_rows
                    del record_batch  # held by nobody while the next one is read
            else:
                for frame in cur.fetch_df_chunks(batch):
                    yield len(frame)
            cur.close()
        elif via == "read_sql_engine":
            import pandas as pd
            import sqlalchemy as sa

            engine = sa.create_engine(url)
            with engine.connect() as sa_conn:
                for frame in pd.read_sql_query(sa.text(query), sa_conn, chunksize=batch):
                    yield len(frame)
            engine.dispose()
        else:
            import pandas as pd

            with warnings.catch_warnings():
                # pandas warns about any DB-API connection that is not sqlite3; the prestoha
                # SQLAlchemy dialect would avoid it, but the plain connection is what we measure
                warnings.simplefilter("ignore", UserWarning)
                for frame in pd.read_sql(query, conn, chunksize=batch):
                    yield len(frame)

    sum(batch_sizes(c.stream_sql(20_000)))  # warm up
    gc.collect()
    reset = _reset_peak()
    before, _ = c.rss_bytes()
    began = time.perf_counter()
    count = 0
    series: list[list[float]] = []  # [rows read, RSS growth MiB]
    for size in batch_sizes(c.stream_sql(rows)):
        count += size
        if count >= step * (len(series) + 1):
            series.append([count, round((c.rss_bytes()[0] - before) / MIB, 2)])
    seconds = time.perf_counter() - began
    _, peak = c.rss_bytes()
    conn.close()
    return {
        "rows": count,
        "seconds": round(seconds, 2),
        "rss_before_mib": round(before / MIB, 1),
        "peak_mib": round(peak / MIB, 1),
        "growth_mib": round(max(0, peak - before) / MIB, 1),
        "peak_reset": reset,
        "series": series,
    }


def _run_child(kwargs: dict[str, Any], rows: int, via: str, batch: int, timeout: float) -> Any:
    argv = [sys.executable, "-m", "benchmarks.memory", "--child", json.dumps(kwargs)]
    argv += ["--rows", str(rows), "--via", via, "--batch", str(batch)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"the measuring child failed: {out.stderr.strip()[-2000:]}")
    got = json.loads(out.stdout.strip().splitlines()[-1])
    if got["rows"] != rows:
        raise RuntimeError(f"{via}: expected {rows} rows, got {got['rows']}")
    return got


def measure(
    small: int, large: int, rounds: int, vias: list[str], batch: int, baseline: bool = False
) -> c.Outcome:
    runs: dict[str, list[dict[str, Any]]] = {}
    with local_cluster(1) as cluster:
        url = cluster.sqlalchemy_url().replace("prestoha://test@", "prestoha://bench@")
        clients = {"": {**cluster.connect_kwargs(), "user": "bench", "sqlalchemy_url": url}}
        if baseline:
            trino_url = f"trino://bench@{cluster.coordinators[0].split('://')[1]}/tpch/tiny"
            clients["trino_"] = {"trino_uri": cluster.coordinators[0], "sqlalchemy_url": trino_url}
        for r in range(rounds):
            for via in vias:
                for prefix, kwargs in clients.items():
                    if prefix and via in PRESTOHA_ONLY:
                        continue  # the trino client has no such method
                    for rows in (small, large):
                        got = _run_child(kwargs, rows, via, batch, timeout=600)
                        runs.setdefault(f"{prefix}{via}_{rows}", []).append(got)
                        c.log(
                            f"round {r + 1}/{rounds} {prefix or 'prestoha_'}{via} {rows:,} rows: "
                            f"growth {got['growth_mib']} MiB ({got['seconds']} s)"
                        )
    figures: dict[str, Any] = {}
    passed = True
    ratios = []
    for via in vias:
        g_small = c.median([x["growth_mib"] for x in runs[f"{via}_{small}"]])
        g_large = c.median([x["growth_mib"] for x in runs[f"{via}_{large}"]])
        ratio = g_large / g_small if g_small > 0 else float("inf")
        ok = ratio <= BAR and g_large <= LIMIT_MIB
        passed = passed and ok
        ratios.append(ratio)
        figures[f"{via}_growth_small_mib"] = g_small
        figures[f"{via}_growth_large_mib"] = g_large
        figures[f"{via}_ratio"] = c.rnd(ratio)
        figures[f"{via}_pass"] = ok
        if baseline and via not in PRESTOHA_ONLY:
            for rows, size in ((small, "small"), (large, "large")):
                got = [x["growth_mib"] for x in runs[f"trino_{via}_{rows}"]]
                figures[f"trino_{via}_growth_{size}_mib"] = c.median(got)
    return c.Outcome(
        figures=figures,
        ratio=c.rnd(max(ratios)),
        bar=f"growth({large:,}) <= {BAR} x growth({small:,}) and <= {LIMIT_MIB} MiB, each way",
        passed=passed,
        config={
            "rows": [small, large],
            "rounds": rounds,
            "ways": vias,
            "batch": batch,
            "baseline": "trino.dbapi, same loops (figures trino_*)" if baseline else None,
            "agent": AGENT_DEFAULTS,
            "read_sql_connection": "prestoha DB-API connection",
        },
        details=runs,
    )


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0], limit=2400)
    p.add_argument("--small", type=int, default=1_000_000)
    p.add_argument("--large", type=int, default=5_000_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch", type=int, default=10_000)
    p.add_argument(
        "--via",
        default="fetchmany,read_sql",
        help="fetchmany, read_sql (on a DB-API connection), read_sql_engine (on a SQLAlchemy "
        "engine), fetch_df_chunks, fetch_record_batch (prestoha only); comma-separated",
    )
    p.add_argument(
        "--baseline",
        action="store_true",
        help="also measure the unmodified trino client (no bar; to show what the rows cost)",
    )
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(json.loads(args.child), args.rows, args.via, args.batch)))
        return 0
    vias = [v for v in args.via.split(",") if v]
    if not vias or set(vias) - {"fetchmany", "read_sql", "read_sql_engine", *PRESTOHA_ONLY}:
        p.error(
            "--via takes fetchmany, read_sql (a DB-API connection), read_sql_engine, "
            "fetch_df_chunks, fetch_record_batch (prestoha only)"
        )
    return c.run(
        "B4",
        "memory",
        f"peak RSS growth streaming {args.small / 1e6:g}M and {args.large / 1e6:g}M rows "
        f"(fetchmany, read_sql chunksize={args.batch:,})",
        lambda: measure(args.small, args.large, args.rounds, vias, args.batch, args.baseline),
        args=args,
    )


if __name__ == "__main__":
    sys.exit(main())
