"""B9 midstream: the leader is killed after 300,000 of 1,000,000 ordered rows were handed out.

Three coordinators, ``leader`` mode. Runs alternate: the stream with no fault, then the same
stream where the client SIGKILLs the leader as soon as it holds 300,000 rows; the cluster is
healed after each faulted run. Every run checks its rows: ids exactly 0..N-1 in order (none
twice, none skipped) and a SHA-256 of all rows equal to the fault-free one.
Bar: the faulted stream completes with the same digest and no row twice, and its median
total time is <= 2 x the fault-free median.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from benchmarks import _common as c
from benchmarks._clients import AGENT_DEFAULTS, local_cluster, prestoha_connect
from prestoha import events
from prestoha.testing.cluster import LocalCluster

BAR = 2.0


class _Events:
    def __init__(self) -> None:
        self.seen: list[tuple[float, str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def __call__(self, event: str, **fields: Any) -> None:
        with self.lock:
            self.seen.append((time.monotonic(), event, fields))


def one_run(cluster: LocalCluster, rows: int, kill_at: int | None, batch: int) -> dict[str, Any]:
    """Stream the ordered rows; kill the leader once ``kill_at`` rows are held."""
    cluster.heal()
    leader = cluster.wait_for_leader(30)
    conn = prestoha_connect(cluster, mode="leader")
    seen = _Events()
    unsubscribe = events.subscribe(seen, frozenset({"failover", "replay", "resubmission"}))
    digest = c.row_digest([])
    count = duplicates = skipped = 0
    expected_id = 0
    killed_at: float | None = None
    error: str | None = None
    began = time.monotonic()
    try:
        cur = conn.cursor()
        cur.execute(c.stream_sql(rows, ordered=True))
        while True:
            got = cur.fetchmany(batch)
            if not got:
                break
            for row in got:
                rid = row[0]
                if rid < expected_id:
                    duplicates += 1
                elif rid > expected_id:
                    skipped += rid - expected_id
                expected_id = max(expected_id, rid + 1)
            count += len(got)
            c.row_digest(got, digest)
            if kill_at is not None and killed_at is None and count >= kill_at:
                killed_at = time.monotonic()
                cluster.kill(cluster.index(leader.node_id))
        attempts = [a.node for a in cur.attempts]
    except Exception as exc:
        error = f"{type(exc).__name__}: {str(exc)[:500]}"
        attempts = []
    finally:
        seconds = time.monotonic() - began
        unsubscribe()
        conn.close()
    skipped += max(0, rows - expected_id)
    return {
        "faulted": kill_at is not None,
        "seconds": round(seconds, 3),
        "rows": count,
        "digest": digest.hexdigest(),
        "duplicates": duplicates,
        "skipped": skipped,
        "error": error,
        "killed_after_s": c.rnd(killed_at - began, 3) if killed_at else None,
        "attempts": len(attempts),
        "events": [
            {"t": round(t - began, 3), "event": e, **{k: str(v) for k, v in f.items()}}
            for t, e, f in seen.seen
        ],
    }


def measure(rows: int, kill_at: int, rounds: int, batch: int) -> c.Outcome:
    runs: list[dict[str, Any]] = []
    with local_cluster(3) as cluster:
        warm = prestoha_connect(cluster)
        warm.cursor().execute(c.stream_sql(10_000, ordered=True)).fetchall()
        warm.close()
        for r in range(rounds):
            for fault in (None, kill_at):
                run = one_run(cluster, rows, fault, batch)
                runs.append(run)
                what = "faulted" if fault else "fault-free"
                c.log(
                    f"round {r + 1}/{rounds} {what}: {run['rows']:,} rows in {run['seconds']} s, "
                    f"{run['attempts']} attempt(s), dup {run['duplicates']}, "
                    f"skipped {run['skipped']}, error {run['error']}"
                )
    clean = [x for x in runs if not x["faulted"]]
    faulted = [x for x in runs if x["faulted"]]
    reference = clean[0]["digest"]
    clean_ok = all(x["error"] is None and x["digest"] == reference for x in clean)
    completed = sum(1 for x in faulted if x["error"] is None and x["rows"] == rows)
    same = sum(1 for x in faulted if x["digest"] == reference)
    dup = sum(x["duplicates"] for x in faulted)
    skip = sum(x["skipped"] for x in faulted)
    t_clean = c.median([x["seconds"] for x in clean])
    t_fault = c.median([x["seconds"] for x in faulted])
    ratio = t_fault / t_clean
    passed = (
        clean_ok
        and completed == len(faulted)
        and same == len(faulted)
        and dup == 0
        and skip == 0
        and ratio <= BAR
    )
    return c.Outcome(
        figures={
            "fault_free_median_s": c.rnd(t_clean, 3),
            "faulted_median_s": c.rnd(t_fault, 3),
            "faulted_completed": f"{completed}/{len(faulted)}",
            "faulted_same_digest": f"{same}/{len(faulted)}",
            "rows_twice": dup,
            "rows_skipped": skip,
            "fault_free_runs_agree": clean_ok,
        },
        ratio=c.rnd(ratio),
        bar=f"completes, digest identical, no row twice; total time <= {BAR:g} x fault-free",
        passed=passed,
        config={
            "rows": rows,
            "kill_after_rows": kill_at,
            "rounds": rounds,
            "fetchmany": batch,
            "mode": "leader",
            "resume": "verify (default)",
            "agent": AGENT_DEFAULTS,
        },
        details={"runs": runs},
    )


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0], limit=1500)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--kill-at", type=int, default=300_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch", type=int, default=10_000)
    args = p.parse_args(argv)
    return c.run(
        "B9",
        "midstream",
        "leader killed after 300k of 1M ordered rows: verified replay vs the fault-free stream",
        lambda: measure(args.rows, args.kill_at, args.rounds, args.batch),
        args=args,
    )


if __name__ == "__main__":
    sys.exit(main())
