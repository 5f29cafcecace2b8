"""Engines on the session's LocalCluster for the pandas contract tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from prestoha.testing.cluster import LocalCluster


class Statements:
    """Every statement an engine sends, and the driver cursor that ran it."""

    def __init__(self, engine: sa.Engine) -> None:
        self.sent: list[str] = []
        self.cursors: list[Any] = []
        self._lock = threading.Lock()
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        with self._lock:
            self.sent.append(statement)
            self.cursors.append(cursor)


@pytest.fixture
def make_engine(local_cluster: LocalCluster) -> Iterator[Callable[..., sa.Engine]]:
    """``make_engine(catalog="tpch", schema="tiny", **url_params)``: disposed after the test."""
    made: list[sa.Engine] = []

    def make(catalog: str = "tpch", schema: str = "tiny", **params: str) -> sa.Engine:
        url = sa.make_url(local_cluster.sqlalchemy_url()).set(database=f"{catalog}/{schema}")
        engine = sa.create_engine(url.update_query_dict(params))
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()


@pytest.fixture
def record_statements() -> Callable[[sa.Engine], Statements]:
    return Statements
