"""R1 soak: a mixed workload on three coordinators while a chaos loop keeps breaking things.

``python -m benchmarks.soak --seconds N``. A three-node ZooKeeper ensemble, three emulated
coordinators with their agents; reader threads (one per mode: ``leader``, ``any``,
``leader-preferred``) run reads whose digest is known in advance (taken through the plain trino
client before the chaos starts), a writer INSERTs unique tokens into a lake table. Every 2-5 s
the chaos loop does one of: SIGKILL a coordinator and restart it, SIGSTOP then SIGCONT one,
restart an agent, kill and restart a ZooKeeper node, a burst of HTTP 503 answers, an instant
restart that forgets every running query. At the end the cluster is healed, the workload
stopped, the table read back and the invariants of BENCHMARKS.md checked and printed; the exit
status is 1 when one fails.
"""

from __future__ import annotations

import collections
import os
import random
import sys
import threading
import time
from typing import Any

from benchmarks import _common as c
from benchmarks._clients import AGENT_DEFAULTS, local_cluster, prestoha_connect, trino_connect
from benchmarks._soak_workload import READS, Reader, Record, Worker, Writer, digest_of
from prestoha import events
from prestoha.testing.cluster import LocalCluster

ACTIONS = ("kill_restart", "stop_cont", "restart_agent", "zookeeper", "burst_503", "forget")
AVAILABILITY_BAR = 0.995
DRIFT_BAR = 0.10


def chaos(cluster: LocalCluster, rng: random.Random, action: str) -> dict[str, Any]:
    """Do one chaos action (and undo it, except a 503 burst, which wears off)."""
    leader = cluster.leader()
    if leader is not None and rng.random() < 0.5:
        i = cluster.index(leader.node_id)
    else:
        i = rng.randrange(cluster.size)
    done: dict[str, Any] = {"action": action, "node": cluster.node_ids[i]}
    if action == "kill_restart":
        cluster.kill(i)
        time.sleep(rng.uniform(0.5, 2.0))
        cluster.restart(i)
    elif action == "stop_cont":
        cluster.stop(i)
        time.sleep(rng.uniform(0.5, 3.0))
        cluster.cont(i)
    elif action == "restart_agent":
        cluster.restart_agent(i)
    elif action == "zookeeper":
        j = rng.randrange(len(cluster.zookeeper.nodes))
        done["node"] = f"zk{j}"
        cluster.kill_zookeeper(j)
        time.sleep(rng.uniform(1.0, 3.0))
        cluster.restart_zookeeper(j)
    elif action == "burst_503":
        done["count"] = rng.randint(3, 20)
        cluster.fail_next(i, done["count"], 503)
    else:
        cluster.restart(i)
    return done


def _counts() -> tuple[int, int]:
    return len(os.listdir("/proc/self/fd")), threading.active_count()


def _close_admin_sessions(cluster: LocalCluster) -> None:
    """Close the harness's own admin connections, so that fd counts see only the client's."""
    for i in range(cluster.size):
        cluster.coordinator(i).admin.close()


def _fd_targets() -> collections.Counter[str]:
    """What the open fds point at, by kind (``socket``, ``pipe``, a file's path...)."""
    found: collections.Counter[str] = collections.Counter()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        found[target.split(":", 1)[0] if target.startswith(("socket:", "pipe:")) else target] += 1
    return found


def _idle_timeout() -> float:
    """How long prestoha keeps an idle fetch thread for the next query (30 s if unknown)."""
    try:
        from prestoha.execution import FETCHER_IDLE_TIMEOUT

        return float(FETCHER_IDLE_TIMEOUT)
    except (ImportError, AttributeError):
        return 30.0


def _settled_counts(target: tuple[int, int], timeout: float) -> tuple[int, int]:
    """The fd and thread counts, after waiting up to ``timeout`` for them to come back."""
    deadline = time.monotonic() + timeout
    got = _counts()
    while time.monotonic() < deadline:
        if all(abs(g - t) <= DRIFT_BAR * t for g, t in zip(got, target, strict=True)):
            break
        time.sleep(0.5)
        got = _counts()
    return got


class _EventCount:
    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def __call__(self, event: str, **fields: Any) -> None:
        key = event if event != "query" else f"query:{fields.get('outcome')}"
        with self.lock:
            self.counts[key] += 1


