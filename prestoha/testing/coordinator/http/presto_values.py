"""Result columns and values as a PrestoDB 0.28x/0.29x coordinator writes them.

The engine encodes rows the Trino way (:mod:`prestoha.testing.coordinator.sql.values`, with
``parametric_datetime=False``, so ``timestamp`` has 3 digits and no precision). This module
adapts such a result, column by column, to what PrestoDB sends instead:

- ``columns[].type`` is ``TypeSignature.toString()`` (``map(varchar,integer)``, no spaces) and
  ``typeSignature`` is a ``ClientTypeSignature`` (``rawType``, ``typeArguments``,
  ``literalArguments``, ``arguments`` with the kinds' JSON names ``TYPE_SIGNATURE``,
  ``NAMED_TYPE_SIGNATURE``, ``LONG_LITERAL``; a row field's ``typeSignature`` is a string).
- With ``nested-data-serialization-enabled`` (the default), every array, map and row value, at
  every level, is replaced by its pretty-printed JSON text.
- ``time with time zone`` is ``HH:mm:ss.SSS VV``: a space, then a zone id.

Only the columns that need it get a converter, built once per result; a result without
such columns goes through untouched.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["PrestoColumn", "PrestoResult", "java_double", "presto_signature", "presto_type"]

Converter = Callable[[Any], Any]

_UNBOUNDED_VARCHAR = 2147483647
# com.facebook.presto.common.type.ParameterKind: Jackson writes jsonName(), the old names.
_KINDS = {"TYPE": "TYPE_SIGNATURE", "NAMED_TYPE": "NAMED_TYPE_SIGNATURE", "LONG": "LONG_LITERAL"}


def presto_type(sig: dict[str, Any]) -> str:
    """``TypeSignature.toString()`` of PrestoDB: parameters joined by ``,`` without spaces.

    An unbounded ``varchar`` prints as ``varchar``; a row field as ``name type``
    (``com.facebook.presto.common.type.TypeSignature`` and ``NamedTypeSignature.toString``).
    """
    raw = str(sig["rawType"])
    args = sig.get("arguments") or []
    if not args:
        return raw
    if raw == "varchar" and len(args) == 1 and args[0].get("value") == _UNBOUNDED_VARCHAR:
        return raw
    parts: list[str] = []
    for arg in args:
        kind, value = arg.get("kind"), arg.get("value")
        if kind == "LONG":
            parts.append(str(value))
        elif kind == "TYPE":
            parts.append(presto_type(value))
        else:
            name = (value.get("fieldName") or {}).get("name")
            inner = presto_type(value["typeSignature"])
            parts.append(inner if name is None else f"{name} {inner}")
    return f"{raw}({','.join(parts)})"


def presto_signature(sig: dict[str, Any]) -> dict[str, Any]:
    """A ``com.facebook.presto.client.ClientTypeSignature`` as Jackson writes it.

    ``typeArguments`` and ``literalArguments`` are the deprecated views that the class still
    serialises: the types of TYPE/NAMED_TYPE arguments and the names of NAMED_TYPE ones, each
    an empty list as soon as one argument is of another kind.
    """
    arguments: list[dict[str, Any]] = []
    type_arguments: list[dict[str, Any]] | None = []
    literal_arguments: list[Any] | None = []
    for arg in sig.get("arguments") or []:
        kind, value = arg.get("kind"), arg.get("value")
        if kind == "TYPE":
            inner = presto_signature(value)
            arguments.append({"kind": _KINDS["TYPE"], "value": inner})
            if type_arguments is not None:
                type_arguments.append(inner)
            literal_arguments = None
        elif kind == "NAMED_TYPE":
            named: dict[str, Any] = {}
            name = (value.get("fieldName") or {}).get("name")
            if name is not None:
                # RowFieldName(name, delimited): the engine never keeps a field delimited.
                named["fieldName"] = {"name": name, "delimited": False}
            # NamedTypeSignature.typeSignature is a TypeSignature, whose @JsonValue is its text.
            named["typeSignature"] = presto_type(value["typeSignature"])
            arguments.append({"kind": _KINDS["NAMED_TYPE"], "value": named})
            if type_arguments is not None:
                type_arguments.append(presto_signature(value["typeSignature"]))
            if literal_arguments is not None:
                literal_arguments.append(name)
        else:
            arguments.append({"kind": _KINDS.get(str(kind), kind), "value": value})
            type_arguments = literal_arguments = None
    return {
        "rawType": sig["rawType"],
        "typeArguments": type_arguments or [],
        "literalArguments": literal_arguments or [],
        "arguments": arguments,
    }


def java_double(v: float) -> str:
    """``Double.toString``: fixed notation in [1e-3, 1e7), else ``d.dddE±n``; shortest digits."""
    if v != v or v in (float("inf"), float("-inf")):
        return json.dumps("NaN" if v != v else ("Infinity" if v > 0 else "-Infinity"))
    if v == 0:
        return "-0.0" if struct.pack(">d", v)[0] & 0x80 else "0.0"
    if 1e-3 <= abs(v) < 1e7:
        text = repr(v)
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(v)).as_tuple()
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) - 1 + int(exponent)
    mantissa = shown[0] + "." + (shown[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{power}"


def _scalar(v: Any) -> str:
    """One value inside a nested JSON text, as Jackson writes the Java object."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        return java_double(v)
    if isinstance(v, int):
        return str(v)
    return json.dumps(v, ensure_ascii=False)


