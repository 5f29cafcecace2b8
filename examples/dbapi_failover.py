"""PEP 249 through prestoha: a query loop that says which coordinator served each query.

    PRESTOHA_ZK=127.0.0.1:2181 python examples/dbapi_failover.py

Kill a coordinator while it runs (``prestoha sandbox`` prints their pids): the loop goes on.
"""

from __future__ import annotations

import os
import time

import prestoha


def main(rounds: int = 10) -> None:
    conn = prestoha.connect(
        zk=os.environ.get("PRESTOHA_ZK", "127.0.0.1:2181"),
        cluster=os.environ.get("PRESTOHA_CLUSTER", "default"),
        user="example",
        catalog="tpch",
        schema="tiny",
    )
    with conn:
        cur = conn.cursor()
        for i in range(rounds):
            try:
                cur.execute("SELECT count(*) FROM orders WHERE orderstatus = ?", ["F"])
                (count,) = cur.fetchone()
            except prestoha.NoCoordinatorError as exc:
                # every coordinator was tried; the message lists each one and why it failed
                print(f"round {i}: {exc}")
                continue
            failed = len(cur.attempts) - 1
            moved = f" after {failed} failed attempt(s)" if failed else ""
            print(f"round {i}: {count} orders, served by {cur.coordinator}{moved}")
            time.sleep(0.2)

        # A write is never run twice: if its coordinator dies while it runs, prestoha cannot
        # know whether it took effect, and says so instead of guessing.
        try:
            cur.execute("CREATE TABLE IF NOT EXISTS memory.default.audit (at timestamp)")
            cur.execute("INSERT INTO memory.default.audit VALUES (localtimestamp)")
            print(f"inserted {cur.rowcount} row(s) on {cur.coordinator}")
        except prestoha.QueryOutcomeUnknownError as exc:
            print(f"check whether query {exc.query_id} on {exc.node} took effect: {exc}")


if __name__ == "__main__":
    main(int(os.environ.get("ROUNDS", "10")))
