"""Is a statement read-only, session-only or a write?

prestoha resubmits a query on another coordinator only when running it twice cannot
change anything, so it must know what a statement does before it sends it:

* ``READ``: a query (``SELECT``, ``WITH ... SELECT``, ``VALUES``, ``TABLE t``),
  ``SHOW``, ``DESCRIBE``, ``EXPLAIN`` (which only plans) and ``EXPLAIN ANALYZE`` of a read.
* ``SESSION``: statements that only change the client's session, which travels in
  headers: ``USE``, ``SET``/``RESET SESSION``, ``SET ROLE``, ``SET PATH``, ``SET TIME
  ZONE``, ``SET``/``RESET SESSION AUTHORIZATION``, ``PREPARE``, ``DEALLOCATE PREPARE``
  and transaction control (``START TRANSACTION``, ``COMMIT``, ``ROLLBACK``, with
  :attr:`Classification.transaction` set).
* ``WRITE``: everything else, and everything that cannot be understood
  (:attr:`Classification.understood` is then False). A query is a write too when a
  ``TABLE(...)`` call in it holds text (a string, a binary literal or a ``?``) or calls a
  function not known to be pure: table functions such as ``system.query`` run SQL in
  another database, where it may do anything (``_functions``). With
  ``unknown_functions="write"``, so is any query that calls such a function.

How: the text is cut into tokens by the rules of Trino's lexer (``_lexer``), then the
statement grammar is followed from its leading keywords (``_grammar``). That is decisive
for nearly every statement; only unusual ``WITH`` forms fall through to sqlglot (dialect
``trino``, ``_fallback``), whose answer counts as a read only if it is a single query with
no data-changing node. When neither can tell, the answer is ``WRITE``: the safe side.

:func:`classify` never raises for a ``str`` (a non-``str`` raises :class:`TypeError`)
and caches its answers (``_classify``), so calling it for every execute is cheap.
"""

from __future__ import annotations

from prestoha.statements._classify import (
    UNKNOWN_FUNCTIONS,
    CacheInfo,
    cache_clear,
    cache_info,
    classify,
)
from prestoha.statements._kinds import Classification, StatementKind

__all__ = [
    "UNKNOWN_FUNCTIONS",
    "CacheInfo",
    "Classification",
    "StatementKind",
    "cache_clear",
    "cache_info",
    "classify",
]
