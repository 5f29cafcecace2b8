"""Runs SQLAlchemy's dialect suite on a LocalCluster (ZooKeeper, one emulated coordinator and
its agent), through the ``prestoha://`` dialect, in the shared ``lake`` catalog.

Run it with ``pytest tests/compliance/sqla_suite --rootdir=tests/compliance/sqla_suite``:
SQLAlchemy's plugin reads test.cfg from the rootdir only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.register_assert_rewrite("sqlalchemy.testing.assertions")

from sqlalchemy.testing.plugin import pytestplugin as _sqla_plugin  # noqa: E402
from sqlalchemy.testing.plugin.pytestplugin import *  # noqa: E402, F403

import prestoha  # noqa: E402
from prestoha.testing.cluster import LocalCluster  # noqa: E402

HERE = Path(__file__).parent
SCHEMAS = ("test_schema", "test_schema_2")

# The markers SQLAlchemy's plugin puts on its tests (its own setup.cfg declares them).
MARKERS = {
    "backend": "tests that should run on all backends",
    "sparse_backend": "tests that should run on one backend of each kind",
    "sparse_driver_backend": "tests that should run on one driver of each backend",
    "memory_intensive": "memory profiling tests",
    "timing_intensive": "time-sensitive tests",
    "mypy": "mypy integration tests",
}

_cluster: LocalCluster | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _cluster
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    if config.rootpath != HERE:
        raise pytest.UsageError(
            f"run SQLAlchemy's suite with --rootdir={HERE}: its plugin reads test.cfg there"
        )
    if not config.option.dburi:
        _cluster = LocalCluster(coordinators=1, catalog="lake", schema="default").start()
        with prestoha.connect(**_cluster.connect_kwargs()) as conn:
            cur = conn.cursor()
            for schema in SCHEMAS:
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                cur.fetchall()
        config.option.dburi = [_cluster.sqlalchemy_url()]
    _sqla_plugin.pytest_configure(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    try:
        _sqla_plugin.pytest_unconfigure(config)
    finally:
        if _cluster is not None:
            _cluster.close()
