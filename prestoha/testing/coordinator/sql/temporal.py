"""Trino's date and time semantics on DuckDB: zones, literals, rounding and date arithmetic.

Where the zone of a ``timestamp with time zone`` lives
------------------------------------------------------
Trino keeps a zone in every value (``io.trino.spi.type.SqlTimestampWithTimeZone`` holds the
instant and a ``TimeZoneKey``) and prints the value in that zone, followed by the zone id or
offset: ``2001-08-22 12:34:56.123456 US/Eastern``. DuckDB's ``TIMESTAMPTZ`` is an instant only.

The emulator keeps DuckDB's instant as the value and carries the zone in the *type* of each
output column (:attr:`TrinoType.zone`), read off the query text: the zone of a literal, of
``AT TIME ZONE``, ``with_timezone`` and ``at_timezone``; everything else (``current_timestamp``,
casts from ``timestamp``, table columns) is in the session zone, as Trino computes it. The
encoder of the column converts each instant to that zone once per value. So comparisons,
arithmetic and functions on the instant stay native DuckDB, nothing widens the storage and
the hot path costs one ``astimezone`` per value; the price is that one column shows one zone
(values with different zones in one column, or zones read from data, are shown in the column's
zone; the instants are right).

Fixed offsets (``+05:30``), which DuckDB's ICU does not know as zones, are applied here: a
literal's instant is computed in Python (:func:`timestamp_tz_instant`), ``with_timezone`` with
an offset shifts the local time by it.

Precision
---------
Trino rounds half up when a value gets fewer fractional digits (``io.trino.type.DateTimes.round``,
``VarcharToTimestampWithTimeZoneCast``); literals with more digits than their target are rounded
here, casts of computed values are rounded in SQL with ``time_bucket`` (:func:`rewrite`), and the
encoders round whatever reaches them with more digits than the column's precision. DuckDB holds
microseconds (``TIMESTAMP_NS`` for timestamp(7..9)), Python's ``datetime`` as well: precisions 7
to 12 are typed and printed with their digits, but values are exact to the microsecond only (a
literal's extra digits are rounded half up to the microsecond, the rest print as zeros).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlglot import exp

from prestoha.testing.coordinator.sql.errors import user_error
from prestoha.testing.coordinator.sql.types import TrinoType

__all__ = [
    "interval_span",
    "rewrite",
    "temporal_hint",
    "timestamp_tz_instant",
    "zone_info",
    "zone_key",
]

_UTC_NAMES = {"utc", "z", "zulu", "gmt", "gmt0", "greenwich", "ut", "uct", "universal"}
_OFFSET = re.compile(r"^(?:(?:utc|gmt|ut)(?=[+-]))?([+-])(\d{1,2})(?::?(\d{2}))?$")
_ETC_GMT = re.compile(r"^etc/gmt([+-])(\d{1,2})$")

# DateTimes.DATETIME_PATTERN: what Trino accepts as the text of a TIMESTAMP literal or cast.
_DATETIME = re.compile(
    r"^(?P<year>[-+]?\d{4,})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?: (?:(?P<hour>\d{1,2}):(?P<minute>\d{1,2})(?::(?P<second>\d{1,2})"
    r"(?:\.(?P<fraction>\d+))?)?)?\s*(?P<zone>.+)?)?$"
)
_TIME = re.compile(r"^(?P<clock>\d{1,2}:\d{1,2}(?::\d{1,2})?)(?:\.(?P<fraction>\d+))?(?P<rest>.*)$")


@lru_cache(maxsize=1)
def _zone_ids() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _offset_text(sign: str, hours: int, minutes: int) -> str:
    if hours == 0 and minutes == 0:
        return "UTC"
    return f"{sign}{hours:02d}:{minutes:02d}"


@lru_cache(maxsize=512)
def zone_key(text: str) -> str | None:
    """The zone id Trino keeps for ``text``, or ``None`` when Trino knows no such zone.

    As ``io.trino.spi.type.TimeZoneKey.getTimeZoneKey``: ids are matched case-insensitively
    and kept in their canonical spelling (``US/Eastern`` stays ``US/Eastern``); the names of
    UTC and zero offsets become ``UTC``; offsets, also as ``GMT+5`` or ``Etc/GMT-5``, become
    ``+05:00``. Offsets must lie within ±14:00 (``DateTimes.isValidOffset``).
    """
    lowered = text.strip().lower()
    if lowered.startswith("etc/") and lowered[4:] in _UTC_NAMES:
        return "UTC"
    if lowered in _UTC_NAMES:
        return "UTC"
    if m := _ETC_GMT.match(lowered):
        # POSIX-style: Etc/GMT+5 is five hours *behind* UTC.
        return _offset_text("-" if m.group(1) == "+" else "+", int(m.group(2)), 0)
    if m := _OFFSET.match(lowered):
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            return None
        return _offset_text(m.group(1), hours, minutes)
    return _zone_ids().get(lowered)


@lru_cache(maxsize=512)
def zone_info(zone: str) -> tzinfo:
    """The Python ``tzinfo`` of a zone key from :func:`zone_key`."""
    if zone == "UTC":
        return timezone.utc
    if zone[0] in "+-":
        delta = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        return timezone(-delta if zone[0] == "-" else delta)
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _half_up(fraction: str, digits: int) -> tuple[int, bool]:
    """``fraction`` (decimal digits) rounded half up to ``digits`` digits, and the carry."""
    value = int(fraction[:digits] or 0)
    if len(fraction) > digits and fraction[digits] >= "5":
        value += 1
    if value == 10**digits:
        return 0, True
    return value, False


def timestamp_tz_instant(
    text: str, precision: int, default_zone: str, *, literal: bool
) -> tuple[datetime, str]:
    """The UTC instant and zone key of a ``timestamp(p) with time zone`` given as text.

    A literal in the hour a DST change skips is invalid (``DateTimes.toEpochSecond`` finds no
    valid offset); a cast moves it forward by the gap (``VarcharToTimestampWithTimeZoneCast``
    uses ``ZonedDateTime.of``). The fraction is rounded half up to ``precision`` and, beyond
    microseconds, to the microsecond DuckDB can hold. Raises ``ValueError`` for bad text.
    """
    m = _DATETIME.match(text.strip())
    if m is None:
        raise ValueError(text)
    zone = zone_key(m.group("zone")) if m.group("zone") else zone_key(default_zone)
    if zone is None:
        raise ValueError(text)
    local = datetime(
        int(m.group("year")),
        int(m.group("month")),
        int(m.group("day")),
        int(m.group("hour") or 0),
        int(m.group("minute") or 0),
        int(m.group("second") or 0),
    )
    tz = zone_info(zone)
    aware = local.replace(tzinfo=tz)
    if literal and aware.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != local:
        raise ValueError(text)
    digits = min(precision, 6)
    micros, carry = _half_up(m.group("fraction") or "", digits)
    instant = aware.astimezone(timezone.utc) + timedelta(
        seconds=int(carry), microseconds=micros * 10 ** (6 - digits)
    )
    return instant, zone


def _round_text(text: str, digits: int) -> str:
    """A timestamp or time text with its fraction rounded half up to ``digits`` digits."""
    if (m := _DATETIME.match(text.strip())) and m.group("fraction"):
        fraction = m.group("fraction")
        head, _, tail = text.strip().partition("." + fraction)
        try:
            base = datetime.fromisoformat(head)
        except ValueError:
            return text  # DuckDB reports what it cannot read
    elif (t := _TIME.match(text.strip())) and t.group("fraction"):
        fraction, tail = t.group("fraction"), t.group("rest")
        base = datetime.fromisoformat("2000-01-01T" + t.group("clock"))
    else:
        return text
    value, carry = _half_up(fraction, digits)
    rounded = base + timedelta(seconds=int(carry))
    clock = rounded.isoformat(" ") if m else rounded.time().isoformat()
    return clock + (f".{value:0{digits}d}" if digits else "") + tail


_ROUNDED = {
    exp.DataType.Type.TIMESTAMP: "TIMESTAMP",
    exp.DataType.Type.TIMESTAMPTZ: "TIMESTAMPTZ",
    exp.DataType.Type.TIME: "TIME",
}


def _precision(node: exp.DataType) -> int | None:
    if not node.expressions:
        return None
    try:
        return int(node.expressions[0].name)
    except ValueError:
        return None


def _fraction_digits(text: str) -> int:
    m = _DATETIME.match(text.strip()) or _TIME.match(text.strip())
    return len(m.group("fraction") or "") if m else 0


def _string(node: exp.Expression) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


def _rounded_cast(node: exp.Cast, kind: Any, precision: int) -> exp.Expression:
    """``CAST(x AS <kind>(p))`` for p < 6, rounding half up as ``DateTimes.round`` does."""
    step = 10 ** (6 - precision)
    width = exp.Interval(this=exp.Literal.string(f"{step} microseconds"))
    half = exp.Interval(this=exp.Literal.string(f"{step // 2} microseconds"))
    plain = exp.DataType.build(_ROUNDED[kind])
    inner = exp.Cast(this=node.this.copy(), to=plain)
    if kind == exp.DataType.Type.TIME:
        # Times wrap at midnight, as TimeToTimeCast rounds modulo a day.
        on_day = exp.Add(this=exp.cast(exp.Literal.string("2000-01-03"), "DATE"), expression=inner)
        bucket = exp.Anonymous(
            this="time_bucket", expressions=[width, exp.Add(this=on_day, expression=half)]
        )
        return exp.Cast(this=bucket, to=plain.copy())
    bucket = exp.Anonymous(
        this="time_bucket", expressions=[width, exp.Add(this=inner, expression=half)]
    )
    return exp.Cast(this=bucket, to=plain.copy())


def _utc_literal(instant: datetime) -> exp.Expression:
    text = instant.strftime("%Y-%m-%d %H:%M:%S.%f") + "+00"
    return exp.Cast(this=exp.Literal.string(text), to=exp.DataType.build("TIMESTAMPTZ"))


def _cast(node: exp.Cast, session_zone: str) -> exp.Expression | None:
    to = node.to
    kind = to.this
    precision = _precision(to)
    if precision is None or kind not in _ROUNDED:
        return None
    text = _string(node.this)
    # sqlglot gives a TIMESTAMP '...' literal no cast arguments (format, safe...), a CAST does.
    literal = text is not None and "format" not in node.args
    if kind == exp.DataType.Type.TIMESTAMPTZ and text is not None:
        try:
            instant, _ = timestamp_tz_instant(text, precision, session_zone, literal=literal)
        except (ValueError, OverflowError):
            if literal:
                message = f"'{text}' is not a valid TIMESTAMP literal"
                raise user_error("INVALID_LITERAL", message) from None
            message = f"Value cannot be cast to timestamp: {text}"
            raise user_error("INVALID_CAST_ARGUMENT", message) from None
        return _utc_literal(instant)
    if text is not None:
        if _fraction_digits(text) <= min(precision, 6):
            return None
        rounded = _round_text(text, min(precision, 6))
        return exp.Cast(this=exp.Literal.string(rounded), to=to.copy())
    if precision < 6:
        return _rounded_cast(node, kind, precision)
    return None


def _with_timezone(args: list[exp.Expression]) -> exp.Expression | None:
    """``with_timezone(ts, zone)``: the wall time ``ts`` read in ``zone``."""
    text = _string(args[1])
    zone = zone_key(text) if text is not None else None
    if zone is None:
        return None
    plain = exp.Cast(this=args[0].copy(), to=exp.DataType.build("TIMESTAMP"))
    if zone[0] in "+-":
        minutes = int(zone[1:3]) * 60 + int(zone[4:6])
        shift = exp.Interval(this=exp.Literal.string(f"{minutes} minutes"))
        local = (
            exp.Sub(this=plain, expression=shift)
            if zone[0] == "+"
            else exp.Add(this=plain, expression=shift)
        )
        return exp.Anonymous(this="timezone", expressions=[exp.Literal.string("UTC"), local])
    return exp.Anonymous(this="timezone", expressions=[exp.Literal.string(zone), plain])


def _is_date(node: exp.Expression) -> bool:
    if isinstance(node, exp.Cast):
        return bool(node.to.this == exp.DataType.Type.DATE)
    return isinstance(node, exp.CurrentDate)


def rewrite(node: exp.Expr, session_zone: str) -> exp.Expression | None:
    """The DuckDB form of a temporal expression whose meaning differs, or ``None``."""
    if isinstance(node, exp.Cast) and not isinstance(node, exp.TryCast):
        return _cast(node, session_zone)
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "with_timezone":
        return _with_timezone(list(node.expressions)) if len(node.expressions) == 2 else None
    if (
        isinstance(node, (exp.Add, exp.Sub))
        and isinstance(node.expression, exp.Interval)
        and _is_date(node.this)
        and not node.meta.get(_DATE_ARITHMETIC)
    ):
        # date ± interval is a date in Trino (DateTimeOperators), a timestamp in DuckDB.
        operation = type(node)(this=node.this.copy(), expression=node.expression.copy())
        operation.meta[_DATE_ARITHMETIC] = True
        return exp.Cast(this=operation, to=exp.DataType.build("DATE"))
    return None


_DATE_ARITHMETIC = "prestoha_date_arithmetic"
_YEAR_MONTH = re.compile(r"^([+-]?)(\d+)-(\d+)$")
_DAY_TIME = ["DAY", "HOUR", "MINUTE", "SECOND"]
_DAY_TIME_TEXT = re.compile(r"^([+-]?)(\d+(?:[ :]\d+)*(?:\.\d+)?)$")


def interval_span(node: exp.Interval) -> exp.Expression:
    """``INTERVAL '1-2' YEAR TO MONTH``, ``INTERVAL '12 10:45' DAY TO MINUTE``... for DuckDB.

    DuckDB has no interval spans; the fields are spelled out. The text has one number per
    field, days apart by a space, the rest by colons, a sign in front of all
    (``io.trino.util.DateTimeUtils.parseDayTimeInterval``, ``parseYearMonthInterval``).
    """
    text = node.this.name.strip() if isinstance(node.this, exp.Literal) else ""
    span = node.args["unit"]
    first = span.this.name.upper() if isinstance(span.this, exp.Expression) else ""
    last = span.expression.name.upper() if isinstance(span.expression, exp.Expression) else ""
    value = None
    if (first, last) == ("YEAR", "MONTH") and (m := _YEAR_MONTH.match(text)):
        sign = m.group(1)
        value = f"{sign}{m.group(2)} years {sign}{m.group(3)} months"
    elif first in _DAY_TIME and last in _DAY_TIME and (m := _DAY_TIME_TEXT.match(text)):
        fields = _DAY_TIME[_DAY_TIME.index(first) : _DAY_TIME.index(last) + 1]
        numbers = re.split(r"[ :]", m.group(2))
        fraction_ok = "." not in m.group(2) or last == "SECOND"
        if len(fields) == len(numbers) and fraction_ok:
            sign = m.group(1)
            value = " ".join(
                f"{sign}{n} {f.lower()}s" for f, n in zip(fields, numbers, strict=True)
            )
    if value is None:
        raise user_error("INVALID_LITERAL", f"'{text}' is not a valid interval literal")
    return exp.Cast(this=exp.Literal.string(value), to=exp.DataType.build("INTERVAL"))


_TZ = "timestamp with time zone"
_STAMPED = ("timestamp", _TZ, "date", "time", "time with time zone")


def _zoned(inner: TrinoType | None, zone_text: exp.Expression) -> TrinoType:
    precision = inner.precision if inner is not None and inner.base in ("timestamp", _TZ) else 3
    text = _string(zone_text)
    zone = zone_key(text) if text is not None else None
    return TrinoType(_TZ, (precision,), zone=zone)


def temporal_hint(
    node: exp.Expression, hint_of: Callable[[exp.Expression], TrinoType | None]
) -> TrinoType | None:
    """The Trino type of a temporal expression the query text determines, or ``None``.

    ``hint_of`` gives the type of a sub-expression.
    """
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.TIMESTAMPTZ:
        text = _string(node.this)
        precision = _precision(node.to)
        if precision is None:
            return None
        if text is None:
            # A cast keeps the zone of a value that has one (TimestampWithTimeZone casts).
            inner = hint_of(node.this)
            zone = inner.zone if inner is not None and inner.base == _TZ else None
            return TrinoType(_TZ, (precision,), zone=zone)
        m = _DATETIME.match(text.strip())
        zone = zone_key(m.group("zone")) if m is not None and m.group("zone") else None
        return TrinoType(_TZ, (precision,), zone=zone)
    if isinstance(node, exp.AtTimeZone):
        return _zoned(hint_of(node.this), node.args["zone"])
    if (
        isinstance(node, exp.Anonymous)
        and len(node.expressions) == 2
        and str(node.this).lower() in ("with_timezone", "at_timezone")
    ):
        return _zoned(hint_of(node.expressions[0]), node.expressions[1])
    if isinstance(node, exp.CurrentTimestamp):
        # CurrentTimestamp: timestamp(3) with time zone in the session zone.
        return TrinoType(_TZ, (3,))
    if isinstance(node, exp.Localtimestamp):
        return TrinoType("timestamp", (3,))
    if isinstance(node, exp.CurrentDate):
        return TrinoType("date")
    if isinstance(node, (exp.Add, exp.Sub)):
        left, right = hint_of(node.this), hint_of(node.expression)
        if left is None or right is None:
            return None
        if left.base in _STAMPED and right.base.startswith("interval"):
            return left
        if (
            isinstance(node, exp.Add)
            and right.base in _STAMPED
            and left.base.startswith("interval")
        ):
            return right
        if (
            isinstance(node, exp.Sub)
            and left.base in ("timestamp", _TZ)
            and right.base == left.base
        ):
            return TrinoType("interval day to second")
    return None


def with_zone(t: TrinoType, zone: str | None) -> TrinoType:
    """``t`` shown in ``zone``."""
    return replace(t, zone=zone)
