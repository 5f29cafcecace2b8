"""Engines on the session's LocalCluster, each test in a lake schema of its own."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from prestoha.testing.cluster import LocalCluster

MakeEngine = Callable[..., sa.Engine]


def cluster_url(cluster: LocalCluster, catalog: str, schema: str, **params: str) -> str:
    """The cluster's ``prestoha://`` URL with another catalog and schema (and parameters)."""
    url = sa.make_url(cluster.sqlalchemy_url()).set(database=f"{catalog}/{schema}")
    return url.update_query_dict(params).render_as_string(hide_password=False)


@pytest.fixture
def url_for(local_cluster: LocalCluster) -> Callable[..., str]:
    """``url_for(catalog, schema, **params)``: a URL of the session's cluster."""
    return lambda catalog, schema, **params: cluster_url(local_cluster, catalog, schema, **params)


@pytest.fixture
def make_engine(local_cluster: LocalCluster) -> Iterator[MakeEngine]:
    """``make_engine(url=None, **create_engine_kwargs)``: disposed after the test."""
    made: list[sa.Engine] = []

    def make(url: str | None = None, **kwargs: Any) -> sa.Engine:
        engine = sa.create_engine(url or local_cluster.sqlalchemy_url(), **kwargs)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()


@pytest.fixture
def lake_schema(local_cluster: LocalCluster, make_engine: MakeEngine) -> Iterator[str]:
    """A fresh schema in the shared ``lake`` catalog (every coordinator sees it)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = make_engine(cluster_url(local_cluster, "lake", "default"))
    with engine.connect() as con:
        con.exec_driver_sql(f"CREATE SCHEMA {name}")
    yield name
    local_cluster.heal()
    with engine.connect() as con:
        con.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")


class Statements:
    """Every statement an engine sends, as SQLAlchemy hands it to the driver."""

    def __init__(self, engine: sa.Engine) -> None:
        self.sent: list[str] = []
        self._lock = threading.Lock()
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        with self._lock:
            self.sent.append(statement)


@pytest.fixture
def record_statements() -> Callable[[sa.Engine], Statements]:
    return Statements