def _pretty_list(values: Sequence[Any]) -> str:
    # Jackson's DefaultPrettyPrinter (airlift JsonCodec enables INDENT_OUTPUT): arrays inline.
    if not values:
        return "[ ]"
    return "[ " + ", ".join(map(_scalar, values)) + " ]"


def _pretty_object(items: Sequence[tuple[str, Any]]) -> str:
    # ... and objects one entry a line, two spaces, "key" : value.
    if not items:
        return "{ }"
    lines = ",\n".join(f"  {json.dumps(k, ensure_ascii=False)} : {_scalar(v)}" for k, v in items)
    return "{\n" + lines + "\n}"


def _mask(n: int) -> int:
    return n & 0xFFFFFFFF


def _string_hash(s: str) -> int:
    h = 0
    data = s.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(data), 2):
        h = _mask(31 * h + (data[i] << 8 | data[i + 1]))
    return h


def _long_hash(v: int) -> int:
    bits = v & 0xFFFFFFFFFFFFFFFF
    return _mask(bits ^ (bits >> 32))


def _double_hash(v: float) -> int:
    if v != v:
        return _long_hash(0x7FF8000000000000)  # doubleToLongBits canonical NaN
    return _long_hash(struct.unpack(">q", struct.pack(">d", v))[0])


def _key_codec(raw: str) -> tuple[Callable[[str], int], Callable[[str], str]] | None:
    """Java ``hashCode`` of a map key given as text, and the text Jackson writes for it."""
    if raw in ("varchar", "char"):
        return _string_hash, str
    if raw in ("integer", "smallint", "tinyint"):
        return (lambda k: _mask(int(k))), str
    if raw == "bigint":
        return (lambda k: _long_hash(int(k))), str
    if raw == "boolean":
        return (lambda k: 1231 if k == "true" else 1237), str
    if raw in ("double", "real"):
        return (lambda k: _double_hash(float(k))), (lambda k: java_double(float(k)))
    return None


