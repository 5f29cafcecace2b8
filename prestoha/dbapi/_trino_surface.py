"""The attributes ``trino.dbapi.Connection`` exposes, read from prestoha's options.

They hold what was given to ``connect()``, as the official client's do: ``catalog`` stays
the catalog connected with after a ``USE``, and an option not given reads ``None`` where
trino's reads ``None``. ``host``, ``port`` and ``http_scheme`` are the first coordinator's
of a fixed list (``None`` with ``zk=``: the coordinator changes with the leader).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from prestoha.dbapi.options import Options

__all__ = ["TrinoAttributes"]


class TrinoAttributes:
    """``trino.dbapi.Connection``'s attributes, for a class that holds ``options``."""

    options: Options

    @property
    def host(self) -> str | None:
        """The first coordinator's host name of a ``hosts``/``host`` list; None with ``zk``."""
        return urlsplit(self.options.hosts[0]).hostname if self.options.hosts else None

    @property
    def port(self) -> int | None:
        """The first coordinator's port of a ``hosts``/``host`` list; None with ``zk``."""
        return urlsplit(self.options.hosts[0]).port if self.options.hosts else None

    @property
    def http_scheme(self) -> str | None:
        """``http`` or ``https``: the first coordinator's, or ``http_scheme`` with ``zk``."""
        return (
            urlsplit(self.options.hosts[0]).scheme
            if self.options.hosts
            else (self.options.http_scheme)
        )

    @property
    def user(self) -> str:
        return self.options.user

    @property
    def source(self) -> str:
        return self.options.source

    @property
    def catalog(self) -> str | None:
        return self.options.catalog

    @property
    def schema(self) -> str | None:
        return self.options.schema

    @property
    def session_properties(self) -> dict[str, str] | None:
        return dict(self.options.session_properties) or None

    @property
    def http_headers(self) -> dict[str, str] | None:
        return dict(self.options.http_headers) or None

    @property
    def auth(self) -> Any:
        return self.options.auth

    @property
    def extra_credential(self) -> list[tuple[str, str]] | None:
        return list(self.options.extra_credential) or None

    @property
    def client_tags(self) -> list[str] | None:
        return list(self.options.client_tags) or None

    @property
    def max_attempts(self) -> int:
        """Attempts of a query, across coordinators (``retry.max_attempts``)."""
        return self.options.retry.max_attempts

    @property
    def request_timeout(self) -> float:
        return self.options.request_timeout

    @property
    def legacy_primitive_types(self) -> bool:
        return self.options.legacy_primitive_types

    @property
    def legacy_prepared_statements(self) -> bool:
        """Whether parameters are bound with ``PREPARE``/``EXECUTE ... USING`` on Trino (False:
        ``EXECUTE IMMEDIATE``; trino's None, "find out", comes to False on Trino 418 or later).
        PrestoDB, which has no ``EXECUTE IMMEDIATE``, always binds with ``PREPARE``."""
        return self.options.legacy_prepared_statements
