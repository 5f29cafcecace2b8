"""The wire: what the Trino (and PrestoDB) client protocol says and how prestoha reads it.

Owns the session that travels in headers (:class:`LogicalSession`), the headers by which a
coordinator changes it, and the decoding of a ``/v1/statement`` answer into a :class:`Page`
of Python rows. It knows nothing of coordinators, retries or threads: the execution core
(``prestoha.execution``) sits on top of it.
"""

from __future__ import annotations

from types import ModuleType

from prestoha.protocol._dialect import (
    PRESTO,
    PROTOCOLS,
    TRINO,
    Dialect,
    dialect,
    protocol_of_version,
)
from prestoha.protocol._headers import SESSION_HEADER_SUFFIXES, session_headers
from prestoha.protocol._pages import (
    DecodingFailed,
    Page,
    RowDecoder,
    estimated_size,
    loads,
    read_status,
)
from prestoha.protocol._presto_values import normalize_columns
from prestoha.protocol._session import LogicalSession, SessionState

__all__ = [
    "PRESTO",
    "arrow_decoding",
    "PROTOCOLS",
    "TRINO",
    "DecodingFailed",
    "Dialect",
    "SESSION_HEADER_SUFFIXES",
    "LogicalSession",
    "Page",
    "RowDecoder",
    "SessionState",
    "estimated_size",
    "dialect",
    "loads",
    "normalize_columns",
    "protocol_of_version",
    "read_status",
    "session_headers",
]


def arrow_decoding() -> ModuleType:
    """The decoding of pages into Arrow columns (``BatchDecoder``, ``arrow_schema``): it needs
    pyarrow, an optional dependency, so it is imported on first use."""
    from prestoha.protocol import _arrow

    return _arrow
