"""pytest plugin ``prestoha``: fixtures for testing code that uses prestoha.

Installed with prestoha and loaded by pytest automatically (entry point ``pytest11``).
The fixtures are documented in docs/testing.md:

- ``zookeeper``: a one-node ZooKeeper server (a
  :class:`~prestoha.testing.zookeeper.ZooKeeperEnsemble`)
- ``zookeeper_ensemble``: a three-node ensemble on loopback
- ``coordinator``: one emulated coordinator process (``.uri``, ``.admin``, ``.kill()``...)
- ``local_cluster``: a :class:`~prestoha.testing.cluster.LocalCluster` (1 ZooKeeper node,
  3 coordinators with their agents)
- ``prestodb_local_cluster``: the same with emulated PrestoDB coordinators (``flavor="prestodb"``)
- ``local_cluster_factory``: ``local_cluster_factory(coordinators=2, zookeeper_nodes=3)``

The processes live for the whole test session and are shared; before each test the fixture
undoes what the previous test did (restarts what was killed, resumes what was stopped,
switches faults off), so every test starts from a healthy setup. Tests that share ZooKeeper
should use their own cluster names or paths.

Importing this module is cheap: everything else is imported inside the fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from prestoha.testing._local_processes import CoordinatorProcess
    from prestoha.testing.cluster import LocalCluster
    from prestoha.testing.zookeeper import ZooKeeperEnsemble

__all__ = [
    "coordinator",
    "local_cluster",
    "local_cluster_factory",
    "prestodb_local_cluster",
    "zookeeper",
    "zookeeper_ensemble",
]


def _ensemble(size: int) -> Iterator[ZooKeeperEnsemble]:
    from prestoha.testing.zookeeper import ZooKeeperEnsemble

    with ZooKeeperEnsemble(size) as zk:
        yield zk


def _healed(zk: ZooKeeperEnsemble) -> ZooKeeperEnsemble:
    for j, node in enumerate(zk.nodes):
        if not node.running:
            zk.restart(j, wait=False)
        else:
            node.resume()
    zk.wait_serving()
    return zk


@pytest.fixture(scope="session")
def _prestoha_zookeeper() -> Iterator[ZooKeeperEnsemble]:
    yield from _ensemble(1)


@pytest.fixture(scope="session")
def _prestoha_zookeeper_ensemble() -> Iterator[ZooKeeperEnsemble]:
    yield from _ensemble(3)


@pytest.fixture
def zookeeper(_prestoha_zookeeper: ZooKeeperEnsemble) -> ZooKeeperEnsemble:
    """A running one-node ZooKeeper server: ``zookeeper.hosts`` is its connect string."""
    return _healed(_prestoha_zookeeper)


@pytest.fixture
def zookeeper_ensemble(_prestoha_zookeeper_ensemble: ZooKeeperEnsemble) -> ZooKeeperEnsemble:
    """A running three-node ZooKeeper ensemble; ``kill(j)``/``restart(j)`` single nodes."""
    return _healed(_prestoha_zookeeper_ensemble)


@pytest.fixture(scope="session")
def _prestoha_coordinator(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CoordinatorProcess]:
    from prestoha.testing._local_processes import CoordinatorProcess

    directory = tmp_path_factory.mktemp("prestoha-coordinator")
    process = CoordinatorProcess(
        "c1", directory, lake=directory / "lake", journal=directory / "journal.jsonl"
    )
    process.start()
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture
def coordinator(_prestoha_coordinator: CoordinatorProcess) -> CoordinatorProcess:
    """An emulated coordinator process, running, faults off and no queries remembered.

    ``.uri``, ``.admin`` (fault switches), ``.kill()``, ``.stop()``/``.cont()``,
    ``.restart()``, ``.journal`` (the write journal's path).
    """
    process = _prestoha_coordinator
    if process.running:
        process.cont()
    else:
        process.restart()
    process.admin.reset()
    process.admin.forget()
    return process


@pytest.fixture(scope="session")
def _prestoha_local_cluster() -> Iterator[LocalCluster]:
    from prestoha.testing.cluster import LocalCluster

    with LocalCluster(coordinators=3, zookeeper_nodes=1) as cluster:
        yield cluster


@pytest.fixture
def local_cluster(_prestoha_local_cluster: LocalCluster) -> LocalCluster:
    """A healthy :class:`~prestoha.testing.cluster.LocalCluster`: all coordinators registered,
    a leader elected, no fault switched on."""
    _prestoha_local_cluster.heal()
    return _prestoha_local_cluster


@pytest.fixture(scope="session")
def _prestoha_prestodb_local_cluster() -> Iterator[LocalCluster]:
    from prestoha.testing.cluster import LocalCluster

    with LocalCluster(coordinators=3, zookeeper_nodes=1, flavor="prestodb") as cluster:
        yield cluster


@pytest.fixture
def prestodb_local_cluster(_prestoha_prestodb_local_cluster: LocalCluster) -> LocalCluster:
    """A healthy :class:`~prestoha.testing.cluster.LocalCluster` of emulated PrestoDB 0.29x
    coordinators; ``connect_kwargs()`` carries ``protocol="presto"``."""
    _prestoha_prestodb_local_cluster.heal()
    return _prestoha_prestodb_local_cluster


@pytest.fixture
def local_cluster_factory() -> Iterator[Callable[..., LocalCluster]]:
    """Build LocalClusters of your own shape (closed after the test)."""
    from prestoha.testing.cluster import LocalCluster

    made: list[LocalCluster] = []

    def factory(**kwargs: Any) -> LocalCluster:
        cluster = LocalCluster(**kwargs)
        made.append(cluster)
        return cluster.start()

    try:
        yield factory
    finally:
        for cluster in made:
            cluster.close()
