"""A ``prestoha://`` SQLAlchemy engine.

    PRESTOHA_ZK=127.0.0.1:2181 python examples/sqlalchemy_engine.py

Every ``prestoha.connect()`` option is a URL query parameter of the same name.
"""

from __future__ import annotations

import os

import sqlalchemy as sa


def engine() -> sa.Engine:
    zk = os.environ.get("PRESTOHA_ZK", "127.0.0.1:2181")
    cluster = os.environ.get("PRESTOHA_CLUSTER", "default")
    return sa.create_engine(
        f"prestoha://example@/tpch/tiny?zk={zk}&cluster={cluster}&failover_timeout=60"
    )


def main() -> None:
    eng = engine()
    try:
        with eng.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT r.name AS region, count(*) AS nations "
                    "FROM nation n JOIN region r ON n.regionkey = r.regionkey "
                    "GROUP BY r.name ORDER BY r.name"
                )
            ).all()
            for region, nations in rows:
                print(f"{region:<12} {nations}")
            print(sa.inspect(conn).get_table_names()[:5])
    finally:
        eng.dispose()


if __name__ == "__main__":
    main()
