"""A coordinator's answer as the execution sees it: a page of rows mapped to Python values.

The JSON status of a ``/v1/statement`` answer (Trino's ``QueryResults``) is decoded straight
from the response bytes, with orjson when it is installed; each JSON row is mapped by the
official client's row mappers and let go as soon as it is mapped, so decoding a page holds
about one copy of its rows, not two.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from trino.mapper import RowMapperFactory

__all__ = ["Page", "RowDecoder", "estimated_size", "loads", "read_status"]

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


def read_status(body: bytes) -> dict[str, Any] | None:
    """The JSON status of a 200 answer; None when it is empty, not an object, or an error
    (the caller then lets the official client raise its own typed error)."""
    if not body or not body.strip():
        return None
    status = loads(body)
    if not isinstance(status, dict) or status.get("error") or "id" not in status:
        return None
    return status


class RowDecoder:
    """Maps one query's JSON rows to Python values with the types of its columns."""

    def __init__(self, *, legacy_primitive_types: bool) -> None:
        self._legacy = legacy_primitive_types
        self.mapper: Any = None

    def learn(self, columns: list[dict[str, Any]] | None) -> None:
        """Take the column types from the first answer that has them."""
        if self.mapper is None and columns:
            self.mapper = RowMapperFactory().create(
                columns=columns, legacy_primitive_types=self._legacy
            )

    def rows(self, raw: list[Any]) -> list[Any]:
        """Map ``raw`` (emptied as it goes) a slice at a time."""
        if self.mapper is None or not raw:
            return []
        if len(raw) <= _MAP_STEP:
            mapped: list[Any] = self.mapper.map(raw)
            return mapped
        out: list[Any] = []
        for start in range(0, len(raw), _MAP_STEP):
            chunk = raw[start : start + _MAP_STEP]
            raw[start : start + _MAP_STEP] = [None] * len(chunk)
            out.extend(self.mapper.map(chunk))
        return out


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
