"""PrestoDB's value and type shapes, brought to Trino's before the official row mappers run.

What PrestoDB sends differently (read in ``prestodb/presto``):

- structural values (``array``, ``map``, ``row``) as JSON *text*, at every nesting level,
  when ``nested-data-serialization-enabled`` is on, its default
  (``com.facebook.presto.server.protocol.QueryResourceUtil.parseToJson``): each is parsed
  back, guided by the column's type, so a ``varchar`` that looks like JSON stays text;
- a type signature's argument kinds by their JSON names ``TYPE_SIGNATURE``,
  ``NAMED_TYPE_SIGNATURE`` and ``LONG_LITERAL`` (``com.facebook.presto.common.type.
  ParameterKind.jsonName``, the names Trino's client protocol once used too), beside the
  deprecated ``typeArguments`` and ``literalArguments`` lists
  (``com.facebook.presto.client.ClientTypeSignature``): they are read as Trino's ``TYPE``,
  ``NAMED_TYPE`` and ``LONG``, and the deprecated lists are dropped;
- a row field's ``typeSignature`` as a *string* (``ClientTypeSignatureParameter`` holds a
  ``NamedTypeSignature``, whose ``TypeSignature`` is written as its text), where Trino
  sends an object: it is parsed into Trino's shape;
- ``timestamp microseconds`` (``SqlTimestamp``, six digits), read as a ``timestamp(6)``;
- ``time with time zone`` as ``HH:mm:ss.SSS VV`` with a zone *id* (``SqlTimeWithTimeZone``),
  where Trino writes an offset.

Each step looks at the value's own JSON type first, so Trino's answers pass through
untouched; columns that need none of this get no per-value work at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time, timezone
from typing import Any

from trino.mapper import TimeValueMapper, TimeWithTimeZoneValueMapper, _create_tzinfo

__all__ = ["column_fixers", "normalize_columns", "parse_signature", "time_with_zone"]

_STRUCTURAL = ("array", "map", "row")
# ParameterKind.jsonName() (presto-common, com.facebook.presto.common.type.ParameterKind):
# Jackson writes these old names; fromJsonValue accepts both, and so does this module.
_KINDS = {"TYPE_SIGNATURE": "TYPE", "NAMED_TYPE_SIGNATURE": "NAMED_TYPE", "LONG_LITERAL": "LONG"}
_DEPRECATED = ("typeArguments", "literalArguments")
_MILLISECOND_TYPES = ("time", "time with time zone", "timestamp", "timestamp with time zone")
_ENCLOSED_NAMES = ("timestamp microseconds",)
_EPOCH_DAY = date(1970, 1, 1)


def normalize_columns(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``columns`` with every type signature in the shape the Trino client reads."""
    return [
        {**column, "typeSignature": _normalize(column.get("typeSignature"), column.get("type"))}
        for column in columns
    ]


def _normalize(signature: Any, text: Any) -> dict[str, Any]:
    if isinstance(signature, str):
        return parse_signature(signature)
    if not isinstance(signature, dict):
        return parse_signature(str(text or "unknown"))
    raw = str(signature.get("rawType", "")).lower()
    if raw == "timestamp microseconds":
        return {"rawType": "timestamp", "arguments": [{"kind": "LONG", "value": 6}]}
    if raw in _MILLISECOND_TYPES and not signature.get("arguments"):
        # PrestoDB's time and timestamp types hold milliseconds and carry no precision
        # (TimeType, TimestampType; SqlTime, SqlTimestamp write 3 digits): Trino's shape
        # says so, as Trino's own timestamp(3) does (trino.dbapi.ColumnDescription reads it).
        return {"rawType": raw, "arguments": [{"kind": "LONG", "value": 3}]}
    arguments = []
    for argument in signature.get("arguments") or ():
        if not isinstance(argument, dict):
            arguments.append(argument)
            continue
        kind = argument.get("kind")
        kind = _KINDS.get(kind, kind) if isinstance(kind, str) else kind
        value = argument.get("value")
        if kind == "TYPE":
            value = _normalize(value, None)
        elif kind == "NAMED_TYPE" and isinstance(value, dict):
            value = {**value, "typeSignature": _normalize(value.get("typeSignature"), None)}
        arguments.append({**argument, "kind": kind, "value": value})
    kept = {k: v for k, v in signature.items() if k not in _DEPRECATED}
    return {**kept, "arguments": arguments}


