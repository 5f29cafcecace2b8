"""Airflow and prestoha: a connection, a hook, and a task (not tested here: Airflow is not a
dependency of prestoha).

The connection, as an environment variable of the scheduler and workers (or in the UI: type
"Generic", login, password, schema = catalog, and the extra JSON)::

    AIRFLOW_CONN_TRINO_HA='{
        "conn_type": "generic",
        "login": "etl",
        "password": "...",
        "schema": "hive",
        "extra": {"zk": "zk1:2181,zk2:2181,zk3:2181", "cluster": "prod", "schema": "sales",
                  "failover_timeout": 120, "http_scheme": "https"}
    }'

Every key of "extra" is a ``prestoha.connect()`` option, named as in docs/configuration.md.
The same connection also works as a SQLAlchemy URL:
``prestoha://etl:...@/hive/sales?zk=zk1:2181,zk2:2181,zk3:2181&cluster=prod``.
"""

from __future__ import annotations

from typing import Any

from airflow.decorators import dag, task
from airflow.hooks.base import BaseHook
from trino.auth import BasicAuthentication

import prestoha


class PrestohaHook(BaseHook):
    """Opens a ``prestoha`` connection from an Airflow connection."""

    conn_name_attr = "prestoha_conn_id"
    default_conn_name = "trino_ha"
    hook_name = "prestoha"

    def __init__(self, prestoha_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.prestoha_conn_id = prestoha_conn_id

    def get_conn(self) -> prestoha.Connection:
        conn = self.get_connection(self.prestoha_conn_id)
        options: dict[str, Any] = dict(conn.extra_dejson)
        if conn.login:
            options["user"] = conn.login
        if conn.schema:
            options.setdefault("catalog", conn.schema)
        if conn.password:
            options["auth"] = BasicAuthentication(conn.login or "", conn.password)
        return prestoha.connect(**options)

    def get_records(self, sql: str) -> list[list[Any]]:
        with self.get_conn() as connection:
            cursor = connection.cursor()
            cursor.execute(sql)
            rows: list[list[Any]] = cursor.fetchall()
            self.log.info(
                "%d rows from %s (%d attempts)", len(rows), cursor.coordinator, len(cursor.attempts)
            )
            return rows


@dag(schedule="@daily", catchup=False, tags=["trino"])
def daily_order_counts() -> None:
    @task
    def count_orders() -> int:
        # a read: if the coordinator dies while it runs, prestoha runs it on the next one
        rows = PrestohaHook().get_records("SELECT count(*) FROM orders")
        return int(rows[0][0])

    count_orders()


daily_order_counts()
