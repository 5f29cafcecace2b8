"""Which client protocol a coordinator speaks: Trino's or PrestoDB's.

The two protocols share their shape (``POST /v1/statement``, ``nextUri`` pages, session
state in headers) and differ in the header family and a few features. prestoha builds its
requests with the official Trino client, which writes ``X-Trino-*`` headers; for PrestoDB a
:class:`Dialect` renames them to ``X-Presto-*`` and drops those PrestoDB does not read.

Sources: PrestoDB's header names are ``com.facebook.presto.client.PrestoHeaders``; the
request headers it reads are those of ``com.facebook.presto.server.HttpRequestSessionContext``
(no ``Path``, ``Client-Capabilities``, ``Original-User`` nor query-data encoding). Trino
renamed its headers from ``X-Presto-`` to ``X-Trino-`` in release 351 (its
``protocol.v1.alternate-header-name=Presto`` setting accepts the old family).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from requests.structures import CaseInsensitiveDict

__all__ = ["PRESTO", "PROTOCOLS", "TRINO", "Dialect", "dialect", "protocol_of_version"]

#: The values of the ``protocol`` option.
PROTOCOLS = ("trino", "presto", "auto")

_TRINO_PREFIX = "x-trino-"


@dataclass(frozen=True)
class Dialect:
    """How prestoha talks to one kind of coordinator."""

    #: ``"trino"`` or ``"presto"``: the value of the ``protocol`` option.
    name: str
    #: The header family: ``X-Trino-`` or ``X-Presto-``.
    prefix: str
    #: ``EXECUTE IMMEDIATE`` exists (Trino 418+); otherwise parameters are bound with
    #: ``PREPARE`` and ``EXECUTE ... USING``.
    execute_immediate: bool
    #: The spooling protocol (``X-Trino-Query-Data-Encoding``) exists.
    spooling: bool
    #: What follows the prefix in the request headers this coordinator does not read.
    unread: frozenset[str] = frozenset()

    def request_headers(self, headers: Mapping[str, Any]) -> CaseInsensitiveDict[Any]:
        """``headers`` (written by the Trino client, ``X-Trino-*``) in this dialect."""
        if self.name == "trino" and isinstance(headers, CaseInsensitiveDict):
            return headers  # already in this dialect: no copy (once per request)
        out: CaseInsensitiveDict[Any] = CaseInsensitiveDict()
        for name, value in headers.items():
            lower = name.lower()
            if self.name != "trino" and lower.startswith(_TRINO_PREFIX):
                suffix = name[len(_TRINO_PREFIX) :]
                if suffix.lower() in self.unread:
                    continue
                name = self.prefix + suffix
            out[name] = value
        return out


TRINO = Dialect("trino", "X-Trino-", execute_immediate=True, spooling=True)
PRESTO = Dialect(
    "presto",
    "X-Presto-",
    execute_immediate=False,
    spooling=False,
    unread=frozenset({"path", "client-capabilities", "original-user", "query-data-encoding"}),
)
_BY_NAME = {d.name: d for d in (TRINO, PRESTO)}


def dialect(name: str) -> Dialect:
    """The dialect of a resolved protocol name (``"trino"`` or ``"presto"``)."""
    return _BY_NAME[name]


_VERSION_RE = re.compile(r"^\s*(\d{1,9})(?:\.(\d{1,9}))?")


def protocol_of_version(version: object) -> str | None:
    """The protocol a coordinator of this ``/v1/info`` ``nodeVersion.version`` speaks.

    PrestoDB numbers its releases ``0.289`` (``0.296-SNAPSHOT``, ``0.289-edge2``...); Trino
    numbers them ``475`` (``475-e.1``...) from 351 on; PrestoSQL, Trino before the rename,
    numbered them 300 to 350 and spoke ``X-Presto-*``. None when the text says neither.
    """
    if not isinstance(version, (str, int)) or isinstance(version, bool):
        return None
    match = _VERSION_RE.match(str(version))
    if match is None:
        return None
    major, minor = int(match.group(1)), match.group(2)
    if major == 0 and minor is not None:
        return "presto"
    if minor is None and major >= 351:
        return "trino"
    if minor is None and 300 <= major <= 350:
        return "presto"
    return None
