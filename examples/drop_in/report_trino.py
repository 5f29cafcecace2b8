"""A report for the official trino client: nations per region, and a query error it catches.

report_trino.py and report_prestoha.py differ by one line, the import of ``connect``. With
prestoha, TRINO_HOST may name several coordinators ("c1:8080,c2:8080") and the report survives
the loss of one; nothing else changes, the exceptions caught included.

    TRINO_HOST=localhost TRINO_PORT=8080 python examples/drop_in/report_trino.py
"""

from __future__ import annotations

import os

from trino.exceptions import TrinoUserError

# isort: split
# The one line that differs between the twins:
from trino.dbapi import connect

REGIONS = """
    SELECT r.name, count(*) AS nations
    FROM nation n JOIN region r ON n.regionkey = r.regionkey
    WHERE n.nationkey >= ?
    GROUP BY r.name
    ORDER BY r.name
"""


def main() -> None:
    conn = connect(
        host=os.environ.get("TRINO_HOST", "localhost"),
        port=int(os.environ.get("TRINO_PORT", "8080")),
        user=os.environ.get("TRINO_USER", "report"),
        catalog="tpch",
        schema="tiny",
        max_attempts=3,
        request_timeout=30.0,
    )
    cur = conn.cursor()
    cur.execute(REGIONS, [0])
    rows = cur.fetchall()
    print("columns:", [(column.name, column.type_code) for column in cur.description])
    for name, nations in rows:
        print(f"{name}: {nations}")
    try:
        cur.execute("SELECT no_such_column FROM nation")
        cur.fetchall()
    except TrinoUserError as err:
        print(f"refused: {err.error_type} {err.error_name}: {err.message}")
    conn.close()


if __name__ == "__main__":
    main()
