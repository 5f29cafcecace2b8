"""Large results into pandas, in chunks, with prestoha.

    PRESTOHA_ZK=127.0.0.1:2181 python examples/pandas_chunks.py

Two ways: ``pandas.read_sql_query(chunksize=...)`` over a ``prestoha://`` engine, or
``cursor.fetch_df_chunks()`` on a PEP 249 cursor. Either way the driver reads ahead a bounded
amount (``prefetch``), and a coordinator lost in the middle is replaced without a row repeated
or lost (the query is ordered on a unique key, so verified replay can resume it).
"""

from __future__ import annotations

import os

import pandas as pd
import sqlalchemy as sa

import prestoha

SQL = "SELECT orderkey, linenumber, quantity, extendedprice FROM lineitem ORDER BY 1, 2"


def with_sqlalchemy(zk: str, cluster: str) -> int:
    engine = sa.create_engine(f"prestoha://example@/tpch/tiny?zk={zk}&cluster={cluster}")
    total = 0
    try:
        # read_sql_query: read_sql would first ask whether the SQL text is a table name
        for chunk in pd.read_sql_query(SQL, engine, chunksize=20_000):
            total += len(chunk)
            print(f"chunk of {len(chunk):>6} rows, quantity sum {chunk['quantity'].sum()}")
    finally:
        engine.dispose()
    return total


def with_cursor(zk: str, cluster: str) -> int:
    total = 0
    with prestoha.connect(
        zk=zk, cluster=cluster, user="example", catalog="tpch", schema="tiny", prefetch="8MiB"
    ) as conn:
        cur = conn.cursor()
        cur.execute(SQL)
        for frame in cur.fetch_df_chunks(20_000):
            total += len(frame)
    return total


def main() -> None:
    zk = os.environ.get("PRESTOHA_ZK", "127.0.0.1:2181")
    cluster = os.environ.get("PRESTOHA_CLUSTER", "default")
    a = with_sqlalchemy(zk, cluster)
    b = with_cursor(zk, cluster)
    print(f"{a} rows through SQLAlchemy, {b} rows through the cursor")


if __name__ == "__main__":
    main()
