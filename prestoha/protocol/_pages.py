"""A coordinator's answer as the execution sees it: a page of rows mapped to Python values.

The JSON status of a ``/v1/statement`` answer (Trino's ``QueryResults``) is decoded straight
from the response bytes, with orjson when it is installed; each JSON row is mapped by the
official client's row mappers and let go as soon as it is mapped, so decoding a page holds
about one copy of its rows, not two.
"""

from __future__ import annotations

import ctypes
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trino.exceptions import TrinoDataError
from trino.mapper import RowMapperFactory

from prestoha.protocol._presto_values import column_fixers, normalize_columns, time_with_zone

__all__ = ["DecodingFailed", "Page", "RowDecoder", "estimated_size", "loads", "read_status"]

try:
    import orjson

    loads: Any = orjson.loads
except ImportError:  # orjson is a dependency of trino on CPython, not on every Python
    loads = json.loads


@dataclass
class Page:
    """One answer of the coordinator, rows already mapped to Python values."""

    query_id: str
    columns: list[dict[str, Any]] | None
    rows: list[Any]
    stats: dict[str, Any]
    update_type: str | None
    update_count: int | None
    warnings: list[Any]
    info_uri: str
    final: bool
    #: Session-changing response headers (``X-Trino-Set-Catalog`` ...), lower-cased names.
    headers: dict[str, list[str]] = field(default_factory=dict)
    #: The running digest of every row of this attempt before this page (when digests are on).
    digest_before: Any = None
    #: Bytes of spooled segments this page's rows came from (0 for the direct protocol).
    segment_bytes: int = 0


def _find_malloc_trim() -> Any:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc
        return None


#: orjson (yyjson inside) reads a document into a scratch buffer of about twelve times its
#: size: 12 MiB for a 1 MB page of rows, three times the whole ``prefetch`` budget. The first
#: one freed makes glibc raise its mmap threshold to that size (and its trim threshold to
#: twice that), so from then on each scratch buffer comes from a thread's heap, in a place
#: that wanders as pages come and go, and glibc keeps the pages it touched once it is freed:
#: a long stream ends up holding a few MiB more than a short one. After a large answer the
#: memory freed is handed back to the system (``malloc_trim``, glibc only; well under a
#: millisecond even with a heap of hundreds of MiB, against tens of ms to decode the page).
_malloc_trim = _find_malloc_trim()
_TRIM_AFTER_BYTES = 64 * 1024


#: Pages larger than this are read a slice of rows at a time (see ``_loads_in_slices``).
_SLICE_BYTES = 32 * 1024
_DATA = b'"data":['
_ROW_BREAK = b"],["
#: Cuts that fall inside a row (a nested array, a string) before a page is read whole.
_MISSES_ALLOWED = 4


def _loads_in_slices(body: bytes) -> Any:
    """``loads(body)``, reading the rows of a large page ``_SLICE_BYTES`` at a time.

    orjson's scratch space grows with the document it reads (about twelve times its size),
    so a 1 MB page costs 12 MiB for a moment. The rows of ``"data"`` are cut at row breaks
    (``],[``) and each slice is read as a list of its own; the rest of the page (its head,
    the rows after the last cut, its stats) is read last as one smaller document, whose
    ``data`` the sliced rows are put in front of. A cut that is not a row break (inside a
    string, or between two nested arrays of a row) cannot read as a list of whole rows, so
    it fails and the next break is tried; after a few such misses the rest of the page is
    read whole. Either way the values are exactly those of ``loads(body)``.
    """
    if len(body) <= 2 * _SLICE_BYTES or loads is json.loads:
        return loads(body)
    head_end = body.find(_DATA)
    if head_end < 0:
        return loads(body)
    head_end += len(_DATA)
    rows: list[Any] = []
    at = head_end
    misses = 0
    cut = body.find(_ROW_BREAK, at + _SLICE_BYTES)
    while cut >= 0 and misses < _MISSES_ALLOWED:
        try:
            part = loads(b"[" + body[at : cut + 1] + b"]")
        except ValueError:
            misses += 1
            cut = body.find(_ROW_BREAK, cut + 1)
            continue
        rows += part
        at = cut + 2
        cut = body.find(_ROW_BREAK, at + _SLICE_BYTES)
    if not rows:
        return loads(body)
    rest = loads(body[:head_end] + body[at:])
    if not isinstance(rest, dict) or not isinstance(rest.get("data"), list):
        return loads(body)  # "data" was not the page's rows: read the page as it is
    rows += rest["data"]
    rest["data"] = rows
    return rest


def read_status(body: bytes) -> dict[str, Any] | None:
    """The JSON status of a 200 answer; None when it is empty, not an object, or an error
    (the caller then lets the official client raise its own typed error)."""
    if not body or not body.strip():
        return None
    status = _loads_in_slices(body)
    if len(body) > _TRIM_AFTER_BYTES and _malloc_trim is not None:
        _malloc_trim(0)
    if not isinstance(status, dict) or status.get("error") or "id" not in status:
        return None
    return status


