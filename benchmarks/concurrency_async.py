"""B11 concurrency_async: 200 concurrent small queries, prestoha.aio vs 200 threads vs aiotrino.

Three coordinators (with their agents and ZooKeeper) and three clients, each with one
connection: ``prestoha.aio`` (200 tasks on one event loop, ``asyncio.gather``) and the
synchronous prestoha driver (200 threads sharing the connection, a cursor each), both in the
default ``leader`` mode, and ``aiotrino`` (200 tasks on the same loop) on the leader: every
client's queries run on the same coordinator. A round gives each of the 200 workers
``--per-worker`` ``SELECT 1`` back to back and times the whole; the clients take turns round after
round (the order rotates). Figures: queries/s and client CPU per query (median over the
rounds). Bar: prestoha.aio queries/s >= aiotrino's.

Memory per in-flight query is measured in a fresh child process per client (alternating):
after a few sequential warm-up queries it starts 200 at once while every response of the
coordinator is ``--memory-delay-ms`` late (so all 200 are in flight together), and reports
how far its RSS rose (new tasks or threads, sockets, cursors, buffers), then the peak of
Python allocations (tracemalloc) in a second such round, each over the number in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks import _common as c
from benchmarks._clients import AGENT_DEFAULTS, USER, local_cluster

ROOT = Path(__file__).resolve().parent.parent
SQL = "SELECT 1"
CLIENTS = ("aio", "threads", "aiotrino")
#: Also timed, not judged: prestoha.aio in ``any`` mode, its queries spread over the three
#: coordinators (what a multi-active deployment gets; aiotrino can use only one).
SPREAD = "aio_any"
TIMED = (*CLIENTS, SPREAD)
#: Seconds the agents give their coordinator to answer a health check (see ``measure``).
AGENT_CHECK_TIMEOUT = 5.0
KIB = 1024


class Gauge:
    """How many queries are in flight, and the most there were at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1


def _check(rows: Any) -> None:
    if [list(r) for r in rows] != [[1]]:
        raise RuntimeError(f"{SQL} returned {rows!r}")


class Clients:
    """The three clients, their event loop and the 200 threads."""

    def __init__(self, kwargs: dict[str, Any], uri: str, workers: int, which: tuple[str, ...]):
        import prestoha

        self.workers = workers
        self.loop = asyncio.new_event_loop()
        self.aconn: Any = None
        self.anyconn: Any = None
        self.sconn: Any = None
        self.tconn: Any = None
        self.pool: ThreadPoolExecutor | None = None
        if "aio" in which or SPREAD in which:
            import prestoha.aio
        if "aio" in which:
            self.aconn = self.loop.run_until_complete(_awaited(prestoha.aio.connect(**kwargs)))
        if SPREAD in which:
            spread = {**kwargs, "mode": "any"}
            self.anyconn = self.loop.run_until_complete(_awaited(prestoha.aio.connect(**spread)))
        if "threads" in which:
            self.sconn = prestoha.connect(**kwargs)
            self.cursors = [self.sconn.cursor() for _ in range(workers)]
            # the threads are made when first used: a child measuring memory counts them
            self.pool = ThreadPoolExecutor(max_workers=workers)
        if "aiotrino" in which:
            self.tconn = self.loop.run_until_complete(_aiotrino_connect(uri))

    def round(self, client: str, per_worker: int, workers: int | None = None) -> Gauge:
        """``workers`` (default all) run ``per_worker`` queries each, all at once."""
        n = self.workers if workers is None else workers
        gauge = Gauge()
        if client == "threads":
            assert self.pool is not None
            futures = [
                self.pool.submit(_thread_worker, self.cursors[i], per_worker, gauge)
                for i in range(n)
            ]
            for f in futures:
                f.result()
        else:
            worker = _aiotrino_worker if client == "aiotrino" else _aio_worker
            conn = {"aio": self.aconn, SPREAD: self.anyconn, "aiotrino": self.tconn}[client]
            tasks = [worker(conn, per_worker, gauge) for _ in range(n)]
            self.loop.run_until_complete(_gather(tasks))
        return gauge

    def close(self) -> None:
        for aconn in (self.aconn, self.anyconn):
            if aconn is not None:
                self.loop.run_until_complete(aconn.close())
        if self.tconn is not None:
            self.loop.run_until_complete(self.tconn.close())
        if self.sconn is not None:
            self.sconn.close()
        if self.pool is not None:
            self.pool.shutdown()
        self.loop.close()


async def _awaited(connecting: Awaitable[Any]) -> Any:
    return await connecting


async def _gather(workers: list[Awaitable[None]]) -> None:
    await asyncio.gather(*workers)


