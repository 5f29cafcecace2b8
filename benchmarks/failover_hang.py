"""B6 failover_hang: SIGSTOP the leader coordinator under back-to-back small reads.

As B5 (``benchmarks/_failover.py``), but the leader is stopped: it keeps accepting TCP
connections and never answers. Bar: prestoha fails no query and its gap has a median
<= 2.5 s; the baseline's median gap is >= 2 x prestoha's.
"""

from __future__ import annotations

import sys

from benchmarks._failover import main

if __name__ == "__main__":
    sys.exit(main("hang", "B6", "failover_hang", None))
