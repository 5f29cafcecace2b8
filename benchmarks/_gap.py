"""Where a failover gap goes, from the driver's events and the leader record in ZooKeeper.

During a prestoha trial every event the driver emits is recorded with its time. After the
fault, the gap (fault to the end of the first query that succeeded elsewhere) is split into:

- ``detection``: until the client saw the old leader fail (a refused or unanswered request,
  the node marked down);
- ``resubmission``: from there until the attempt that succeeded was sent;
- ``query``: that attempt, from its submit to its end;
- ``rest``: what is left (the benchmark loop's own bookkeeping).

Beside the path, and not part of it when a standby took the read: ``election`` (until the
new leader record was written, from the znode's creation time) and ``discovery`` (until the
client's cluster saw that record).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from prestoha import events

__all__ = ["Recorder", "breakdown", "election_seconds"]


class Recorder:
    """Every event the driver emits, with its monotonic time, while subscribed."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._unsubscribe = events.subscribe(self._record)

    def _record(self, event: str, **fields: Any) -> None:
        with self._lock:
            self.seen.append((time.monotonic(), event, fields))

    def close(self) -> list[tuple[float, str, dict[str, Any]]]:
        self._unsubscribe()
        with self._lock:
            return list(self.seen)


def election_seconds(zk_hosts: str, path: str, fault_wall: float, old_node: str) -> float | None:
    """Seconds from the fault (wall clock) to the creation of the current leader znode, if
    another node than ``old_node`` leads now."""
    import json

    from kazoo.client import KazooClient

    zk = KazooClient(hosts=zk_hosts)
    zk.start(timeout=10)
    try:
        data, stat = zk.get(path)
        if json.loads(data.decode()).get("node_id") == old_node:
            return None
        return float(stat.ctime) / 1000.0 - fault_wall
    except Exception:  # no leader record right now
        return None
    finally:
        zk.stop()
        zk.close()


def breakdown(
    seen: list[tuple[float, str, dict[str, Any]]],
    t_fault: float,
    old_uri: str,
    gap: float | None,
    election: float | None,
) -> dict[str, float | str | None]:
    """The gap of one trial, split as the module docstring says (seconds)."""
    after = [(t - t_fault, e, f) for t, e, f in seen if t >= t_fault]
    detected = next(
        (
            t
            for t, e, f in after
            if f.get("node") == old_uri
            and (e == "node_down" or (e == "attempt" and f.get("outcome") != "ok"))
        ),
        None,
    )
    success = next(
        (
            (t, f)
            for t, e, f in after
            if e == "attempt" and f.get("outcome") == "ok" and f.get("node") != old_uri
        ),
        None,
    )
    seen_leader = next(
        (t for t, e, f in after if e == "leader" and f.get("node") not in (None, old_uri)), None
    )
    out: dict[str, float | str | None] = {
        "detection_s": _r(detected),
        "resubmission_s": None,
        "query_s": None,
        "rest_s": None,
        "election_s": _r(election),
        "discovery_s": _r(seen_leader - election)
        if seen_leader is not None and election is not None
        else None,
        "new_leader_seen_s": _r(seen_leader),
        "path": None,
    }
    if success is not None and detected is not None:
        t_ok, fields = success
        submitted = t_ok - float(fields.get("seconds") or 0.0)
        out["resubmission_s"] = _r(submitted - detected)
        out["query_s"] = _r(t_ok - submitted)
        if gap is not None:
            out["rest_s"] = _r(gap - t_ok)
        out["path"] = (
            "new leader" if seen_leader is not None and seen_leader <= submitted else "standby"
        )
    return out


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
