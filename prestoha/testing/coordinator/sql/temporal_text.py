"""Wire text of dates, times and timestamps, exactly as Trino writes them.

Each function builds the encoder of one column once; per value it does what the type needs
and no more (a modulo to see whether rounding is needed, a slice of ``isoformat``).

- the date part: ``LocalDate.toString`` (``io.trino.spi.type.SqlDate``): proleptic Gregorian
  with year 0 (``0000-12-31``), negative years (``-0001-01-01``), a ``+`` past year 9999.
- ``time(p)``, ``timestamp(p)``: ``p`` fractional digits (``SqlTime``, ``SqlTimestamp``,
  ``DateTimes.formatTimestamp``), rounded half up (``DateTimes.round``).
- ``time(p) with time zone``: the offset glued on, ``01:02:03.456+05:30``
  (``SqlTimeWithTimeZone.toString``).
- ``timestamp(p) with time zone``: the local time in the value's zone, a space and the zone id
  or offset (``SqlTimestampWithTimeZone.toString``, ``DateTimes.formatTimestampWithTimeZone``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from prestoha.testing.coordinator.sql.temporal import zone_info, zone_key

__all__ = ["time_encoder", "timestamp_encoder", "timestamp_tz_encoder"]

Encoder = Callable[[Any], Any]

_DAY = date(2000, 1, 3)
# DuckDB hands values outside Python's years 1..9999 over as text: 0001-12-31 (BC) 10:00:00.5
_FAR = re.compile(r"^(\d+)-(\d\d)-(\d\d)( \(BC\))?(?: (\d\d:\d\d:\d\d)(?:\.(\d+))?)?")


def _java_year(year: int) -> str:
    # java.time's uuuu: four digits at least, a sign beyond four digits or below zero.
    if year < 0:
        return f"-{-year:04d}"
    return f"{year:04d}" if year <= 9999 else f"+{year}"


def _far(text: str, precision: int) -> str:
    m = _FAR.match(text)
    if m is None:
        return text
    year = int(m.group(1))
    if m.group(4):
        year = 1 - year  # 1 BC is year 0 in the proleptic calendar
    out = f"{_java_year(year)}-{m.group(2)}-{m.group(3)} " + (m.group(5) or "00:00:00")
    if precision:
        out += "." + ((m.group(6) or "") + "0" * precision)[:precision]
    return out


def _rounding(precision: int) -> tuple[int, int, str]:
    """Python's digits kept, the rounding step in microseconds and the zeros beyond them."""
    keep = min(precision, 6)
    return keep, 10 ** (6 - keep), "0" * (precision - keep)


def time_encoder(precision: int, with_zone: bool) -> Encoder:
    """Encoder of ``time(p)`` or ``time(p) with time zone`` values."""
    keep, step, pad = _rounding(precision)
    cut = 8 + (keep + 1 if keep else 0)

    def enc(v: time) -> str:
        if step > 1 and (rest := v.microsecond % step):
            shift = step - rest if 2 * rest >= step else -rest
            # A time wraps at midnight (TimeToTimeCast rounds modulo a day).
            v = (datetime.combine(_DAY, v) + timedelta(microseconds=shift)).timetz()
        text = v.isoformat("microseconds")
        out = text[:cut] + pad
        if with_zone:
            out += text[15:] or "+00:00"
        return out

    return enc


def timestamp_encoder(precision: int) -> Encoder:
    """Encoder of ``timestamp(p)`` values."""
    keep, step, pad = _rounding(precision)
    cut = 19 + (keep + 1 if keep else 0)

    def slow(v: Any) -> str:
        if type(v) is not datetime:
            if type(v) is not date:
                return _far(str(v), precision)
            v = datetime(v.year, v.month, v.day)
        if step > 1 and (rest := v.microsecond % step):
            try:
                v += timedelta(microseconds=step - rest if 2 * rest >= step else -rest)
            except OverflowError:  # 9999-12-31 23:59:59.5 rounds up into year 10000
                return "+10000-01-01 00:00:00" + ("." + "0" * precision if precision else "")
        return str(v.isoformat(" ", "microseconds")[:cut]) + pad

    # The common case first, with as little work per value as the precision allows: every
    # value of a result goes through here.
    if step == 1:

        def enc(v: Any) -> str:
            if type(v) is datetime:
                return v.isoformat(" ", "microseconds")[:cut] + pad
            return slow(v)

        return enc

    def rounded(v: Any) -> str:
        if type(v) is datetime and not v.microsecond % step:
            return v.isoformat(" ", "microseconds")[:cut] + pad
        return slow(v)

    return rounded


def timestamp_tz_encoder(precision: int, zone: str) -> Encoder:
    """Encoder of ``timestamp(p) with time zone`` values shown in ``zone``."""
    key = zone_key(zone) or "UTC"
    tz = zone_info(key)
    plain = timestamp_encoder(precision)
    suffix = " " + key

    def enc(v: Any) -> str:
        if type(v) is not datetime:
            return str(plain(v)) + suffix
        return str(plain(v.astimezone(tz))) + suffix

    return enc