async def _aiotrino_connect(uri: str) -> Any:
    import aiohttp
    import aiotrino.client
    import aiotrino.dbapi

    # aiotrino's own connector allows 100 connections per session; with no limit (as
    # prestoha.aio's session has) it is not held back below 200 queries in flight
    session = aiohttp.ClientSession(connector=aiotrino.client.TrinoTCPConnector(limit=0))
    return aiotrino.dbapi.connect(
        host=uri, user=USER, catalog="tpch", schema="tiny", http_session=session
    )


async def _aio_worker(conn: Any, per_worker: int, gauge: Gauge) -> None:
    cur = conn.cursor()
    for _ in range(per_worker):
        gauge.enter()
        await cur.execute(SQL)
        rows = await cur.fetchall()
        gauge.leave()
        _check(rows)
    await cur.close()


async def _aiotrino_worker(conn: Any, per_worker: int, gauge: Gauge) -> None:
    cur = await conn.cursor()
    for _ in range(per_worker):
        gauge.enter()
        await cur.execute(SQL)
        rows = await cur.fetchall()
        gauge.leave()
        _check(rows)
    await cur.close()


def _thread_worker(cur: Any, per_worker: int, gauge: Gauge) -> None:
    for _ in range(per_worker):
        gauge.enter()
        cur.execute(SQL)
        rows = cur.fetchall()
        gauge.leave()
        _check(rows)


# -- memory, in a child process --------------------------------------------------------------


def child(kwargs: dict[str, Any], uri: str, client: str, workers: int) -> dict[str, Any]:
    """In the child process: RSS and traced growth with ``workers`` queries in flight."""
    clients = Clients(kwargs, uri, workers, (client,))
    try:
        clients.round(client, 10, workers=1)  # warm up, one query at a time
        gc.collect()
        before, _ = c.rss_bytes()
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.002):
                peak[0] = max(peak[0], c.rss_bytes()[0])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        gauge = clients.round(client, 1)
        done.set()
        sampler.join()
        rss = max(peak[0], c.rss_bytes()[0]) - before
        gc.collect()
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        traced_gauge = clients.round(client, 1)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        clients.close()
    return {
        "client": client,
        "in_flight": gauge.peak,
        "rss_growth_kib": round(rss / KIB),
        "rss_kib_per_query": round(rss / KIB / gauge.peak, 1),
        "traced_in_flight": traced_gauge.peak,
        "traced_peak_kib": round((traced_peak - base) / KIB),
        "traced_kib_per_query": round((traced_peak - base) / KIB / traced_gauge.peak, 1),
        "rss_before_mib": round(before / KIB / KIB, 1),
    }


