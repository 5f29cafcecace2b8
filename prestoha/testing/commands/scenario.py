"""The story ``prestoha demo`` tells: a real local cluster, its leader killed under load,
queries that keep working.

Everything is real: a ZooKeeper server, three emulated Trino coordinators and their agents run
as processes (:class:`~prestoha.testing.cluster.LocalCluster`); worker threads query through
:func:`prestoha.connect`; the leader's coordinator gets a SIGKILL. Every number shown is counted
from what the queries returned, and every row of the long reads is checked (count and order).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

__all__ = ["COUNT_SQL", "SHORT_SQL", "STREAM_SQL", "TIMELINE_STEP", "Demo", "NodeView", "Tally"]

#: A short aggregate and a long ordered read whose rows are all checked.
SHORT_SQL = "SELECT orderpriority, count(*) FROM orders GROUP BY orderpriority ORDER BY 1"
STREAM_SQL = (
    "SELECT orderkey, linenumber, partkey, quantity, extendedprice, shipdate "
    "FROM lineitem ORDER BY orderkey, linenumber"
)
COUNT_SQL = "SELECT count(*) FROM lineitem"
TIMELINE_STEP = 0.25  # seconds per cell of the timeline


@dataclass
class Tally:
    """What the workers saw, counted under one lock."""

    started: float = field(default_factory=time.monotonic)
    ok: int = 0
    failed: int = 0
    moved: int = 0
    rows_checked: int = 0
    served: Counter[str] = field(default_factory=Counter)
    timeline: dict[str, Counter[int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    resubmissions: int = 0
    replays: int = 0
    replayed_rows: int = 0
    node_down: int = 0
    killed_node: str | None = None
    kill_at: float | None = None
    first_after_kill: float | None = None
    first_after_kill_node: str | None = None
    slowest_across_kill: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def success(self, node: str, attempts: int, began: float, rows: int) -> None:
        """Count a query ``node`` answered after ``attempts`` tries, begun at ``began``."""
        now = time.monotonic()
        with self.lock:
            self.ok += 1
            self.rows_checked += rows
            self.served[node] += 1
            cell = int((now - self.started) / TIMELINE_STEP)
            self.timeline.setdefault(node, Counter())[cell] += 1
            if attempts > 1:
                self.moved += 1
            if self.kill_at is not None and now >= self.kill_at:
                if began <= self.kill_at:
                    self.slowest_across_kill = max(self.slowest_across_kill, now - began)
                if self.first_after_kill is None and node != self.killed_node:
                    self.first_after_kill = now
                    self.first_after_kill_node = node

    def failure(self, text: str) -> None:
        """Count a failed query (the first few errors are kept)."""
        with self.lock:
            self.failed += 1
            if len(self.errors) < 5:
                self.errors.append(text)


@dataclass
class NodeView:
    """One coordinator as the demo shows it."""

    node_id: str
    uri: str
    pid: int | None
    process: str = "running"


class Demo:
    """Runs the scenario on a started LocalCluster; ``log`` receives one line per step."""

    def __init__(
        self,
        cluster: Any,
        *,
        threads: int,
        mode: str,
        log: Callable[[str], None],
        warmup: float = 3.0,
        after_kill: float = 4.0,
        after_restart: float = 2.0,
    ) -> None:
        import prestoha

        self.cluster = cluster
        self.tally = Tally()
        self.log_lines: deque[tuple[float, str]] = deque(maxlen=12)
        self._log = log
        self.phase = "warming up"
        self.mode = mode
        self.nodes = [
            NodeView(n, uri, cluster.coordinator(i).pid)
            for i, (n, uri) in enumerate(zip(cluster.node_ids, cluster.coordinators, strict=True))
        ]
        self._by_uri = {v.uri: v.node_id for v in self.nodes}
        self.connection = prestoha.connect(**cluster.connect_kwargs(), mode=mode)
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._work, args=(i,), name=f"demo-{i}", daemon=True)
            for i in range(threads)
        ]
        self.timings = (warmup, after_kill, after_restart)
        self.election_seconds: float | None = None
        self.new_leader: str | None = None
        self.rejoined_seconds: float | None = None
        self.restarted_at: float | None = None
        self._noted_down: set[str] = set()
        self._reading = 0  # long reads that have handed out rows and are not finished
        self._expected: list[Any] | None = None
        self.stream_rows = self._count_rows()

    def _count_rows(self) -> int:
        with self.connection.cursor() as cur:
            cur.execute(COUNT_SQL)
            row = cur.fetchone()
        return int(row[0]) if row else 0

    # -- the story ------------------------------------------------------------------------

    def note(self, text: str) -> None:
        """Record one step (shown live and in the plain log)."""
        at = time.monotonic() - self.tally.started
        self.log_lines.append((at, text))
        self._log(f"+{at:5.2f} s  {text}")

    def node_id(self, uri: str | None) -> str:
        """The node id of a coordinator URI (the URI itself when it is not one of ours)."""
        return self._by_uri.get(uri or "", uri or "?")

    def run(self) -> None:
        """The scenario: load, kill the leader, watch, restart it, stop."""
        from prestoha import events

        warmup, after_kill, after_restart = self.timings
        unsubscribe = events.subscribe(
            self._on_event, frozenset({"resubmission", "replay", "node_down"})
        )
        try:
            leader = self.cluster.leader()
            self.note(f"the leader is {leader.node_id if leader else 'none'}")
            self.note(self._workload())
            for t in self.threads:
                t.start()
            self.stop.wait(warmup)
            # a crash in the middle of a long read is the interesting case: wait for one
            deadline = time.monotonic() + 3.0
            while self._reading == 0 and time.monotonic() < deadline:
                self.stop.wait(0.01)
            self._kill_leader()
            self.stop.wait(after_kill)
            self._restart_killed()
            self.phase = "after the restart"
            self.stop.wait(after_restart)
        finally:
            self.phase = "stopping"
            self.stop.set()
            for t in self.threads:
                if t.ident is not None:  # Ctrl-C may come before every thread started
                    t.join(timeout=10)
            unsubscribe()
            self.connection.close()
        self.phase = "done"

    def _workload(self) -> str:
        n = len(self.threads)
        return (
            f"{n} threads: aggregates, and ordered reads of {self.stream_rows:,} rows, "
            "every row checked"
        )

    def _kill_leader(self) -> None:
        c = self.cluster
        leader = c.leader()
        if leader is None:
            raise click.ClickException("no leader to kill")
        i = c.index(leader.node_id)
        view = self.nodes[i]
        with self.tally.lock:
            self.tally.killed_node = leader.node_id
            self.tally.kill_at = time.monotonic()
        self.note(f"SIGKILL {leader.node_id} (pid {view.pid}), the leader")
        c.kill(i)
        view.process = "killed"
        self.phase = "leader killed"
        new = c.wait_for_leader(30, not_node=leader.node_id)
        assert self.tally.kill_at is not None
        self.election_seconds = time.monotonic() - self.tally.kill_at
        self.new_leader = new.node_id
        self.note(
            f"ZooKeeper: {new.node_id} elected leader (epoch {new.epoch}), "
            f"{self.election_seconds:.2f} s after the kill"
        )

    def _restart_killed(self) -> None:
        c = self.cluster
        node = self.tally.killed_node
        assert node is not None
        i = c.index(node)
        view = self.nodes[i]
        view.process = "restarting"
        began = self.restarted_at = time.monotonic()
        c.restart(i)
        view.pid = c.coordinator(i).pid
        view.process = "running"
        self.note(f"{node} restarted (pid {view.pid})")
        found = c.discovery.wait_for(lambda t: any(m.node_id == node for m in t.members), 30)
        if found is not None:
            self.rejoined_seconds = time.monotonic() - began
            self.note(f"{node} registered again by its agent, as a standby")
        else:
            self.note(f"{node} did not register again within 30 s")

    # -- the workers ----------------------------------------------------------------------

    def _work(self, i: int) -> None:
        import prestoha

        cur = self.connection.cursor()
        stream = i % 2 == 1
        while not self.stop.is_set():
            began = time.monotonic()
            try:
                rows = self._stream(cur) if stream else self._short(cur)
                attempts = len(cur.attempts)
                self.tally.success(self.node_id(cur.coordinator), attempts, began, rows)
            except prestoha.Error as exc:
                if self.stop.is_set() and isinstance(exc, prestoha.InterfaceError):
                    return  # the connection closed under us at the end
                self._failed(f"{type(exc).__name__}: {exc.message or exc}")
            except _WrongResult as exc:
                self._failed(str(exc))
            self.stop.wait(0.02)

    def _failed(self, text: str) -> None:
        self.tally.failure(text)
        self.note(f"query failed: {text.splitlines()[0][:120]}")

    def _short(self, cur: Any) -> int:
        cur.execute(SHORT_SQL)
        rows = cur.fetchall()
        if self._expected is None:
            self._expected = rows
        elif rows != self._expected:
            raise _WrongResult(f"the aggregate returned {rows!r}, expected {self._expected!r}")
        return len(rows)

    def _stream(self, cur: Any) -> int:
        cur.execute(STREAM_SQL)
        with self.tally.lock:
            self._reading += 1
        try:
            return self._read_all(cur)
        finally:
            with self.tally.lock:
                self._reading -= 1

    def _read_all(self, cur: Any) -> int:
        count, last = 0, (0, 0)
        while True:
            batch = cur.fetchmany(2000)
            if not batch:
                break
            for row in batch:
                key = (row[0], row[1])
                if key <= last:
                    raise _WrongResult(f"line {key} after {last}: a row repeated or skipped back")
                last = key
            count += len(batch)
            time.sleep(0.01)  # a consumer doing some work with each chunk
        if count != self.stream_rows:
            raise _WrongResult(f"the read returned {count} rows, expected {self.stream_rows}")
        return count

    def _on_event(self, event: str, **f: Any) -> None:
        t = self.tally
        with t.lock:
            if event == "resubmission":
                t.resubmissions += 1
            elif event == "replay" and f.get("ok"):
                t.replays += 1
                t.replayed_rows += int(f.get("rows") or 0)
            elif event == "node_down":
                t.node_down += 1
        if event == "resubmission":
            rows = int(f.get("replay_rows") or 0)
            how = f", verified replay of {rows:,} rows handed out" if rows else ""
            self.note(f"a query moved to {self.node_id(f.get('node'))}{how}")
        elif event == "node_down":
            node = self.node_id(f.get("node"))
            with t.lock:
                first = node not in self._noted_down
                self._noted_down.add(node)
            if first:
                self.note(f"{node} marked down by the client ({f.get('reason')})")

    # -- the result -----------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """What happened, as plain values (the ``--json`` output)."""
        t = self.tally
        with t.lock:
            gap = (
                None
                if t.first_after_kill is None or t.kill_at is None
                else round(t.first_after_kill - t.kill_at, 3)
            )
            return {
                "queries": t.ok + t.failed,
                "succeeded": t.ok,
                "failures": t.failed,
                "failovers": t.moved,
                "resubmissions": t.resubmissions,
                "verified_replays": t.replays,
                "replayed_rows": t.replayed_rows,
                "rows_checked": t.rows_checked,
                "node_down_marks": t.node_down,
                "killed": t.killed_node,
                "new_leader": self.new_leader,
                "gap_seconds": gap,
                "gap_served_by": t.first_after_kill_node,
                "slowest_query_across_kill_seconds": round(t.slowest_across_kill, 3),
                "election_seconds": _round(self.election_seconds),
                "rejoined_seconds": _round(self.rejoined_seconds),
                "served_by": dict(sorted(t.served.items())),
                "threads": len(self.threads),
                "mode": self.mode,
                "seconds": round(time.monotonic() - t.started, 2),
                "errors": list(t.errors),
            }


class _WrongResult(Exception):
    """A query returned rows that differ from what it must return."""


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
