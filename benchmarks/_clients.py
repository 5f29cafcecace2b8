"""The two clients every benchmark compares, and how a benchmark drives them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import trino.dbapi

import prestoha
from prestoha.testing.cluster import LocalCluster

USER = "bench"


def trino_connect(uri: str, **kwargs: Any) -> Any:
    """The unmodified ``trino.dbapi`` client on one coordinator (or a proxy) at ``uri``."""
    return trino.dbapi.connect(  # type: ignore[no-untyped-call]
        host=uri, user=USER, catalog="tpch", schema="tiny", **kwargs
    )


def prestodb_connect(uri: str, **kwargs: Any) -> Any:
    """The unmodified ``prestodb.dbapi`` client (presto-python-client) on one PrestoDB
    coordinator (or a proxy) at ``uri``: the baseline when the coordinators are PrestoDB's."""
    import prestodb.dbapi  # type: ignore[import-untyped]

    parts = urlsplit(uri)
    return prestodb.dbapi.connect(
        host=parts.hostname,
        port=parts.port,
        http_scheme=parts.scheme,
        user=USER,
        catalog="tpch",
        schema="tiny",
        **kwargs,
    )


def prestoha_connect(cluster: LocalCluster, **kwargs: Any) -> prestoha.Connection:
    """prestoha on the cluster's ZooKeeper, with ``kwargs`` on top of the defaults."""
    options = {**cluster.connect_kwargs(), "user": USER, **kwargs}
    return prestoha.connect(**options)


def agent_defaults() -> dict[str, Any]:
    """The agent's own defaults, read from its command line parser."""
    from prestoha.agent import build_parser

    args = build_parser().parse_args(["--coordinator", "http://127.0.0.1:1", "--zk", "127.0.0.1:1"])
    return {
        "interval": args.interval,
        "check_timeout": args.check_timeout,
        "rise": args.rise,
        "fall": args.fall,
        "session": args.session_timeout,
    }


AGENT_DEFAULTS = agent_defaults()


def local_cluster(coordinators: int, **kwargs: Any) -> LocalCluster:
    """A cluster whose agents run with the agent's own defaults (``prestoha agent --help``).

    LocalCluster's test settings check every 0.2 s; benchmarks measure what a deployment
    with the shipped defaults gets. ``kwargs`` override (LocalCluster's names).
    """
    d = AGENT_DEFAULTS
    settings: dict[str, Any] = {
        "agent_interval": d["interval"],
        "rise": d["rise"],
        "fall": d["fall"],
        "session_timeout": d["session"],
        "agent_args": ("--check-timeout", str(d["check_timeout"])),
        "user": USER,
    }
    settings.update(kwargs)
    return LocalCluster(coordinators, **settings)


@dataclass
class Stream:
    """One streamed result: rows, wall seconds and the client's CPU seconds."""

    rows: int
    seconds: float
    cpu: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def stream(
    conn: Any,
    sql: str,
    *,
    batch: int = 10_000,
    on_batch: Callable[[list[Any]], None] | None = None,
) -> Stream:
    """Run ``sql`` and fetch every row with ``fetchmany(batch)``."""
    cur = conn.cursor()
    began = time.perf_counter()
    cpu = time.process_time()
    cur.execute(sql)
    count = 0
    while True:
        rows = cur.fetchmany(batch)
        if not rows:
            break
        count += len(rows)
        if on_batch is not None:
            on_batch(rows)
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu
    cur.close()
    return Stream(count, seconds, cpu)


def timed_query(cur: Any, sql: str) -> tuple[float, list[Any]]:
    """Seconds from ``execute`` to the last row, and the rows."""
    began = time.perf_counter()
    cur.execute(sql)
    rows = cur.fetchall()
    return time.perf_counter() - began, rows