def soak(seconds: float, seed: int, pause: float) -> c.Outcome:
    rng = random.Random(seed)
    chaos_log: list[dict[str, Any]] = []
    workers: list[Worker] = []
    counter = _EventCount()
    with local_cluster(3, zookeeper_nodes=3) as cluster:
        table = f"lake.default.soak_{int(time.time())}"
        direct = trino_connect(cluster.coordinators[0])
        cur = direct.cursor()
        cur.execute(f"CREATE TABLE {table} (token varchar)")
        cur.fetchall()
        known = {}
        for name, sql in READS.items():
            cur.execute(sql)
            known[name] = digest_of(cur.fetchall())
        direct.close()
        # Counted before the workload opens its connections and after it closed them: a
        # connection may hold a pool per coordinator while open, but nothing may outlive it.
        _close_admin_sessions(cluster)
        start_counts = _counts()
        start_fds = _fd_targets()
        for mode in ("leader", "any", "leader-preferred"):
            workers.append(Reader(f"reader-{mode}", prestoha_connect(cluster, mode=mode), known))
        workers.append(Writer("writer", prestoha_connect(cluster, mode="leader"), table, pause))
        unsubscribe = events.subscribe(counter)
        began = time.monotonic()
        try:
            for w in workers:
                w.start()
            while time.monotonic() - began < seconds:
                time.sleep(rng.uniform(2.0, 5.0))
                if time.monotonic() - began >= seconds:
                    break
                action = rng.choice(ACTIONS)
                t0 = time.monotonic()
                try:
                    entry = chaos(cluster, rng, action)
                except Exception as exc:
                    entry = {"action": action, "harness_error": f"{type(exc).__name__}: {exc}"}
                    cluster.heal()
                entry.update(t=round(t0 - began, 2), seconds=round(time.monotonic() - t0, 2))
                chaos_log.append(entry)
                c.log(f"chaos at {entry['t']:.1f} s: {entry}")
            cluster.heal()
            time.sleep(3.0)  # the workload goes on a moment on the healed cluster
        finally:
            for w in workers:
                w.stopping.set()
            for w in workers:
                w.join(90)
            unsubscribe()
        stuck = [w.name for w in workers if w.is_alive()]
        cluster.heal()
        check = trino_connect(cluster.coordinators[0])
        cur = check.cursor()
        cur.execute(f"SELECT token, count(*) FROM {table} GROUP BY token")
        in_table = {str(t): int(n) for t, n in cur.fetchall()}
        check.close()
        for w in workers:
            w.conn.close()
        _close_admin_sessions(cluster)
        end_counts = _settled_counts(start_counts, _idle_timeout() + 15.0)
        fds_added = dict(_fd_targets() - start_fds)
        threads_left = sorted(t.name for t in threading.enumerate())
    records = [r for w in workers for r in w.snapshot()]
    out = verdict(
        records, in_table, (start_counts, end_counts), stuck, chaos_log, counter, seconds, began
    )
    out.details.update(fds_added=fds_added, threads_at_end=threads_left)
    return out


def _examples(records: list[Record], t0: float, limit: int = 20) -> list[dict[str, Any]]:
    return [
        {
            "query": r.name,
            "at": round(r.start - t0, 2),
            "took": round(r.end - r.start, 2),
            "outcome": r.outcome,
            "error": r.error,
            "node": r.node,
        }
        for r in records[:limit]
    ]


