"""How fast the agents move leadership and clean up, as a client watching ZooKeeper sees it.

One LocalCluster (one ZooKeeper node, three emulated coordinators, their agents), and per run,
one after the other:

- ``coordinator_kill``: SIGKILL the leader's coordinator -> a new leader znode is seen;
- ``agent_sigterm``: SIGTERM the leader's agent -> its member and leader znodes are gone;
- ``agent_kill``: SIGKILL the leader's agent -> a new leader is seen (its ZooKeeper session has
  to expire first: ``--session-timeout``).

Times run from the signal to the ZooKeeper watch of a ``ZooKeeperDiscovery`` reporting the
change: what a client process experiences. The cluster is healed between runs.

Usage: ``python -m benchmarks.leader_election [--runs 10] [--interval 0.5]
[--check-timeout 0.5] [--session-timeout 4]``. The last line of output is one JSON object with
the medians.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prestoha.discovery import Topology
from prestoha.testing.cluster import LocalCluster

HERE = Path(__file__).resolve().parent


def timed(
    cluster: LocalCluster, action: Callable[[], object], done: Callable[[Topology], bool]
) -> float:
    """Seconds from ``action()`` until a published topology satisfies ``done``."""
    seen = threading.Event()
    stamp: list[float] = []

    def watch(topology: Topology) -> None:
        if not seen.is_set() and done(topology):
            stamp.append(time.monotonic())
            seen.set()

    unsubscribe = cluster.discovery.subscribe(watch)
    try:
        started = time.monotonic()
        action()
        if not seen.wait(60):
            raise TimeoutError("the change was not seen within 60 s")
        return stamp[0] - started
    finally:
        unsubscribe()


def one_run(cluster: LocalCluster) -> dict[str, float]:
    """One measurement of each scenario, healing the cluster after each."""
    figures: dict[str, float] = {}

    old = cluster.wait_for_leader(30)
    i = cluster.index(old.node_id)
    figures["coordinator_kill"] = timed(
        cluster,
        lambda: cluster.kill(i),
        lambda t: t.leader is not None and t.leader.node_id != old.node_id,
    )
    cluster.heal()

    old = cluster.wait_for_leader(30)
    i = cluster.index(old.node_id)
    figures["agent_sigterm"] = timed(
        cluster,
        lambda: cluster.agent(i).process.send_signal(15),  # type: ignore[union-attr]
        lambda t: (
            t.member(old.node_id) is None and (t.leader is None or t.leader.node_id != old.node_id)
        ),
    )
    cluster.agent(i).terminate()
    cluster.heal()

    old = cluster.wait_for_leader(30)
    i = cluster.index(old.node_id)
    figures["agent_kill"] = timed(
        cluster,
        lambda: cluster.kill_agent(i),
        lambda t: t.leader is not None and t.leader.node_id != old.node_id,
    )
    cluster.heal()
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return (and print, and save) its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.5, help="agent check interval, s")
    parser.add_argument("--check-timeout", type=float, default=0.5, help="agent check timeout, s")
    parser.add_argument("--session-timeout", type=float, default=4.0, help="agent session, s")
    args = parser.parse_args(argv)
    runs: list[dict[str, float]] = []
    with LocalCluster(
        3,
        agent_interval=args.interval,
        check_timeout=args.check_timeout,
        session_timeout=args.session_timeout,
    ) as cluster:
        for n in range(args.runs):
            figures = one_run(cluster)
            runs.append(figures)
            print(f"run {n + 1}: " + ", ".join(f"{k} {v:.3f} s" for k, v in figures.items()))
    result: dict[str, Any] = {
        "benchmark": "leader_election",
        "runs": args.runs,
        "agent_interval_s": args.interval,
        "check_timeout_s": args.check_timeout,
        "rise": 2,
        "fall": 2,
        "session_timeout_s": args.session_timeout,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }
    for key in ("coordinator_kill", "agent_sigterm", "agent_kill"):
        values = [r[key] for r in runs]
        result[f"{key}_median_s"] = round(statistics.median(values), 4)
        result[f"{key}_max_s"] = round(max(values), 4)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "leader_election.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