def _hash_map_order(
    items: list[tuple[str, Any]], hash_of: Callable[[str], int]
) -> list[tuple[str, Any]]:
    """The iteration order of a ``java.util.HashMap`` built with ``new HashMap<>(n)``.

    QueryResourceUtil.parseToJson puts the entries in such a map; it iterates by bucket
    (``(h ^ h >>> 16) & (capacity - 1)``), entries of one bucket in insertion order.
    """
    n = len(items)
    capacity = 1
    while capacity < n:
        capacity <<= 1
    while n > int(capacity * 0.75):
        capacity <<= 1

    def bucket(item: tuple[str, Any]) -> int:
        h = hash_of(item[0])
        return (h ^ (h >> 16)) & (capacity - 1)

    return sorted(items, key=bucket)  # sorted() is stable: ties keep insertion order


def _converter(sig: dict[str, Any], nested: bool) -> Converter | None:
    """What turns a Trino-encoded value of this type into PrestoDB's; None: nothing to do."""
    raw = sig["rawType"]
    args = sig.get("arguments") or []
    if raw == "time with time zone":
        return _time_tz
    if not nested or raw not in ("array", "map", "row"):
        return None
    children = [
        a["value"] if a.get("kind") == "TYPE" else a["value"]["typeSignature"] for a in args
    ]
    inner = [_converter(c, nested) for c in children]
    if raw == "array":
        element = inner[0]

        def array(v: Sequence[Any]) -> str:
            if element is None:
                return _pretty_list(v)
            return _pretty_list([None if x is None else element(x) for x in v])

        return array
    if raw == "row":

        def row(v: Sequence[Any]) -> str:
            return _pretty_list(
                [x if x is None or f is None else f(x) for f, x in zip(inner, v, strict=False)]
            )

        return row
    codec = _key_codec(children[0]["rawType"])
    value_of = inner[1]

    def mapping(v: dict[str, Any]) -> str:
        items = [(k, x if x is None or value_of is None else value_of(x)) for k, x in v.items()]
        if codec is not None:
            hash_of, text_of = codec
            items = [(text_of(k), x) for k, x in _hash_map_order(items, hash_of)]
        return _pretty_object(items)

    return mapping


def _time_tz(v: str) -> str:
    # SqlTimeWithTimeZone formats "HH:mm:ss.SSS VV": the zone id after a space. An offset
    # zone's id is the offset itself, and a zero offset is TimeZoneKey.UTC_KEY ("UTC").
    clock, offset = v[:-6], v[-6:]
    return f"{clock} {'UTC' if offset in ('+00:00', '-00:00') else offset}"


class PrestoColumn:
    """A result column as PrestoDB describes it (``com.facebook.presto.client.Column``)."""

    def __init__(self, name: str, type_signature: dict[str, Any]) -> None:
        self.name = name
        self.type = presto_type(type_signature)
        self.type_signature = presto_signature(type_signature)


class PrestoResult:
    """An engine result seen through PrestoDB's wire: its columns and rows adapted.

    Every other attribute (update type and count, session changes, warnings, ``close``) is the
    engine result's own.
    """

    def __init__(self, result: Any, *, nested_as_text: bool = True) -> None:
        self._result = result
        columns = list(getattr(result, "columns", None) or [])
        if not columns:
            # Query.getNextResult: "for queries with no output, return a fake result for
            # clients that require it", a boolean column named result holding true.
            self.columns = [PrestoColumn("result", {"rawType": "boolean", "arguments": []})]
            self.rows: Iterator[list[Any]] = iter([[True]])
            return
        self.columns = [PrestoColumn(c.name, c.type_signature) for c in columns]
        converters = [
            (i, _converter(c.type_signature, nested_as_text)) for i, c in enumerate(columns)
        ]
        active = [(i, f) for i, f in converters if f is not None]
        rows = iter(getattr(result, "rows", None) or ())
        self.rows = rows if not active else self._convert(rows, active)

    @staticmethod
    def _convert(
        rows: Iterator[list[Any]], active: list[tuple[int, Converter]]
    ) -> Iterator[list[Any]]:
        for row in rows:
            out = list(row)
            for i, f in active:
                v = out[i]
                if v is not None:
                    out[i] = f(v)
            yield out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)
