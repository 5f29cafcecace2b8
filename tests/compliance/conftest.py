"""SQLAlchemy's dialect suite (``sqla_suite/``) runs in its own pytest invocation.

Its conftest loads SQLAlchemy's pytest plugin, which takes over collection and reads its
settings from the rootdir's test.cfg, so it must not join the main run. ``make test`` runs it
as ``pytest tests/compliance/sqla_suite --rootdir=tests/compliance/sqla_suite``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_SUITE = Path(__file__).parent / "sqla_suite"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path == _SUITE and config.rootpath != _SUITE:
        return True
    return None
