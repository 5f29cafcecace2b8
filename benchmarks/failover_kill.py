"""B5 failover_kill: SIGKILL the leader coordinator under back-to-back small reads.

prestoha (``leader`` mode through ZooKeeper) against HAProxy with two backup servers in front
of the same three coordinators, driven by ``trino.dbapi``; see ``benchmarks/_failover.py``.
Bar: prestoha fails no query and its gap (kill to next success) has a median <= 1 s;
the baseline's median gap is >= 4 x prestoha's.
"""

from __future__ import annotations

import sys

from benchmarks._failover import main

if __name__ == "__main__":
    sys.exit(main("kill", "B5", "failover_kill", None))
