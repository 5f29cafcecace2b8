# mypy: allow-untyped-decorators
"""Hooks SQLAlchemy's test suite calls for the ``prestoha`` backend.

SQLAlchemy imports this module (``<dialect package>.provision``) when it runs its suite, and
dispatches each hook on the URL's backend name, ``prestoha``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine.url import URL
from sqlalchemy.testing.provision import generate_driver_url, set_default_schema_on_connection

DRIVER = "prestoha"


@generate_driver_url.for_db("prestoha")
def _driver_url(url: URL, driver: str, query_str: str | None) -> URL | None:
    # There is one driver, and the URL names it by its backend name alone.
    if driver != DRIVER:
        return None
    return url.update_query_string(query_str) if query_str else url


@set_default_schema_on_connection.for_db("prestoha")
def _set_default_schema(cfg: Any, dbapi_connection: Any, schema_name: str) -> None:
    cur = dbapi_connection.cursor()
    try:
        cur.execute(f'USE "{schema_name}"')
    finally:
        cur.close()
