"""``LocalCluster``: ZooKeeper, emulated coordinators and their agents, all real processes.

::

    with LocalCluster(coordinators=3) as cluster:
        conn = prestoha.connect(**cluster.connect_kwargs())
        old = cluster.leader()
        cluster.kill(cluster.index(old.node_id))          # SIGKILL the leader's coordinator
        new = cluster.wait_for_leader(30, not_node=old.node_id)

Coordinators are ``c1``, ``c2``... (index 0 is ``c1``). They share one ``lake`` directory and
one write journal. Every process started here is gone after ``close()``/``with``, also when
the block raises, on Ctrl-C and on SIGTERM (turned into ``KeyboardInterrupt`` while inside the
``with``); and at interpreter exit, whatever is left is killed.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from prestoha.discovery import Leader, Topology
from prestoha.discovery.records import DEFAULT_CLUSTER, DEFAULT_ROOT
from prestoha.testing import _processes
from prestoha.testing._local_processes import AgentProcess, CoordinatorProcess, ProcessError
from prestoha.testing.zookeeper import ZooKeeperEnsemble

if TYPE_CHECKING:
    from prestoha.discovery.zookeeper import ZooKeeperDiscovery

__all__ = ["FLAVORS", "LocalCluster", "ProcessError"]

FLAVORS = ("trino", "presto", "prestodb")
"""The emulated coordinators' flavors (``python -m prestoha.testing.coordinator --flavor``)."""


