"""B10 columnar: 1,000,000 rows into a pandas DataFrame and into an Arrow table.

One coordinator (with its agent and ZooKeeper), the query of (bigint, varchar, double,
timestamp) rows. Four ways of reading it alternate in each round: prestoha's ``fetch_df()``
and ``pandas.read_sql`` through the ``trino://`` SQLAlchemy dialect (the official client),
then prestoha's ``fetch_arrow_table()`` and ``trino.dbapi``'s ``fetchall()``.
Bars: ``fetch_df()`` >= 2 x read_sql rows/s, ``fetch_arrow_table()`` >= 1.5 x fetchall rows/s
(medians; the per-round ratios are reported too).
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

from benchmarks import _common as c
from benchmarks._clients import AGENT_DEFAULTS, local_cluster, prestoha_connect, trino_connect

DF_BAR = 2.0
ARROW_BAR = 1.5


def _timed(read: Callable[[], int], rows: int, label: str) -> dict[str, float]:
    began = time.perf_counter()
    cpu = time.process_time()
    got = read()
    seconds = time.perf_counter() - began
    if got != rows:
        raise RuntimeError(f"{label}: expected {rows} rows, got {got}")
    return {"rows_per_s": rows / seconds, "seconds": seconds, "cpu": time.process_time() - cpu}


def measure(rows: int, rounds: int) -> c.Outcome:
    import pandas as pd
    import sqlalchemy as sa

    sql = c.stream_sql(rows)
    with local_cluster(1) as cluster:
        uri = cluster.coordinators[0]
        engine = sa.create_engine(f"trino://bench@{uri.split('://')[1]}/tpch/tiny")
        tconn = trino_connect(uri)
        pconn = prestoha_connect(cluster)

        def fetch_df(q: str = sql) -> int:
            return len(pconn.cursor().execute(q).fetch_df())

        def read_sql(q: str = sql) -> int:
            with engine.connect() as sa_conn, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return len(pd.read_sql_query(sa.text(q), sa_conn))

        def fetch_arrow_table(q: str = sql) -> int:
            return int(pconn.cursor().execute(q).fetch_arrow_table().num_rows)

        def fetchall(q: str = sql) -> int:
            cur = tconn.cursor()
            cur.execute(q)
            return len(cur.fetchall())

        ways: dict[str, Callable[..., int]] = {
            "fetch_df": fetch_df,
            "read_sql": read_sql,
            "fetch_arrow_table": fetch_arrow_table,
            "trino_fetchall": fetchall,
        }
        try:
            for way in ways.values():
                way(c.stream_sql(20_000))  # warm up
            series: dict[str, list[dict[str, float]]] = {k: [] for k in ways}
            for i in range(rounds):
                for label, way in ways.items():
                    got = _timed(way, rows, label)
                    series[label].append(got)
                    c.log(
                        f"round {i + 1}/{rounds} {label}: {got['rows_per_s']:,.0f} rows/s "
                        f"({got['seconds']:.2f} s)"
                    )
        finally:
            pconn.close()
            tconn.close()
            engine.dispose()
    med = {k: c.median([x["rows_per_s"] for x in v]) for k, v in series.items()}
    df_ratio = med["fetch_df"] / med["read_sql"]
    arrow_ratio = med["fetch_arrow_table"] / med["trino_fetchall"]

    def per_round(a: str, b: str) -> float:
        pairs = zip(series[a], series[b], strict=True)
        return c.median([x["rows_per_s"] / y["rows_per_s"] for x, y in pairs])

    figures: dict[str, Any] = {f"{k}_rows_per_s": round(v) for k, v in med.items()}
    figures.update(
        df_ratio=c.rnd(df_ratio),
        arrow_ratio=c.rnd(arrow_ratio),
        df_ratio_per_round_median=c.rnd(per_round("fetch_df", "read_sql")),
        arrow_ratio_per_round_median=c.rnd(per_round("fetch_arrow_table", "trino_fetchall")),
    )
    details = {
        k: [{n: c.rnd(x, 3) if n != "rows_per_s" else round(x) for n, x in r.items()} for r in v]
        for k, v in series.items()
    }
    return c.Outcome(
        figures=figures,
        # the deciding ratio is the one furthest below its bar
        ratio=c.rnd(min(df_ratio / DF_BAR, arrow_ratio / ARROW_BAR)),
        bar=(
            f"fetch_df >= {DF_BAR} x read_sql(trino://) and fetch_arrow_table >= {ARROW_BAR} x "
            "trino fetchall (median rows/s); ratio = the smaller of the two, over its bar"
        ),
        passed=df_ratio >= DF_BAR and arrow_ratio >= ARROW_BAR,
        config={
            "rows": rows,
            "rounds": rounds,
            "columns": "bigint, varchar, double, timestamp(3)",
            "read_sql": "pandas.read_sql_query on a trino:// SQLAlchemy engine (no chunksize)",
            "agent": AGENT_DEFAULTS,
        },
        details=details,
    )


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0], limit=1800)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)
    return c.run(
        "B10",
        "columnar",
        "1M rows into pandas (fetch_df vs read_sql trino://) and Arrow (vs trino fetchall)",
        lambda: measure(args.rows, args.rounds),
        args=args,
    )


if __name__ == "__main__":
    sys.exit(main())
