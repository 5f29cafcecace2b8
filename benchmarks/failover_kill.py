"""B5 failover_kill: SIGKILL the leader coordinator under back-to-back small reads.

prestoha (``leader`` mode through ZooKeeper) against HAProxy with two backup servers in front
of the same three coordinators, driven by ``trino.dbapi``; see ``benchmarks/_failover.py``.
Bar: prestoha fails no query, its gap (kill to next success) is <= 0.3 s in every trial with
a median <= 0.2 s, and the baseline's median gap is >= 20 x prestoha's. Each prestoha trial
prints where its gap went (detection, resubmission, the query; election and discovery).
"""

from __future__ import annotations

import sys

from benchmarks._failover import main

if __name__ == "__main__":
    sys.exit(main("kill", "B5", "failover_kill", None))
