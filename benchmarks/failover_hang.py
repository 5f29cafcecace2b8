"""B6 failover_hang: SIGSTOP the leader coordinator under back-to-back small reads.

As B5 (``benchmarks/_failover.py``), but the leader is stopped: it keeps accepting TCP
connections and never answers. Bar: prestoha fails no query, its gap is <= 1.2 s in every
trial, and the baseline's median gap is >= 2 x prestoha's. Each prestoha trial prints where
its gap went.
"""

from __future__ import annotations

import sys

from benchmarks._failover import main

if __name__ == "__main__":
    sys.exit(main("hang", "B6", "failover_hang", None))
