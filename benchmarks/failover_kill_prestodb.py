"""B5p failover_kill_prestodb: B5 on emulated PrestoDB 0.29x coordinators.

The same trials as B5 (``benchmarks/failover_kill.py``, ``benchmarks/_failover.py``): SIGKILL
the leader under back-to-back small reads, prestoha (``leader`` mode through ZooKeeper, the
protocol PrestoDB's) against HAProxy with two backup servers, here driven by the unmodified
``prestodb.dbapi`` (presto-python-client), since a PrestoDB coordinator refuses
``trino.dbapi``'s ``X-Trino-*`` requests. The coordinators are the emulator's ``--flavor
prestodb``. Bar: as B5's.
"""

from __future__ import annotations

import sys

from benchmarks._failover import main

if __name__ == "__main__":
    sys.exit(main("kill", "B5p", "failover_kill_prestodb", None, flavor="prestodb"))