class LocalCluster:
    """A ZooKeeper ensemble (``zookeeper_nodes``), ``coordinators`` emulators and their agents.

    Agents check every ``agent_interval`` s (each check gives up after ``check_timeout`` s)
    with the given ``rise``/``fall`` and a short ZooKeeper ``session_timeout`` (4 s), so a hung
    coordinator is deregistered within about a second and a killed agent's znodes go within
    about 4 s.
    ``user``, ``catalog`` and ``schema`` only shape :meth:`connect_kwargs` and
    :meth:`sqlalchemy_url`. ``flavor`` is the coordinators' (``python -m
    prestoha.testing.coordinator --flavor``): ``trino``, ``presto`` (Trino that also accepts
    ``X-Presto-*`` headers) or ``prestodb`` (PrestoDB 0.29x coordinators, which the connection
    arguments then address with ``protocol="presto"``).
    """

    def __init__(
        self,
        coordinators: int = 3,
        *,
        zookeeper_nodes: int = 1,
        cluster: str = DEFAULT_CLUSTER,
        root: str = DEFAULT_ROOT,
        user: str = "test",
        catalog: str = "tpch",
        schema: str = "tiny",
        agent_interval: float = 0.2,
        check_timeout: float = 0.5,
        rise: int = 2,
        fall: int = 2,
        session_timeout: float = 4.0,
        base_dir: str | None = None,
        coordinator_args: tuple[str, ...] = (),
        agent_args: tuple[str, ...] = (),
        flavor: str = "trino",
    ) -> None:
        if coordinators < 1:
            raise ValueError("a cluster has at least one coordinator")
        if flavor not in FLAVORS:
            raise ValueError(f"flavor must be one of {', '.join(FLAVORS)}, got {flavor!r}")
        self.flavor = flavor
        self.size = coordinators
        self.cluster = cluster
        self.root = root
        self.user, self.catalog, self.schema = user, catalog, schema
        self._agent_settings = (agent_interval, check_timeout, rise, fall, session_timeout)
        self._agent_args = agent_args
        self._own_dir = base_dir is None
        self.directory = Path(base_dir or tempfile.mkdtemp(prefix="prestoha-cluster-"))
        self.lake = self.directory / "lake"
        self.journal_path = self.directory / "journal.jsonl"
        self.zookeeper = ZooKeeperEnsemble(zookeeper_nodes, base_dir=str(self.directory / "zk"))
        self._coordinators = [
            CoordinatorProcess(
                f"c{i + 1}",
                self.directory / "coordinators",
                lake=self.lake,
                journal=self.journal_path,
                extra_args=("--flavor", flavor, *coordinator_args),
            )
            for i in range(coordinators)
        ]
        self._agents: list[AgentProcess] = []
        self._discovery: ZooKeeperDiscovery | None = None
        self._stack = contextlib.ExitStack()
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> LocalCluster:
        """Start everything and wait until every coordinator is registered and one leads."""
        try:
            self.lake.mkdir(parents=True, exist_ok=True)
            self.journal_path.touch()
            self.zookeeper.start()
            for c in self._coordinators:
                c.spawn()
            for c in self._coordinators:
                c.wait_started(timeout)
            self._agents = [self._make_agent(i) for i in range(self.size)]
            for agent in self._agents:
                agent.start()
            from prestoha.discovery.zookeeper import ZooKeeperDiscovery

            self._discovery = ZooKeeperDiscovery(
                self.zk_hosts, cluster=self.cluster, root=self.root, connect_timeout=10
            )
            self.wait_ready(timeout)
        except BaseException:
            self.close()
            raise
        return self

    def _make_agent(self, i: int) -> AgentProcess:
        interval, check_timeout, rise, fall, session_timeout = self._agent_settings
        c = self._coordinators[i]
        assert c.uri is not None
        return AgentProcess(
            c.node_id,
            self.directory / "agents",
            coordinator=c.uri,
            zk_hosts=self.zk_hosts,
            cluster=self.cluster,
            root=self.root,
            interval=interval,
            check_timeout=check_timeout,
            rise=rise,
            fall=fall,
            session_timeout=session_timeout,
            extra_args=self._agent_args,
        )

    def wait_ready(self, timeout: float = 60.0) -> Topology:
        """Wait until all coordinators are members and there is a leader."""
        names = set(self.node_ids)
        topology = self.discovery.wait_for(
            lambda t: t.leader is not None and {m.node_id for m in t.members} == names, timeout
        )
        if topology is None:
            tails = "\n".join(f"--- {a.node_id}:\n{a.log_tail(8)}" for a in self._agents)
            raise ProcessError(
                f"the cluster was not ready within {timeout:g} s: {self.topology()}\n{tails}"
            )
        return topology

    def close(self) -> None:
        """Kill every process started here and remove the working directory."""
        if self._closed:
            return
        self._closed = True
        for agent in self._agents:
            agent.kill()
        for c in self._coordinators:
            c.kill()
        if self._discovery is not None:
            self._discovery.close()
        self.zookeeper.close()
        self._stack.close()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        self._stack.enter_context(_processes.exit_on_signals())
        try:
            return self.start()
        except BaseException:
            self._stack.close()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- what there is --------------------------------------------------------------------

    @property
    def zk_hosts(self) -> str:
        """The ZooKeeper connect string."""
        return self.zookeeper.hosts

    @property
    def coordinators(self) -> list[str]:
        """Each coordinator's URI (index 0 is ``c1``)."""
        return [c.uri or "" for c in self._coordinators]

    @property
    def node_ids(self) -> list[str]:
        """``["c1", "c2", ...]``."""
        return [c.node_id for c in self._coordinators]

    def index(self, node_id: str) -> int:
        """The index of coordinator ``node_id``."""
        return self.node_ids.index(node_id)

    def coordinator(self, i: int) -> CoordinatorProcess:
        """Coordinator ``i``'s process handle (``.admin`` reaches its fault switches)."""
        return self._coordinators[i]

    def agent(self, i: int) -> AgentProcess:
        """Agent ``i``'s process handle."""
        return self._agents[i]

    @property
    def discovery(self) -> ZooKeeperDiscovery:
        """The cluster's own ``ZooKeeperDiscovery`` (what a client sees)."""
        if self._discovery is None:
            raise ProcessError("the cluster is not started")
        return self._discovery

    def topology(self) -> Topology:
        """The topology as ZooKeeper has it (cached while ZooKeeper is down)."""
        return self._discovery.topology() if self._discovery is not None else Topology()

    def leader(self) -> Leader | None:
        """The current leader record, if any."""
        return self.topology().leader

    def wait_for_leader(self, timeout: float = 30.0, not_node: str | int | None = None) -> Leader:
        """Wait for a leader (other than ``not_node``: a node id or index); TimeoutError."""
        if isinstance(not_node, int):
            not_node = self.node_ids[not_node]
        topology = self.discovery.wait_for(
            lambda t: t.leader is not None and t.leader.node_id != not_node, timeout
        )
        if topology is None or topology.leader is None:
            raise TimeoutError(f"no leader other than {not_node} within {timeout:g} s")
        return topology.leader

    def pids(self) -> list[int]:
        """Pids of every live process of the cluster."""
        pids = [c.pid for c in self._coordinators] + [a.pid for a in self._agents]
        return [pid for pid in pids if pid is not None] + self.zookeeper.pids()

    def journal(self) -> list[dict[str, Any]]:
        """The write journal's entries, oldest first."""
        from prestoha.testing.coordinator import read_journal

        return read_journal(self.journal_path)

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``prestoha.connect`` that reach this cluster."""
        kwargs: dict[str, Any] = {
            "zk": self.zk_hosts,
            "cluster": self.cluster,
            "user": self.user,
            "catalog": self.catalog,
            "schema": self.schema,
        }
        if self.root != DEFAULT_ROOT:
            kwargs["root"] = self.root
        if self.flavor == "prestodb":
            kwargs["protocol"] = "presto"
        return kwargs

    def sqlalchemy_url(self) -> str:
        """``prestoha://user@/catalog/schema?zk=...&cluster=...`` for this cluster."""
        query = {"zk": self.zk_hosts, "cluster": self.cluster}
        if self.root != DEFAULT_ROOT:
            query["root"] = self.root
        if self.flavor == "prestodb":
            query["protocol"] = "presto"
        path = f"{quote(self.catalog, safe='')}/{quote(self.schema, safe='')}"
        return f"prestoha://{quote(self.user, safe='')}@/{path}?{urlencode(query, safe=':,/')}"

    # -- faults ---------------------------------------------------------------------------

    def kill(self, i: int) -> None:
        """SIGKILL coordinator ``i``."""
        self._coordinators[i].kill()

    def stop(self, i: int) -> None:
        """SIGSTOP coordinator ``i`` (hangs: connections accepted, nothing answered)."""
        self._coordinators[i].stop()

    def cont(self, i: int) -> None:
        """SIGCONT coordinator ``i``."""
        self._coordinators[i].cont()

    def restart(self, i: int, forget: bool = True) -> str:
        """Restart coordinator ``i`` as a new process on the same port; returns its URI.

        Like a real restart the new process knows none of the old queries (``forget``; a
        process cannot keep them, so ``forget=False`` is refused).
        """
        if not forget:
            raise ValueError(
                "a restarted coordinator process cannot keep its queries; use stop()/cont() "
                "for a pause that keeps them"
            )
        return self._coordinators[i].restart()

    def set_delay(self, i: int, ms: int) -> None:
        """Delay every response of coordinator ``i`` by ``ms`` milliseconds (0 = off)."""
        self._coordinators[i].admin.set_faults(latency_ms=ms)

    def fail_next(self, i: int, n: int, status: int = 503) -> None:
        """The next ``n`` query submissions to coordinator ``i`` answer HTTP ``status``."""
        self._coordinators[i].admin.set_faults(fail_post={"status": status, "count": n})

    def kill_agent(self, i: int) -> None:
        """SIGKILL agent ``i``: its znodes go when its session expires."""
        self._agents[i].kill()

    def stop_agent(self, i: int) -> int | None:
        """SIGTERM agent ``i``: it deletes its znodes and exits 0 (returned)."""
        return self._agents[i].terminate()

    def restart_agent(self, i: int) -> None:
        """Start agent ``i`` again (killing it first if it runs)."""
        self._agents[i].kill()
        self._agents[i] = self._make_agent(i)
        self._agents[i].start()

    def kill_zookeeper(self, j: int) -> None:
        """SIGKILL ZooKeeper node ``j``."""
        self.zookeeper.kill(j)

    def restart_zookeeper(self, j: int, wait: bool = True) -> None:
        """Start ZooKeeper node ``j`` again with its data and (``wait``) until it serves.

        A node of an ensemble serves only once a quorum runs: restarting every node of a
        dead ensemble takes ``wait=False`` for all but the last.
        """
        self.zookeeper.restart(j, wait=wait)

    def heal(self, timeout: float = 60.0) -> Topology:
        """Undo every fault: ZooKeeper nodes, coordinators and agents running, switches off.

        Returns once all coordinators are registered and one leads again.
        """
        for j, node in enumerate(self.zookeeper.nodes):
            if node.running:
                node.resume()
            else:
                self.zookeeper.restart(j, wait=False)
        self.zookeeper.wait_serving(timeout)
        for i, c in enumerate(self._coordinators):
            if c.running:
                c.cont()
            else:
                c.restart(timeout)
            with contextlib.suppress(Exception):
                c.admin.reset()
            if not self._agents[i].running:
                self.restart_agent(i)
        deadline = time.monotonic() + timeout
        topology = self.wait_ready(max(1.0, deadline - time.monotonic()))
        return topology

    def __repr__(self) -> str:
        return f"LocalCluster(coordinators={self.coordinators!r}, zk={self.zk_hosts!r})"
