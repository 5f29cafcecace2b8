"""``prestoha agent``: runs beside a coordinator, health-checks it, registers it, elects a leader.

Every ``interval`` seconds it asks the coordinator's ``GET /v1/info`` (Trino and PrestoDB
answer it alike); healthy means ``coordinator == true`` and ``starting == false``. After
``rise`` healthy checks in a row it registers the member znode, with the protocol the version
tells, and enters the election; after ``fall`` failed ones (or at once, on a refused
connection) it resigns and deregisters. While it leads it keeps the ``leader`` znode, with an
epoch that only grows. With ``--no-election`` it only registers (coordinators that are all
active, as PrestoDB's disaggregated ones, whose clients route in ``any`` mode). On SIGTERM
or SIGINT it deletes its znodes and exits 0. When its ZooKeeper session is lost it registers
again as soon as a new session is up.

Run it as ``prestoha agent ...`` or ``python -m prestoha.agent ...`` (no click needed).
The ZooKeeper passwords can come from ``PRESTOHA_ZK_AUTH`` and ``PRESTOHA_ZK_READ_AUTH`` instead
of ``--zk-auth`` and ``--zk-read-auth``, which keeps them out of the process list; they are
never logged.

The package owns the health check (``_health``), the settings and command line (``_config``),
the main loop with its ``on_check`` hook (``_agent``), the ZooKeeper side (``_registrar``) and
the agent's Prometheus metrics (:mod:`prestoha.agent.metrics`, imported only when asked for).
"""

from __future__ import annotations

from prestoha.agent._agent import Agent, CheckHook
from prestoha.agent._config import AUTH_ENV, READ_AUTH_ENV, AgentConfig, build_parser
from prestoha.agent._health import CheckResult, HealthCheck, Outcome, RiseFall, classify_info
from prestoha.agent._main import main
from prestoha.agent._registrar import Registrar

__all__ = [
    "AUTH_ENV",
    "READ_AUTH_ENV",
    "Agent",
    "AgentConfig",
    "CheckHook",
    "CheckResult",
    "HealthCheck",
    "Outcome",
    "Registrar",
    "RiseFall",
    "build_parser",
    "classify_info",
    "main",
]
