"""The entry point: type checks, the cache, and the guard that turns a flaw into ``WRITE``."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from typing import NamedTuple

from prestoha.statements._grammar import Context, classify_text
from prestoha.statements._kinds import Classification, StatementKind

__all__ = ["UNKNOWN_FUNCTIONS", "CacheInfo", "cache_clear", "cache_info", "classify"]

logger = logging.getLogger("prestoha.statements")

_CACHE_MAX_CHARS = 65536  # longer texts are classified every time rather than kept alive
_EXECUTE_RE = re.compile("execute", re.I)

#: The values of ``unknown_functions``: what a call to a function not known to be pure makes.
UNKNOWN_FUNCTIONS = ("read", "write")


class CacheInfo(NamedTuple):
    """How the cache of :func:`classify` answers (as :func:`functools.lru_cache` counts)."""

    hits: int
    misses: int
    maxsize: int | None
    currsize: int


def _guarded(
    sql: str, prepared: tuple[tuple[str, str], ...], unknown_write: bool = False
) -> Classification:
    try:
        return classify_text(sql, Context(dict(prepared), unknown_write), 0)
    except Exception:  # a flaw here must not break the query path, and WRITE is always safe
        logger.warning("could not classify a statement; treating it as a write", exc_info=True)
        return Classification(StatementKind.WRITE, "internal error while classifying")


_cached = functools.lru_cache(maxsize=4096)(_guarded)


def classify(
    sql: str, prepared: Mapping[str, str] | None = None, *, unknown_functions: str = "read"
) -> Classification:
    """Classify one SQL text in Trino's grammar.

    ``prepared`` maps the session's prepared statement names to their SQL; ``EXECUTE
    name`` takes the class of the statement it names (an unknown name is a write).
    ``unknown_functions="write"`` makes a query that calls a function not known to be pure
    a write; with ``"read"`` only such a call inside ``TABLE(...)`` does.
    Never raises for a ``str``; raises :class:`TypeError` for anything else, and
    :class:`ValueError` for another ``unknown_functions``.
    """
    if not isinstance(sql, str):
        raise TypeError(f"SQL must be str, not {type(sql).__name__}")
    if unknown_functions not in UNKNOWN_FUNCTIONS:
        raise ValueError(f"unknown_functions must be 'read' or 'write', not {unknown_functions!r}")
    unknown_write = unknown_functions == "write"
    if prepared is not None and not isinstance(prepared, Mapping):
        raise TypeError(f"prepared must be a mapping, not {type(prepared).__name__}")
    key: tuple[tuple[str, str], ...] = ()
    if prepared and _EXECUTE_RE.search(sql):
        key = tuple(sorted((str(k), str(v)) for k, v in prepared.items()))
    if len(sql) > _CACHE_MAX_CHARS:
        return _guarded(sql, key, unknown_write)
    return _cached(sql, key, unknown_write)


def cache_info() -> CacheInfo:
    """Hits, misses and size of the cache of :func:`classify` answers."""
    info = _cached.cache_info()
    return CacheInfo(info.hits, info.misses, info.maxsize, info.currsize)


def cache_clear() -> None:
    """Forget every cached answer (the answers never change; tests start from empty)."""
    _cached.cache_clear()