def verdict(
    records: list[Record],
    in_table: dict[str, int],
    counts: tuple[tuple[int, int], tuple[int, int]],
    stuck: list[str],
    chaos_log: list[dict[str, Any]],
    counter: _EventCount,
    seconds: float,
    t0: float,
) -> c.Outcome:
    """Check the invariants, print them, and make the outcome."""
    start_counts, end_counts = counts
    reads = [r for r in records if r.kind == "read"]
    writes = [r for r in records if r.kind == "write"]
    wrong = [r for r in reads if r.outcome == "wrong"]
    untyped = [r for r in reads if r.outcome == "untyped"]
    ok_reads = sum(1 for r in reads if r.outcome == "ok")
    availability = ok_reads / len(reads) if reads else 0.0
    issued = {w.name for w in writes}
    duplicated = {t: n for t, n in in_table.items() if n > 1}
    phantoms = sorted(t for t in in_table if t not in issued)
    bad_writes = []
    for w in writes:
        n = in_table.get(w.name, 0)
        if (
            (w.outcome == "ok" and n != 1)
            or (w.outcome == "unknown" and n > 1)
            or (w.outcome in ("typed", "untyped") and n != 0)
        ):
            bad_writes.append(
                {
                    "token": w.name,
                    "at": round(w.start - t0, 2),
                    "outcome": w.outcome,
                    "in_table": n,
                    "error": w.error,
                }
            )
    fd_drift = abs(end_counts[0] - start_counts[0]) / start_counts[0]
    thread_drift = abs(end_counts[1] - start_counts[1]) / start_counts[1]
    invariants = {
        "wrong_results": {
            "value": len(wrong) + len(untyped),
            "bar": "0 (a read answers right or raises a prestoha error)",
            "pass": not wrong and not untyped,
        },
        "duplicated_writes": {"value": len(duplicated), "bar": "0", "pass": not duplicated},
        "writes_match_outcomes": {
            "value": len(bad_writes) + len(phantoms),
            "bar": "0 (ok: once; unknown: at most once; error: absent; nothing unissued)",
            "pass": not bad_writes and not phantoms,
        },
        "read_availability": {
            "value": round(availability, 5),
            "bar": f">= {AVAILABILITY_BAR}",
            "pass": availability >= AVAILABILITY_BAR,
        },
        "fds_and_threads": {
            "value": {
                "fds": [start_counts[0], end_counts[0]],
                "threads": [start_counts[1], end_counts[1]],
            },
            "bar": f"within {DRIFT_BAR:.0%} of the start (before/after the workload's connections)",
            "pass": fd_drift <= DRIFT_BAR and thread_drift <= DRIFT_BAR and not stuck,
        },
    }
    outcomes = collections.Counter(f"{r.kind}:{r.outcome}" for r in records)
    errors = collections.Counter(
        (r.error or "").split(":", 1)[0] for r in records if r.outcome != "ok"
    )
    for name, inv in invariants.items():
        mark = "ok  " if inv["pass"] else "FAIL"
        print(f"{mark} {name}: {inv['value']} (bar {inv['bar']})", flush=True)
    return c.Outcome(
        figures={
            "reads": len(reads),
            "writes": len(writes),
            "chaos_actions": len(chaos_log),
            "read_availability": round(availability, 5),
            "outcomes": dict(outcomes),
            "invariants_failed": [k for k, v in invariants.items() if not v["pass"]],
        },
        ratio=None,
        bar="all invariants hold (BENCHMARKS.md R1)",
        passed=all(v["pass"] for v in invariants.values()),
        config={"seconds": seconds, "reads": list(READS), "agent": AGENT_DEFAULTS},
        details={
            "invariants": invariants,
            "errors": dict(errors),
            "events": dict(counter.counts),
            "wrong_reads": _examples(wrong + untyped, t0),
            "failed_reads": _examples([r for r in reads if r.outcome == "typed"], t0, 40),
            "failed_writes": _examples([w for w in writes if w.outcome != "ok"], t0, 40),
            "bad_writes": bad_writes[:40],
            "duplicated": dict(list(duplicated.items())[:40]),
            "phantoms": phantoms[:40],
            "stuck_workers": stuck,
            "chaos": chaos_log,
        },
    )


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0], limit=0)
    p.add_argument("--seconds", type=float, default=60.0, help="how long the chaos runs (60)")
    p.add_argument("--seed", type=int, default=None, help="random seed of the chaos loop")
    p.add_argument("--write-pause", type=float, default=0.1, help="seconds between INSERTs")
    args = p.parse_args(argv)
    if args.time_limit <= 0:
        args.time_limit = args.seconds + 300
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    c.log(f"soak seed {seed}")
    return c.run(
        "R1",
        "soak",
        f"{args.seconds:g} s of chaos under a mixed workload (seed {seed})",
        lambda: soak(args.seconds, seed, args.write_pause),
        args=args,
        fail_below_bar=True,
    )


if __name__ == "__main__":
    sys.exit(main())