def parse_signature(text: str) -> dict[str, Any]:
    """A type's text (``row(a integer,b array(varchar(3)))``) as a Trino type signature."""
    text = text.strip()
    lowered = text.lower()
    if lowered in _ENCLOSED_NAMES:
        return _normalize({"rawType": lowered, "arguments": []}, None)
    open_at = text.find("(")
    if open_at < 0 or not text.endswith(")"):
        return {"rawType": lowered, "arguments": []}
    raw = text[:open_at].strip().lower()
    parts = _split(text[open_at + 1 : -1])
    arguments: list[dict[str, Any]] = []
    for part in parts:
        if part.isdigit():
            arguments.append({"kind": "LONG", "value": int(part)})
        elif raw == "row":
            name, field_type = _field(part)
            value: dict[str, Any] = {"typeSignature": parse_signature(field_type)}
            if name is not None:
                value["fieldName"] = {"name": name, "delimited": False}
            arguments.append({"kind": "NAMED_TYPE", "value": value})
        else:
            arguments.append({"kind": "TYPE", "value": parse_signature(part)})
    return {"rawType": raw, "arguments": arguments}


def _split(inner: str) -> list[str]:
    """The top-level comma-separated parts of ``inner`` (quotes and parentheses kept)."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(inner):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == ",":
            parts.append(inner[start:i].strip())
            start = i + 1
    parts.append(inner[start:].strip())
    return [p for p in parts if p]


_BARE_TYPES = ("timestamp", "time", "interval", "double", "decimal", "varchar", "char")


def _field(part: str) -> tuple[str | None, str]:
    """A row field's name (None for an anonymous field) and type text."""
    if part.startswith('"'):
        end = part.find('"', 1)
        while end > 0 and part[end + 1 : end + 2] == '"':  # "" inside a delimited name
            end = part.find('"', end + 2)
        return part[1:end].replace('""', '"'), part[end + 1 :].strip()
    head, _, rest = part.partition(" ")
    if not rest or "(" in head or head.lower() in _BARE_TYPES:
        return None, part
    return head, rest.strip()


# -- values ----------------------------------------------------------------------------

Fixer = Callable[[Any], Any]


def column_fixers(columns: list[dict[str, Any]]) -> list[Fixer | None]:
    """One fixer per column (None where the column's values need none), from the
    normalised type signatures."""
    return [_fixer(c["typeSignature"]) for c in columns]


def _fixer(signature: dict[str, Any]) -> Fixer | None:
    raw = signature.get("rawType")
    if raw not in _STRUCTURAL:
        return None
    inner = [_fixer(_argument_signature(a)) for a in signature.get("arguments") or ()]
    if raw == "array":
        element = inner[0] if inner else None

        def fix_array(value: Any) -> Any:
            value = _parsed(value)
            if element is None or not isinstance(value, list):
                return value
            return [element(v) for v in value]

        return fix_array
    if raw == "map":
        key = inner[0] if inner else None
        item = inner[1] if len(inner) > 1 else None

        def fix_map(value: Any) -> Any:
            value = _parsed(value)
            if not isinstance(value, dict) or (key is None and item is None):
                return value
            return {(key(k) if key else k): (item(v) if item else v) for k, v in value.items()}

        return fix_map

    def fix_row(value: Any) -> Any:
        value = _parsed(value)
        if not isinstance(value, list) or not any(inner):
            return value
        return [f(v) if f else v for f, v in zip(inner, value, strict=False)]

    return fix_row


def _argument_signature(argument: dict[str, Any]) -> dict[str, Any]:
    value = argument.get("value")
    if argument.get("kind") == "NAMED_TYPE" and isinstance(value, dict):
        value = value.get("typeSignature")
    return value if isinstance(value, dict) else {"rawType": ""}


def _parsed(value: Any) -> Any:
    # A structural value given as text is PrestoDB's JSON serialisation of it.
    if isinstance(value, str):
        return json.loads(value)
    return value


# -- time with time zone ----------------------------------------------------------------


def time_with_zone(precision: int) -> Callable[[Any], time | None]:
    """Map ``time with time zone`` values: PrestoDB's ``10:15:00.000 America/New_York`` or
    ``10:15:00.000 +05:30``, and Trino's ``10:15:00.000+05:30`` (the official mapper's)."""
    trino_mapper = TimeWithTimeZoneValueMapper(precision)
    plain = TimeValueMapper(precision)

    def map_value(value: Any) -> time | None:
        if not isinstance(value, str) or " " not in value.strip():
            result: time | None = trino_mapper.map(value)
            return result
        clock, zone = value.strip().rsplit(" ", 1)
        local = plain.map(clock)
        if local is None:
            return None
        tzinfo = _create_tzinfo(zone)
        if zone[:1] not in "+-":
            # A zone id has no fixed offset for a time without a date; PrestoDB renders the
            # value on 1970-01-01 (SqlTimeWithTimeZone: Instant.ofEpochMilli(...).atZone),
            # so that day's offset is the one the text was written with.
            offset = datetime.combine(_EPOCH_DAY, local, tzinfo).utcoffset()
            tzinfo = timezone(offset) if offset is not None else tzinfo
        return local.replace(tzinfo=tzinfo)

    return map_value
