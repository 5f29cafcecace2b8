"""Dates, times, timestamps (with and without zone) and intervals, as Trino sends them.

Each case is a SQL expression, the type signature and the JSON text Trino puts on the wire for
it (with the Trino source that decides it), and the Python value the ``trino`` client maps that
text to. Every case runs in the direct protocol and each spooling encoding, and prestoha's own
decoding must give what the client gives.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]
from roundtrip import ENCODING_IDS, ENCODINGS, observe, wire

from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration

EASTERN = ZoneInfo("US/Eastern")
KOLKATA = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
PLUS_0530 = timezone(timedelta(hours=5, minutes=30))
MINUS_0800 = timezone(-timedelta(hours=8))

# (SQL expression, signature, wire value, trino client value)
CASES: list[tuple[str, str, Any, Any]] = [
    # SqlDate.toString is LocalDate.toString: ISO, proleptic Gregorian.
    ("DATE '2001-08-22'", "date", "2001-08-22", date(2001, 8, 22)),
    ("DATE '1500-03-01'", "date", "1500-03-01", date(1500, 3, 1)),
    # date + interval is a date (DateTimeOperators.datePlusIntervalYearToMonth); months clamp
    # to the last day as LocalDate.plusMonths does.
    ("DATE '2001-01-31' + INTERVAL '1' MONTH", "date", "2001-02-28", date(2001, 2, 28)),
    ("DATE '2001-08-22' - INTERVAL '3' DAY", "date", "2001-08-19", date(2001, 8, 19)),
    # SqlTime.toString: the literal's digits are its precision (DateTimes.extractTimePrecision).
    ("TIME '01:02:03'", "time(0)", "01:02:03", time(1, 2, 3)),
    ("TIME '01:02:03.456'", "time(3)", "01:02:03.456", time(1, 2, 3, 456000)),
    ("TIME '01:02:03.123456'", "time(6)", "01:02:03.123456", time(1, 2, 3, 123456)),
    # Fewer digits round half up (TimeToTimeCast with DateTimes.round), modulo a day.
    ("CAST(TIME '01:02:03.4567' AS time(2))", "time(2)", "01:02:03.46", time(1, 2, 3, 460000)),
    ("CAST(TIME '01:02:03.4549' AS time(2))", "time(2)", "01:02:03.45", time(1, 2, 3, 450000)),
    ("CAST(TIME '23:59:59.9999' AS time(3))", "time(3)", "00:00:00.000", time(0, 0)),
    # SqlTimeWithTimeZone.toString: the offset follows the fraction without a space.
    ("TIME '01:02:03.456 +05:30'", "time(3) with time zone", "01:02:03.456+05:30",
     time(1, 2, 3, 456000, tzinfo=PLUS_0530)),
    ("TIME '01:02:03 -08:00'", "time(0) with time zone", "01:02:03-08:00",
     time(1, 2, 3, tzinfo=MINUS_0800)),
    ("CAST(TIME '01:02:03.4567 +05:30' AS time(2) with time zone)", "time(2) with time zone",
     "01:02:03.46+05:30", time(1, 2, 3, 460000, tzinfo=PLUS_0530)),
    # SqlTimestamp.toString (DateTimes.formatTimestamp): as many digits as the precision.
    ("TIMESTAMP '2001-08-22 12:34:56'", "timestamp(0)", "2001-08-22 12:34:56",
     datetime(2001, 8, 22, 12, 34, 56)),
    ("TIMESTAMP '2001-08-22 12:34:56.123'", "timestamp(3)", "2001-08-22 12:34:56.123",
     datetime(2001, 8, 22, 12, 34, 56, 123000)),
    ("TIMESTAMP '2001-08-22 12:34:56.123456'", "timestamp(6)", "2001-08-22 12:34:56.123456",
     datetime(2001, 8, 22, 12, 34, 56, 123456)),
    ("TIMESTAMP '1500-05-01 12:34:56'", "timestamp(0)", "1500-05-01 12:34:56",
     datetime(1500, 5, 1, 12, 34, 56)),
    # TimestampToTimestampCast rounds half up (DateTimes.round): .1234567 -> .123457.
    ("CAST(TIMESTAMP '2020-01-01 00:00:00.1234567' AS timestamp(6))", "timestamp(6)",
     "2020-01-01 00:00:00.123457", datetime(2020, 1, 1, 0, 0, 0, 123457)),
    ("CAST(TIMESTAMP '2020-01-01 00:00:00.1235' AS timestamp(3))", "timestamp(3)",
     "2020-01-01 00:00:00.124", datetime(2020, 1, 1, 0, 0, 0, 124000)),
    ("CAST(TIMESTAMP '1969-12-31 23:59:59.9995' AS timestamp(3))", "timestamp(3)",
     "1970-01-01 00:00:00.000", datetime(1970, 1, 1)),
    # VarcharToTimestampCast rounds the text's extra digits half up too.
    ("CAST('2001-08-22 12:34:56.9999999' AS timestamp(6))", "timestamp(6)",
     "2001-08-22 12:34:57.000000", datetime(2001, 8, 22, 12, 34, 57)),
    ("CAST(CAST('2001-08-22 12:34:56.25' AS timestamp(2)) AS timestamp(1))", "timestamp(1)",
     "2001-08-22 12:34:56.3", datetime(2001, 8, 22, 12, 34, 56, 300000)),
    # timestamp(p) + interval keeps timestamp(p) (TimestampPlusIntervalDayToSecond).
    ("TIMESTAMP '2001-08-22 00:00:00' + INTERVAL '2' DAY", "timestamp(0)", "2001-08-24 00:00:00",
     datetime(2001, 8, 24)),
    # SqlTimestampWithTimeZone.toString: local time in the value's zone, then the zone id.
    ("TIMESTAMP '2001-08-22 12:34:56.123456 US/Eastern'", "timestamp(6) with time zone",
     "2001-08-22 12:34:56.123456 US/Eastern",
     datetime(2001, 8, 22, 12, 34, 56, 123456, tzinfo=EASTERN)),
    ("TIMESTAMP '2001-08-22 12:34:56 Asia/Kolkata'", "timestamp(0) with time zone",
     "2001-08-22 12:34:56 Asia/Kolkata", datetime(2001, 8, 22, 12, 34, 56, tzinfo=KOLKATA)),
    # Offsets are zone keys of their own (TimeZoneKey), printed as +hh:mm.
    ("TIMESTAMP '2001-08-22 12:34:56 -08:00'", "timestamp(0) with time zone",
     "2001-08-22 12:34:56 -08:00", datetime(2001, 8, 22, 12, 34, 56, tzinfo=MINUS_0800)),
    ("TIMESTAMP '2001-08-22 12:34:56.1 +05:30'", "timestamp(1) with time zone",
     "2001-08-22 12:34:56.1 +05:30", datetime(2001, 8, 22, 12, 34, 56, 100000, tzinfo=PLUS_0530)),
    # UTC and a zero offset are the UTC key (TimeZoneKey.UTC_KEY).
    ("TIMESTAMP '2001-08-22 12:34:56.123 UTC'", "timestamp(3) with time zone",
     "2001-08-22 12:34:56.123 UTC",
     datetime(2001, 8, 22, 12, 34, 56, 123000, tzinfo=ZoneInfo("UTC"))),
    ("TIMESTAMP '2001-08-22 12:34:56 +00:00'", "timestamp(0) with time zone",
     "2001-08-22 12:34:56 UTC", datetime(2001, 8, 22, 12, 34, 56, tzinfo=ZoneInfo("UTC"))),
    # A cast in a DST gap moves forward (VarcharToTimestampWithTimeZoneCast: ZonedDateTime.of).
    ("CAST('2021-03-14 02:30:00 America/New_York' AS timestamp(0) with time zone)",
     "timestamp(0) with time zone", "2021-03-14 03:30:00 America/New_York",
     datetime(2021, 3, 14, 3, 30, tzinfo=NEW_YORK)),
    # A cast to fewer digits keeps the zone and rounds half up
    # (TimestampWithTimeZoneToTimestampWithTimeZoneCast).
    ("CAST(TIMESTAMP '2001-08-22 12:34:56.5 US/Eastern' AS timestamp(0) with time zone)",
     "timestamp(0) with time zone", "2001-08-22 12:34:57 US/Eastern",
     datetime(2001, 8, 22, 12, 34, 57, tzinfo=EASTERN)),
    # AtTimeZone: a timestamp is read in the session zone (UTC here), shown in the new zone.
    ("TIMESTAMP '2001-08-22 12:34:56' AT TIME ZONE 'Asia/Kolkata'",
     "timestamp(0) with time zone", "2001-08-22 18:04:56 Asia/Kolkata",
     datetime(2001, 8, 22, 18, 4, 56, tzinfo=KOLKATA)),
    ("TIMESTAMP '2001-08-22 12:34:56 UTC' AT TIME ZONE '+05:30'",
     "timestamp(0) with time zone", "2001-08-22 18:04:56 +05:30",
     datetime(2001, 8, 22, 18, 4, 56, tzinfo=PLUS_0530)),
    # with_timezone reads the wall time in the zone (WithTimeZone).
    ("with_timezone(TIMESTAMP '2001-08-22 12:34:56', 'America/Los_Angeles')",
     "timestamp(0) with time zone", "2001-08-22 12:34:56 America/Los_Angeles",
     datetime(2001, 8, 22, 12, 34, 56, tzinfo=LOS_ANGELES)),
    ("with_timezone(TIMESTAMP '2001-08-22 12:34:56.5', '+05:30')",
     "timestamp(1) with time zone", "2001-08-22 12:34:56.5 +05:30",
     datetime(2001, 8, 22, 12, 34, 56, 500000, tzinfo=PLUS_0530)),
    # Arithmetic keeps the zone and counts a day on the local calendar (DateAdd, plusDays).
    ("TIMESTAMP '2001-08-22 12:34:56.123456 US/Eastern' + INTERVAL '1' DAY",
     "timestamp(6) with time zone", "2001-08-23 12:34:56.123456 US/Eastern",
     datetime(2001, 8, 23, 12, 34, 56, 123456, tzinfo=EASTERN)),
    # io.trino.client.IntervalYearMonth.formatMonths: [-]years-months.
    ("INTERVAL '3' MONTH", "interval year to month", "0-3", relativedelta(months=3)),
    ("INTERVAL '1-2' YEAR TO MONTH", "interval year to month", "1-2",
     relativedelta(years=1, months=2)),
    ("INTERVAL '-1-2' YEAR TO MONTH", "interval year to month", "-1-2",
     relativedelta(years=-1, months=-2)),
    # io.trino.client.IntervalDayTime.formatMillis: [-]days hh:mm:ss.SSS.
    ("INTERVAL '2' DAY", "interval day to second", "2 00:00:00.000", timedelta(days=2)),
    ("INTERVAL '-2' DAY", "interval day to second", "-2 00:00:00.000", timedelta(days=-2)),
    ("INTERVAL '12 10:45' DAY TO MINUTE", "interval day to second", "12 10:45:00.000",
     timedelta(days=12, hours=10, minutes=45)),
    ("INTERVAL '-1 02:03:04.5' DAY TO SECOND", "interval day to second", "-1 02:03:04.500",
     -timedelta(days=1, hours=2, minutes=3, seconds=4, milliseconds=500)),
    ("INTERVAL '02:03' HOUR TO MINUTE", "interval day to second", "0 02:03:00.000",
     timedelta(hours=2, minutes=3)),
    # timestamp - timestamp is an interval day to second (TimestampOperators.subtract).
    ("TIMESTAMP '2001-08-22 12:34:56' - TIMESTAMP '2001-08-20 10:00:00'",
     "interval day to second", "2 02:34:56.000",
     timedelta(days=2, hours=2, minutes=34, seconds=56)),
    # Nested values are written by the element type's encoder (JsonEncodingUtils).
    ("ARRAY[TIMESTAMP '2001-08-22 12:34:56.123456 US/Eastern']",
     "array(timestamp(6) with time zone)", ["2001-08-22 12:34:56.123456 US/Eastern"],
     [datetime(2001, 8, 22, 12, 34, 56, 123456, tzinfo=EASTERN)]),
    ("ARRAY[CAST(TIMESTAMP '2020-01-01 00:00:00.1234567' AS timestamp(6))]",
     "array(timestamp(6))", ["2020-01-01 00:00:00.123457"],
     [datetime(2020, 1, 1, 0, 0, 0, 123457)]),
    ("MAP(ARRAY['a'], ARRAY[TIMESTAMP '2001-08-22 12:34:56 -08:00'])",
     "map(varchar(1), timestamp(0) with time zone)", {"a": "2001-08-22 12:34:56 -08:00"},
     {"a": datetime(2001, 8, 22, 12, 34, 56, tzinfo=MINUS_0800)}),
    ("ARRAY[INTERVAL '2' DAY, INTERVAL '-3' DAY]", "array(interval day to second)",
     ["2 00:00:00.000", "-3 00:00:00.000"], [timedelta(days=2), timedelta(days=-3)]),
    ("ROW(DATE '2001-08-22', TIME '01:02:03.456', INTERVAL '1-2' YEAR TO MONTH)",
     "row(date, time(3), interval year to month)", ["2001-08-22", "01:02:03.456", "1-2"],
     (date(2001, 8, 22), time(1, 2, 3, 456000), relativedelta(years=1, months=2))),
    ("ROW(CAST(TIME '01:02:03.4567 +05:30' AS time(3) with time zone))",
     "row(time(3) with time zone)", ["01:02:03.457+05:30"],
     (time(1, 2, 3, 457000, tzinfo=PLUS_0530),)),
]  # fmt: skip


@pytest.fixture(scope="module")
def emulator() -> Iterator[Coordinator]:
    with Coordinator(node_id="temporal", port=0, admin=False, spooling=True) as c:
        yield c


def _same(got: Any, expected: Any) -> None:
    """Equal, and zoned values carry the same zone (equality of datetimes ignores it)."""
    assert got == expected
    assert isinstance(got, type(expected))  # rows come back as NamedRowTuple
    if isinstance(expected, (datetime, time)):
        assert got.tzinfo == expected.tzinfo
    elif isinstance(expected, (list, tuple)):
        for g, e in zip(got, expected, strict=True):
            _same(g, e)
    elif isinstance(expected, dict):
        for key, value in expected.items():
            _same(got[key], value)


@pytest.mark.parametrize("encoding", ENCODINGS, ids=ENCODING_IDS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_value_travels_as_trino_sends_it(
    emulator: Coordinator, case: tuple[str, str, Any, Any], encoding: str | None
) -> None:
    expression, signature, wire_value, python_value = case
    seen = observe(emulator.uri, expression, encoding)
    assert seen.signature == signature
    assert seen.wire == wire_value
    _same(seen.trino, python_value)
    assert seen.prestoha == seen.trino
    _same(seen.prestoha, python_value)
    assert seen.prestoha_type_code == seen.trino_type_code == signature


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_typeof_names_the_type_as_trino_does(
    emulator: Coordinator, case: tuple[str, str, Any, Any]
) -> None:
    # typeof returns Type.getDisplayName, the same text as the column's type signature.
    expression, signature, _, _ = case
    _, rows = wire(emulator.uri, f"SELECT typeof({expression})")
    assert rows == [[signature]]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # SqlDate: LocalDate.toString writes year 0 for 1 BC and a sign past 9999.
        ("DATE '0001-01-01' - INTERVAL '1' DAY", "0000-12-31"),
        ("DATE '9999-12-31' + INTERVAL '1' DAY", "+10000-01-01"),
        ("TIMESTAMP '0001-01-01 00:00:00' - INTERVAL '1' DAY", "0000-12-31 00:00:00"),
    ],
)
def test_dates_beyond_python_years_are_written_as_java_writes_them(
    emulator: Coordinator, expression: str, expected: str
) -> None:
    # Python's date cannot hold these, so only the wire is compared.
    _, rows = wire(emulator.uri, f"SELECT {expression}")
    assert rows == [[expected]]


def test_literal_in_a_dst_gap_is_invalid(emulator: Coordinator) -> None:
    # DateTimes.parseTimestampWithTimeZone finds no valid offset and the analyzer reports
    # INVALID_LITERAL, unlike the cast above, which moves forward.
    with pytest.raises(AssertionError, match="is not a valid TIMESTAMP literal"):
        wire(emulator.uri, "SELECT TIMESTAMP '2021-03-14 02:30:00 America/New_York'")


def test_current_timestamp_is_in_the_session_zone(emulator: Coordinator) -> None:
    # CurrentTimestamp: timestamp(3) with time zone in the session's zone key.
    columns, rows = wire(emulator.uri, "SELECT current_timestamp", timezone="Asia/Kolkata")
    assert columns[0]["type"] == "timestamp(3) with time zone"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} Asia/Kolkata", rows[0][0])
    shown = datetime.strptime(rows[0][0][:23], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=KOLKATA)
    assert abs(datetime.now(timezone.utc) - shown) < timedelta(minutes=5)


def test_timestamp_at_time_zone_reads_it_in_the_session_zone(emulator: Coordinator) -> None:
    _, rows = wire(
        emulator.uri,
        "SELECT TIMESTAMP '2001-08-22 12:34:56' AT TIME ZONE 'UTC'",
        timezone="America/New_York",
    )
    assert rows == [["2001-08-22 16:34:56 UTC"]]