class DecodingFailed(Exception):
    """prestoha's own decoding failed on a well-formed answer: the coordinator sent JSON with
    columns and rows, and turning them into Python values raised. Every coordinator would send
    the same, so running the query again cannot help: a driver bug, final at once.

    The trino client's ``TrinoDataError`` (a value Python cannot hold) passes through as is.
    """

    def __init__(self, column: dict[str, Any] | None, cause: BaseException) -> None:
        where = "a column"
        if column is not None:
            where = f"column {column.get('name')!r} of type {column.get('type')!r}"
        detail = " ".join(f"{type(cause).__name__}: {cause}".split())[:300]
        super().__init__(
            f"prestoha could not decode the values of {where} ({detail}). This is a bug in "
            "prestoha's decoding, not in the coordinator's answer: please report it with the "
            "column's type and the coordinator's version."
        )


class _Mappers(RowMapperFactory):
    """The official client's value mappers, with PrestoDB's ``time with time zone``."""

    def _create_value_mapper(self, column: dict[str, Any]) -> Any:
        if column.get("rawType") == "time with time zone":
            return _FunctionMapper(time_with_zone(self._get_precision(column)))
        return super()._create_value_mapper(column)


class _FunctionMapper:
    def __init__(self, function: Any) -> None:
        self.map = function


class RowDecoder:
    """Maps one query's JSON rows to Python values with the types of its columns.

    Trino's and PrestoDB's answers alike: PrestoDB's type signatures and nested values are
    first brought to Trino's shape (see ``_presto_values``), which costs nothing per value
    for columns that are not ``array``, ``map`` or ``row``.
    """

    def __init__(self, *, legacy_primitive_types: bool) -> None:
        self._legacy = legacy_primitive_types
        self.mapper: Any = None
        self._fixers: list[tuple[int, Any]] = []
        self._columns: list[dict[str, Any]] = []
        self._chunk: list[Any] = []  # the rows being mapped, to tell which column failed

    def learn(self, columns: list[dict[str, Any]] | None) -> None:
        """Take the column types from the first answer that has them; raises
        :class:`DecodingFailed` when prestoha cannot read them."""
        if self.mapper is None and columns:
            self._columns = columns
            try:
                normalized = normalize_columns(columns)
                fixers = column_fixers(normalized)
                self.mapper = _Mappers().create(
                    columns=normalized, legacy_primitive_types=self._legacy
                )
            except Exception as exc:
                culprit = next((c for c in columns if _fails(_learn_one, c)), None)
                raise DecodingFailed(culprit, exc) from exc
            self._fixers = [(i, fix) for i, fix in enumerate(fixers) if fix is not None]

    def rows(self, raw: list[Any]) -> list[Any]:
        """Map ``raw`` (emptied as it goes) a slice at a time; raises :class:`DecodingFailed`
        when prestoha's own decoding fails (the trino client's ``TrinoDataError`` as is)."""
        if self.mapper is None or not raw:
            return []
        self._chunk = raw
        try:
            return self._rows(raw)
        except TrinoDataError:
            raise
        except Exception as exc:
            raise DecodingFailed(self._culprit(), exc) from exc
        finally:
            self._chunk = []

    def _rows(self, raw: list[Any]) -> list[Any]:
        if len(raw) <= _MAP_STEP:
            mapped: list[Any] = self.mapper.map(self._fixed(raw))
            return mapped
        out: list[Any] = []
        for start in range(0, len(raw), _MAP_STEP):
            chunk = raw[start : start + _MAP_STEP]
            raw[start : start + _MAP_STEP] = [None] * len(chunk)
            self._chunk = chunk
            out.extend(self.mapper.map(self._fixed(chunk)))
        return out

    def _fixed(self, rows: list[Any]) -> list[Any]:
        if self._fixers:
            for row in rows:
                for index, fix in self._fixers:
                    if row[index] is not None:
                        row[index] = fix(row[index])
        return rows

    def _culprit(self) -> dict[str, Any] | None:
        """The first column whose values fail alone in the slice that failed (None when
        none does); only looked for once decoding has failed."""
        fixers = dict(self._fixers)
        mappers = getattr(self.mapper, "columns", None) or []
        for index, column in enumerate(self._columns):
            fixer = fixers.get(index)
            mapper = mappers[index] if index < len(mappers) else None
            for row in self._chunk:
                if _fails(_map_one, row, index, fixer, mapper):
                    return column
        return None


def _fails(attempt: Callable[..., object], *args: Any) -> bool:
    try:
        attempt(*args)
    except Exception:
        return True
    return False


def _map_one(row: list[Any], index: int, fixer: Any, mapper: Any) -> object:
    # Fixing a value twice is harmless: a fixer parses text only, and leaves parsed values.
    value = row[index]
    if value is not None and fixer is not None:
        value = fixer(value)
    return mapper.map(value) if mapper is not None else value


def _learn_one(column: dict[str, Any]) -> object:
    (normalized,) = normalize_columns([column])
    column_fixers([normalized])
    return _Mappers().create(columns=[normalized], legacy_primitive_types=False)


_MAP_STEP = 1024


def estimated_size(rows: list[Any]) -> int:
    """Bytes ``rows`` take as Python objects, estimated from three of them (the first, the
    middle and the last), each row with its values one level deep."""
    if not rows:
        return 0
    samples = (rows[0], rows[len(rows) // 2], rows[-1])
    total = 0
    for row in samples:
        total += sys.getsizeof(row) + 8  # and the pointer to it in the page
        for value in row:
            total += sys.getsizeof(value)
    return total * len(rows) // len(samples)
