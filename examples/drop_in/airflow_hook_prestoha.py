"""An Airflow-style hook for the official trino client (Airflow is not a dependency of prestoha:
the test suite reads this file, it does not run it).

airflow_hook_trino.py and airflow_hook_prestoha.py differ by one line, the import of
``connect``. The Airflow connection stays as it was; with prestoha its host may list several
coordinators ("c1,c2", each on the connection's port), and the tasks survive the loss of one.
"""

from __future__ import annotations

from contextlib import closing
from typing import Any

from airflow.hooks.base import BaseHook
from trino.auth import BasicAuthentication
from trino.exceptions import TrinoQueryError
from trino.transaction import IsolationLevel

# isort: split
# The one line that differs between the twins:
from prestoha import connect


class TrinoHook(BaseHook):
    """Runs SQL on the Trino cluster of an Airflow connection."""

    conn_name_attr = "trino_conn_id"
    default_conn_name = "trino_default"
    hook_name = "Trino"

    def __init__(self, trino_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.trino_conn_id = trino_conn_id

    def get_conn(self) -> Any:
        db = self.get_connection(self.trino_conn_id)
        extra = db.extra_dejson
        auth = BasicAuthentication(db.login, db.password) if db.password else None
        return connect(
            host=db.host,
            port=db.port,
            user=db.login,
            source="airflow",
            http_scheme=extra.get("protocol", "https" if auth else "http"),
            auth=auth,
            catalog=extra.get("catalog", "hive"),
            schema=db.schema,
            isolation_level=IsolationLevel.AUTOCOMMIT,
            verify=extra.get("verify", True),
            session_properties=extra.get("session_properties"),
            client_tags=extra.get("client_tags"),
            timezone=extra.get("timezone"),
        )

    def get_records(self, sql: str, parameters: list[Any] | None = None) -> list[list[Any]]:
        with closing(self.get_conn()) as conn, closing(conn.cursor()) as cur:
            try:
                cur.execute(sql, parameters)
                rows: list[list[Any]] = cur.fetchall()
            except TrinoQueryError as err:
                self.log.error("query %s failed: %s", err.query_id, err.error_name)
                raise
            self.log.info("%d rows, query %s (%s)", len(rows), cur.query_id, cur.info_uri)
            return rows

    def get_first(self, sql: str, parameters: list[Any] | None = None) -> list[Any] | None:
        rows = self.get_records(sql, parameters)
        return rows[0] if rows else None

    def run(self, sql: str, parameters: list[Any] | None = None) -> int:
        with closing(self.get_conn()) as conn, closing(conn.cursor()) as cur:
            cur.execute(sql, parameters)
            cur.fetchall()
            self.log.info("%s: %d rows, query %s", cur.update_type, cur.rowcount, cur.query_id)
            return int(cur.rowcount)