def _run_child(kwargs: dict[str, Any], uri: str, client: str, workers: int) -> Any:
    argv = [sys.executable, "-m", "benchmarks.concurrency_async", "--child", json.dumps(kwargs)]
    argv += ["--uri", uri, "--client", client, "--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        argv, capture_output=True, text=True, timeout=120, cwd=ROOT, env=env, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"the measuring child failed: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the benchmark -------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> c.Outcome:
    workers, per = args.workers, args.per_worker
    # The emulator is one Python process: under 200 queries its /v1/info can answer later
    # than the agents' default check timeout, and the agents would hand the leadership
    # around mid-round. What is measured here is the clients, so the leader is kept.
    with local_cluster(3, agent_args=("--check-timeout", str(AGENT_CHECK_TIMEOUT))) as cluster:
        leader = cluster.wait_for_leader()
        at = cluster.index(leader.node_id)
        uri = cluster.coordinators[at]
        kwargs = {**cluster.connect_kwargs(), "user": USER}
        clients = Clients(kwargs, uri, workers, TIMED)
        series: dict[str, list[dict[str, float]]] = {k: [] for k in TIMED}
        try:
            for client in TIMED:  # warm up: connections, threads, the router's estimate
                clients.round(client, 2)
            for r in range(args.rounds):
                shift = r % len(TIMED)
                for client in TIMED[shift:] + TIMED[:shift]:
                    got = _timed(clients, client, per)
                    series[client].append(got)
                c.log(
                    f"round {r + 1}/{args.rounds}: "
                    + ", ".join(
                        f"{k} {series[k][-1]['qps']:,.0f} q/s "
                        f"({series[k][-1]['cpu_ms_per_query']:.2f} ms CPU/query)"
                        for k in TIMED
                    )
                )
        finally:
            clients.close()
        memory: dict[str, list[dict[str, Any]]] = {k: [] for k in CLIENTS}
        if args.memory_rounds:
            cluster.set_delay(at, args.memory_delay_ms)
            try:
                for r in range(args.memory_rounds):
                    shift = r % len(CLIENTS)
                    for client in CLIENTS[shift:] + CLIENTS[:shift]:
                        memory[client].append(_run_child(kwargs, uri, client, workers))
                    c.log(
                        f"memory {r + 1}/{args.memory_rounds}: "
                        + ", ".join(
                            f"{k} {memory[k][-1]['rss_kib_per_query']} KiB RSS, "
                            f"{memory[k][-1]['traced_kib_per_query']} KiB traced /query "
                            f"({memory[k][-1]['in_flight']} in flight)"
                            for k in CLIENTS
                        )
                    )
            finally:
                cluster.set_delay(at, 0)
    return _outcome(args, series, memory)


def _timed(clients: Clients, client: str, per: int) -> dict[str, float]:
    cpu = time.process_time()
    began = time.perf_counter()
    gauge = clients.round(client, per)
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu
    queries = clients.workers * per
    return {
        "queries": queries,
        "seconds": seconds,
        "qps": queries / seconds,
        "cpu_ms_per_query": cpu * 1000 / queries,
        "in_flight": gauge.peak,
    }


def _outcome(
    args: argparse.Namespace,
    series: dict[str, list[dict[str, float]]],
    memory: dict[str, list[dict[str, Any]]],
) -> c.Outcome:
    qps = {k: c.median([x["qps"] for x in v]) for k, v in series.items()}
    cpu = {k: c.median([x["cpu_ms_per_query"] for x in v]) for k, v in series.items()}
    ratio = qps["aio"] / qps["aiotrino"]
    per_round = c.median(
        [a["qps"] / t["qps"] for a, t in zip(series["aio"], series["aiotrino"], strict=True)]
    )
    figures: dict[str, Any] = {f"{k}_qps": round(v) for k, v in qps.items()}
    figures.update({f"{k}_cpu_ms_per_query": c.rnd(v, 3) for k, v in cpu.items()})
    figures.update(
        aio_over_aiotrino=c.rnd(ratio),
        aio_over_aiotrino_per_round_median=c.rnd(per_round),
        aio_over_threads=c.rnd(qps["aio"] / qps["threads"]),
        aio_any_over_aiotrino=c.rnd(qps[SPREAD] / qps["aiotrino"]),
    )
    for k, runs in memory.items():
        if runs:
            figures[f"{k}_rss_kib_per_query"] = c.rnd(
                c.median([x["rss_kib_per_query"] for x in runs]), 1
            )
            figures[f"{k}_traced_kib_per_query"] = c.rnd(
                c.median([x["traced_kib_per_query"] for x in runs]), 1
            )
    c.log("medians: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    details: dict[str, Any] = {
        k: [{n: c.rnd(x, 3) for n, x in r.items()} for r in v] for k, v in series.items()
    }
    details["memory"] = memory
    return c.Outcome(
        figures=figures,
        ratio=c.rnd(ratio),
        bar="prestoha.aio queries/s >= aiotrino queries/s (median over rounds, 200 in flight)",
        passed=ratio >= 1.0,
        config={
            "workers": args.workers,
            "queries_per_worker": args.per_worker,
            "rounds": args.rounds,
            "memory_rounds": args.memory_rounds,
            "memory_delay_ms": args.memory_delay_ms,
            "sql": SQL,
            "clients": {
                "aio": "prestoha.aio, one connection, a cursor per task, one event loop",
                SPREAD: "as aio, mode='any': over the three coordinators (not judged)",
                "threads": "prestoha.connect, one connection shared by the threads, a cursor each",
                "aiotrino": "aiotrino.dbapi, one connection, a cursor per task, connector limit=0",
            },
            "aiotrino": c._version_of("aiotrino"),
            "aiohttp": c._version_of("aiohttp"),
            "agent": {**AGENT_DEFAULTS, "check_timeout": AGENT_CHECK_TIMEOUT},
        },
        details=details,
    )


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0], limit=900)
    p.add_argument("--workers", type=int, default=200, help="queries in flight")
    p.add_argument("--per-worker", type=int, default=5, help="queries per worker per round")
    p.add_argument("--rounds", type=int, default=11)
    p.add_argument("--memory-rounds", type=int, default=3, help="children per client (0: none)")
    p.add_argument("--memory-delay-ms", type=int, default=200)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--uri", default="", help=argparse.SUPPRESS)
    p.add_argument("--client", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(json.loads(args.child), args.uri, args.client, args.workers)))
        return 0
    return c.run(
        "B11",
        "concurrency_async",
        f"{args.workers} concurrent SELECT 1: prestoha.aio vs {args.workers} threads vs aiotrino",
        lambda: measure(args),
        args=args,
    )


if __name__ == "__main__":
    sys.exit(main())
