"""JSON encoding of result values, exactly as a Trino coordinator writes them.

DuckDB hands back Python values (``Decimal``, ``datetime``, ``bytes``...). For each result
column an encoder is built once from its Trino type (:func:`encoder`); :func:`row_encoder`
combines them so that columns needing no work (integers, booleans, varchar) cost nothing.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from prestoha.testing.coordinator.sql.temporal_text import (
    time_encoder,
    timestamp_encoder,
    timestamp_tz_encoder,
)
from prestoha.testing.coordinator.sql.types import TrinoType

__all__ = ["Encoder", "encoder", "normalize_zone", "row_encoder"]

Encoder = Callable[[Any], Any]
"""Turns one non-null DuckDB value into its JSON value."""

_UTC_ALIASES = {"utc", "etc/utc", "z", "zulu", "gmt", "etc/gmt", "ut", "etc/ut", "uct", "etc/uct"}


def normalize_zone(zone: str | None) -> str:
    """The zone id Trino prints after a ``timestamp with time zone`` (``UTC`` for its aliases)."""
    if not zone or zone.lower() in _UTC_ALIASES or zone in ("+00:00", "-00:00"):
        return "UTC"
    return zone


def _double(v: Any) -> Any:
    if v != v:
        return "NaN"
    if v == math.inf:
        return "Infinity"
    if v == -math.inf:
        return "-Infinity"
    return v


def _real(v: Any) -> Any:
    if v != v or v in (math.inf, -math.inf):
        return _double(v)
    # Trino writes a real with Jackson's writeNumber(float) (io.trino.server.protocol.
    # JsonEncodingUtils.RealEncoder), i.e. Java's Float.toString: the shortest decimal that reads
    # back as the same float32 (1.4E-45, not the float64 text of the same bits), with at least
    # two significant digits in its computerized scientific notation (below 1E-3, from 1E7).
    for digits in range(1 if 1e-3 <= abs(v) < 1e7 else 2, 10):
        candidate = float(f"{v:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == v:
            return candidate
    return float(v)


def _decimal(scale: int) -> Encoder:
    fmt = f".{scale}f"

    def enc(v: Decimal | int) -> str:
        return format(v, fmt)

    return enc


def _char(length: int) -> Encoder:
    def enc(v: str) -> str:
        return v.ljust(length)

    return enc


def _date(v: date | str) -> str:
    """Trino's io.trino.spi.type.SqlDate text, java.time.LocalDate.toString().

    DuckDB hands out dates Python cannot hold as text, ``10000-01-01`` or ``0002-01-01 (BC)``;
    LocalDate writes years beyond 9999 with a ``+`` and years before 1 astronomically (1 BC is
    ``0000``, 2 BC ``-0001``).
    """
    if type(v) is date:
        return v.isoformat()
    text = str(v)
    if text.endswith(" (BC)"):
        year, rest = text[:-5].split("-", 1)
        astronomical = 1 - int(year)
        return f"-{-astronomical:04d}-{rest}" if astronomical < 0 else f"0000-{rest}"
    return "+" + text if len(text.split("-", 1)[0]) > 4 else text


def _varbinary(v: bytes) -> str:
    return base64.b64encode(v).decode("ascii")


def _interval_day(v: timedelta) -> str:
    total_ms = (v.days * 86400 + v.seconds) * 1000 + v.microseconds // 1000
    sign = "-" if total_ms < 0 else ""
    total_ms = abs(total_ms)
    secs, ms = divmod(total_ms, 1000)
    mins, s = divmod(secs, 60)
    hours, m = divmod(mins, 60)
    days, h = divmod(hours, 24)
    return f"{sign}{days} {h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _interval_month(v: timedelta) -> str:
    # DuckDB hands an interval of N months to Python as N * 30 days.
    months = round((v.days + v.seconds / 86400) / 30)
    sign = "-" if months < 0 else ""
    years, rest = divmod(abs(months), 12)
    return f"{sign}{years}-{rest}"


def _array(inner: Encoder | None) -> Encoder:
    if inner is None:
        return list

    def enc(v: Sequence[Any]) -> list[Any]:
        return [None if x is None else inner(x) for x in v]

    return enc


def _map(key: Encoder | None, value: Encoder | None) -> Encoder:
    def enc(v: Any) -> dict[str, Any]:
        items = v.items() if isinstance(v, dict) else zip(v["key"], v["value"], strict=False)
        out: dict[str, Any] = {}
        for k, x in items:
            kk = k if key is None else key(k)
            out[_key_text(kk)] = x if x is None or value is None else value(x)
        return out

    return enc


def _key_text(k: Any) -> str:
    if isinstance(k, bool):
        return "true" if k else "false"
    return k if isinstance(k, str) else str(k)


def _row(fields: list[Encoder | None]) -> Encoder:
    def enc(v: Any) -> list[Any]:
        values = list(v.values()) if isinstance(v, dict) else list(v)
        return [x if x is None or f is None else f(x) for f, x in zip(fields, values, strict=False)]

    return enc


def _str(v: Any) -> str:
    return str(v)


def encoder(t: TrinoType, zone: str = "UTC", parametric_datetime: bool = True) -> Encoder | None:
    """Encoder for non-null values of type ``t``; ``None`` when the value is already JSON."""
    b = t.base
    precision = t.precision if parametric_datetime else 3
    simple: dict[str, Encoder | None] = {
        "boolean": None,
        "tinyint": None,
        "smallint": None,
        "integer": None,
        "bigint": None,
        "varchar": None,
        "json": _str,
        "unknown": None,
        "double": _double,
        "real": _real,
        "varbinary": _varbinary,
        # Sketches are SqlVarbinary objects, which JsonEncodingUtils writes with writeBinary.
        "HyperLogLog": _varbinary,
        "P4HyperLogLog": _varbinary,
        "SetDigest": _varbinary,
        "tdigest": _varbinary,
        "qdigest": _varbinary,
        "date": _date,
        "uuid": _str,
        "ipaddress": _str,
        "interval day to second": _interval_day,
        "interval year to month": _interval_month,
    }
    if b in simple:
        return simple[b]
    if b == "decimal":
        return _decimal(t.params[1])
    if b == "char":
        return _char(t.params[0] if t.params else 1)
    if b == "time":
        return time_encoder(precision, False)
    if b == "time with time zone":
        return time_encoder(precision, True)
    if b == "timestamp":
        return timestamp_encoder(precision)
    if b == "timestamp with time zone":
        # The zone the query text gives the column, else the session's (see .temporal).
        return timestamp_tz_encoder(precision, t.zone or zone)
    if b == "array":
        return _array(encoder(t.children[0], zone, parametric_datetime))
    if b == "map":
        k, v = (encoder(c, zone, parametric_datetime) for c in t.children)
        return _map(k, v)
    if b == "row":
        return _row([encoder(c, zone, parametric_datetime) for c in t.children])
    return _str


def row_encoder(
    types: Sequence[TrinoType],
    zone: str = "UTC",
    parametric_datetime: bool = True,
    as_text: Sequence[bool] | None = None,
) -> Callable[[Sequence[Any]], list[Any]]:
    """A function turning one DuckDB row into the JSON row Trino would send.

    Columns flagged in ``as_text`` are sent as the text of their value.
    """
    text = list(as_text or [False] * len(types))
    active: list[tuple[int, Encoder]] = []
    for i, t in enumerate(types):
        enc = _str if text[i] else encoder(t, zone, parametric_datetime)
        if enc is not None:
            active.append((i, enc))
    if not active:
        return list

    def encode(row: Sequence[Any]) -> list[Any]:
        out = list(row)
        for i, enc in active:
            v = out[i]
            if v is not None:
                out[i] = enc(v)
        return out

    return encode
