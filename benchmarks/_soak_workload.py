"""The soak's workload: readers that know the answer in advance, writers with unique tokens.

Every query's outcome is recorded with its time, so the soak can check afterwards that no
read returned a wrong answer and that each write is in the table exactly as its outcome says.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import prestoha
from benchmarks import _common as c

#: Reads with a known answer: small and ordered, an aggregate, and two streams of several
#: pages (so that failures hit them after rows were handed out).
READS = {
    "nation": "SELECT nationkey, name, regionkey FROM tpch.tiny.nation ORDER BY nationkey",
    "aggregate": "SELECT count(*), sum(quantity), max(shipdate) FROM tpch.tiny.lineitem",
    "orders": "SELECT orderkey, custkey, totalprice, orderdate FROM tpch.tiny.orders "
    "ORDER BY orderkey",
    "stream": c.stream_sql(60_000, ordered=True),
}


@dataclass
class Record:
    """One query: when it ran, what it was and how it ended."""

    kind: str  # "read" or "write"
    name: str  # the read's name, or the write's token
    start: float
    end: float
    outcome: str  # ok | wrong | unknown | typed | untyped
    error: str | None = None
    node: str | None = None


def digest_of(rows: list[Any]) -> str:
    return str(c.row_digest(rows).hexdigest())


class Worker(threading.Thread):
    """A thread that runs one kind of query until told to stop."""

    def __init__(self, name: str, conn: prestoha.Connection) -> None:
        super().__init__(name=name, daemon=True)
        self.conn = conn
        self.records: list[Record] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def add(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)

    def snapshot(self) -> list[Record]:
        with self.lock:
            return list(self.records)


class Reader(Worker):
    """Runs the reads in turn and checks each answer against the known digest."""

    def __init__(self, name: str, conn: prestoha.Connection, known: dict[str, str]) -> None:
        super().__init__(name, conn)
        self.known = known

    def run(self) -> None:
        names = list(READS)
        i = 0
        while not self.stopping.is_set():
            query = names[i % len(names)]
            # every other round reads with one fetchall(), which must return every row or
            # raise: a cut-short list would show up as a wrong digest
            whole = (i // len(names)) % 2 == 1
            i += 1
            began = time.monotonic()
            node = None
            try:
                cur = self.conn.cursor()
                cur.execute(READS[query])
                rows: list[Any] = []
                if whole:
                    rows = cur.fetchall()
                while not whole:
                    batch = cur.fetchmany(5000)
                    if not batch:
                        break
                    rows.extend(batch)
                node = cur.coordinator
                cur.close()
                got = digest_of(rows)
                if got == self.known[query]:
                    self.add(Record("read", query, began, time.monotonic(), "ok", node=node))
                else:
                    how = "fetchall" if whole else "fetchmany"
                    why = f"{how}: digest {got[:12]} != {self.known[query][:12]} ({len(rows)} rows)"
                    self.add(Record("read", query, began, time.monotonic(), "wrong", why, node))
            except prestoha.Error as exc:
                self.add(Record("read", query, began, time.monotonic(), "typed", _text(exc)))
            except Exception as exc:
                self.add(Record("read", query, began, time.monotonic(), "untyped", _text(exc)))


class Writer(Worker):
    """INSERTs one unique token at a time into the lake table."""

    def __init__(self, name: str, conn: prestoha.Connection, table: str, pause: float) -> None:
        super().__init__(name, conn)
        self.table = table
        self.pause = pause

    def run(self) -> None:
        seq = 0
        while not self.stopping.is_set():
            seq += 1
            token = f"{self.name}-{seq}"
            began = time.monotonic()
            try:
                cur = self.conn.cursor()
                cur.execute(f"INSERT INTO {self.table} VALUES ('{token}')")
                cur.fetchall()
                node = cur.coordinator
                cur.close()
                self.add(Record("write", token, began, time.monotonic(), "ok", node=node))
            except prestoha.QueryOutcomeUnknownError as exc:
                self.add(Record("write", token, began, time.monotonic(), "unknown", _text(exc)))
            except prestoha.Error as exc:
                self.add(Record("write", token, began, time.monotonic(), "typed", _text(exc)))
            except Exception as exc:
                self.add(Record("write", token, began, time.monotonic(), "untyped", _text(exc)))
            self.stopping.wait(self.pause)


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:400]}"
