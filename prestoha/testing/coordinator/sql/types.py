"""Trino types: parsing, display strings, ``typeSignature`` JSON and the DuckDB mapping.

A :class:`TrinoType` is what the emulator reports to clients. DuckDB holds the data; the
mapping between the two type systems is in :mod:`prestoha.testing.coordinator.sql.duckdb_types`.
Details DuckDB does not keep (``varchar(n)``, ``char(n)``, datetime precision, the two interval
kinds, anonymous row fields) come from the catalog metadata or the query text and are merged in
with :func:`merge`. Value encoding lives in :mod:`prestoha.testing.coordinator.sql.values`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "UNBOUNDED_VARCHAR",
    "TrinoType",
    "TypeParseError",
    "insertable",
    "NULL_LITERAL",
    "merge",
    "parse_type",
]

UNBOUNDED_VARCHAR = 2147483647

_SIMPLE = {
    "boolean",
    "tinyint",
    "smallint",
    "integer",
    "bigint",
    "real",
    "double",
    "varbinary",
    "json",
    "date",
    "uuid",
    "unknown",
    "ipaddress",
    "interval day to second",
    "interval year to month",
}
SKETCHES = {
    "hyperloglog": "HyperLogLog",
    "p4hyperloglog": "P4HyperLogLog",
    "setdigest": "SetDigest",
}
"""Sketch types by lower-case name: their ``rawType`` is spelled as Trino spells it
(io.trino.spi.type.StandardTypes.HYPER_LOG_LOG, P4_HYPER_LOG_LOG; SetDigestType.NAME)."""
_ALIASES = {"int": "integer", "float": "real", "double precision": "double", "string": "varchar"}
_DATETIME = {"time", "timestamp", "time with time zone", "timestamp with time zone"}
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class TypeParseError(ValueError):
    """A type name that is not a Trino type."""


@dataclass(frozen=True)
class TrinoType:
    """One Trino type.

    ``base`` is Trino's raw type name (``"timestamp with time zone"``); ``params`` the numeric
    arguments (length, precision, scale); ``children`` the element/key/value/field types;
    ``field_names`` the row field names (``None`` for an anonymous field).
    """

    base: str
    params: tuple[int, ...] = ()
    children: tuple[TrinoType, ...] = ()
    field_names: tuple[str | None, ...] = ()
    zone: str | None = field(default=None, compare=False)
    """The zone a ``timestamp with time zone`` result is shown in, when the query text names
    it (a literal's zone, ``AT TIME ZONE``); ``None`` means the session zone. Not part of
    the type's identity: Trino keeps the zone in each value (see :mod:`.temporal`)."""

    @property
    def precision(self) -> int:
        """Datetime precision (3 when absent, as Trino assumes)."""
        return self.params[0] if self.params else 3

    def display(self, parametric_datetime: bool = True) -> str:
        """The type as Trino prints it in ``columns[].type``: ``varchar(3)``, ``row(a integer)``."""
        b = self.base
        if b == "varchar":
            return f"varchar({self.params[0]})" if self.params else "varchar"
        if b == "char":
            return f"char({self.params[0] if self.params else 1})"
        if b == "decimal":
            return f"decimal({self.params[0]},{self.params[1]})"
        if b in _DATETIME:
            if not parametric_datetime:
                return b
            head, _, tail = b.partition(" ")
            return f"{head}({self.precision})" + (f" {tail}" if tail else "")
        if b in ("array", "qdigest"):
            return f"{b}({self.children[0].display(parametric_datetime)})"
        if b == "map":
            k, v = (c.display(parametric_datetime) for c in self.children)
            return f"map({k}, {v})"
        if b == "row":
            parts = []
            for name, child in zip(self.field_names, self.children, strict=True):
                shown = child.display(parametric_datetime)
                parts.append(shown if name is None else f"{_quote_field(name)} {shown}")
            return f"row({', '.join(parts)})"
        return b

    def signature(self, parametric_datetime: bool = True) -> dict[str, Any]:
        """The exact ``typeSignature`` JSON object Trino sends for this type."""
        b = self.base
        args: list[dict[str, Any]] = []
        if b == "varchar":
            args = [_long(self.params[0] if self.params else UNBOUNDED_VARCHAR)]
        elif b == "char":
            args = [_long(self.params[0] if self.params else 1)]
        elif b == "decimal":
            args = [_long(self.params[0]), _long(self.params[1])]
        elif b in _DATETIME:
            args = [_long(self.precision)] if parametric_datetime else []
        elif b in ("array", "map", "qdigest"):
            args = [
                {"kind": "TYPE", "value": c.signature(parametric_datetime)} for c in self.children
            ]
        elif b == "row":
            for name, child in zip(self.field_names, self.children, strict=True):
                value: dict[str, Any] = {"typeSignature": child.signature(parametric_datetime)}
                if name is not None:
                    value = {"fieldName": {"name": name}, **value}
                args.append({"kind": "NAMED_TYPE", "value": value})
        return {"rawType": b, "arguments": args}

    def __str__(self) -> str:
        return self.display()


def _long(value: int) -> dict[str, Any]:
    return {"kind": "LONG", "value": value}


def _quote_field(name: str) -> str:
    return name if _IDENT.match(name) else '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------------------------
# Parsing Trino type text

_TOKEN = re.compile(
    r'\s*(?:(?P<num>\d+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|"(?P<q>(?:[^"]|"")*)"|(?P<p>[(),]))'
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise TypeParseError(f"Unknown type: {text}")
        pos = m.end()
        if m.group("num") is not None:
            out.append(("num", m.group("num")))
        elif m.group("word") is not None:
            out.append(("word", m.group("word").lower()))
        elif m.group("q") is not None:
            out.append(("quoted", m.group("q").replace('""', '"')))
        else:
            out.append(("p", m.group("p")))
    return out


_TWO_WORD_TYPES = {
    (("word", "interval"), ("word", "day")),
    (("word", "interval"), ("word", "year")),
    (("word", "double"), ("word", "precision")),
}
"""Anonymous row fields whose type is two words: the first is not a field name."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str] | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise TypeParseError(f"Unknown type: {self.text}")
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        if self.take()[1] != value:
            raise TypeParseError(f"Unknown type: {self.text}")

    def words(self, *seq: str) -> bool:
        for k, w in enumerate(seq):
            tok = self.peek(k)
            if tok is None or tok != ("word", w):
                return False
        self.i += len(seq)
        return True

    def numbers(self) -> tuple[int, ...]:
        if self.peek() != ("p", "("):
            return ()
        self.take()
        nums = [int(self.take_kind("num"))]
        while self.peek() == ("p", ","):
            self.take()
            nums.append(int(self.take_kind("num")))
        self.expect(")")
        return tuple(nums)

    def take_kind(self, kind: str) -> str:
        tok = self.take()
        if tok[0] != kind:
            raise TypeParseError(f"Unknown type: {self.text}")
        return tok[1]

    def parse(self) -> TrinoType:
        kind, word = self.take()
        if kind != "word":
            raise TypeParseError(f"Unknown type: {self.text}")
        if word == "double" and self.words("precision"):
            return TrinoType("double")
        if word == "interval":
            if self.words("day", "to", "second"):
                return TrinoType("interval day to second")
            if self.words("year", "to", "month"):
                return TrinoType("interval year to month")
            raise TypeParseError(f"Unknown type: {self.text}")
        word = _ALIASES.get(word, word)
        if word in ("time", "timestamp"):
            params = self.numbers()
            if self.words("with", "time", "zone"):
                word += " with time zone"
            else:
                self.words("without", "time", "zone")
            return TrinoType(word, params[:1] or (3,))
        if word in ("varchar", "char"):
            params = self.numbers()
            if word == "char" and not params:
                params = (1,)
            if word == "varchar" and params == (UNBOUNDED_VARCHAR,):
                params = ()
            return TrinoType(word, params[:1])
        if word in ("decimal", "numeric"):
            params = self.numbers() or (38, 0)
            if len(params) == 1:
                params = (params[0], 0)
            if not 1 <= params[0] <= 38 or not 0 <= params[1] <= params[0]:
                raise TypeParseError(f"Invalid decimal type: {self.text}")
            return TrinoType("decimal", params[:2])
        if word in ("array", "map", "row"):
            return self.nested(word)
        if word in SKETCHES:
            return TrinoType(SKETCHES[word])
        if word == "tdigest":
            return TrinoType("tdigest")
        if word == "qdigest":
            # qdigest(T) takes the type of its values (io.trino.spi.type.QuantileDigestType).
            self.expect("(")
            element = self.parse()
            self.expect(")")
            return TrinoType("qdigest", (), (element,))
        if word in _SIMPLE:
            return TrinoType(word)
        raise TypeParseError(f"Unknown type: {self.text}")

    def nested(self, word: str) -> TrinoType:
        self.expect("(")
        children: list[TrinoType] = []
        names: list[str | None] = []
        while True:
            name: str | None = None
            tok, nxt = self.peek(), self.peek(1)
            if (
                word == "row"
                and tok is not None
                and nxt is not None
                and (tok[0] == "quoted" or (tok[0] == "word" and nxt[0] in ("word", "quoted")))
                and (tok, nxt) not in _TWO_WORD_TYPES
            ):
                name = self.take()[1]
            names.append(name)
            children.append(self.parse())
            if self.peek() == ("p", ","):
                self.take()
                continue
            self.expect(")")
            break
        if word == "array" and len(children) == 1:
            return TrinoType("array", (), (children[0],))
        if word == "map" and len(children) == 2:
            return TrinoType("map", (), tuple(children))
        if word == "row":
            return TrinoType("row", (), tuple(children), tuple(names))
        raise TypeParseError(f"Unknown type: {self.text}")


def parse_type(text: str) -> TrinoType:
    """Parse a Trino type name such as ``decimal(10, 2)`` or ``row(a int, b array(varchar))``.

    Raises :class:`TypeParseError` for anything that is not a Trino type.
    """
    parser = _Parser(text)
    result = parser.parse()
    if parser.peek() is not None:
        raise TypeParseError(f"Unknown type: {text}")
    return result


_FAMILY = {
    "varchar": "text",
    "char": "text",
    "json": "text",
    "ipaddress": "text",
    "interval day to second": "interval",
    "interval year to month": "interval",
}
_BINARY = {"HyperLogLog", "P4HyperLogLog", "SetDigest", "tdigest", "qdigest"}
"""Types DuckDB stores as BLOB: Trino serializes each to bytes and sends them base64."""


NULL_LITERAL = TrinoType("unknown")
"""The hint of a bare ``NULL``: Trino types it ``unknown`` (io.trino.type.UnknownType), DuckDB
1.5 ``INTEGER``, so this exact object (compared by identity) overrides what DuckDB says."""


def merge(hint: TrinoType | None, actual: TrinoType) -> TrinoType:
    """Prefer the declared type ``hint`` where it describes the same storage as ``actual``."""
    if hint is None:
        return actual
    if hint is NULL_LITERAL:
        return hint
    if hint.base == "unknown" or actual.base == "unknown":
        return hint if actual.base == "unknown" else actual
    if hint.base in _BINARY:
        return hint if actual.base == "varbinary" else actual
    if _FAMILY.get(hint.base, hint.base) != _FAMILY.get(actual.base, actual.base):
        return actual
    if hint.base == "json" and actual.base != "json":
        return actual
    if actual.base == "decimal" and hint.params != actual.params:
        return actual
    if len(hint.children) != len(actual.children):
        return actual
    if actual.children:
        kids = tuple(merge(h, a) for h, a in zip(hint.children, actual.children, strict=True))
        return TrinoType(hint.base, hint.params, kids, hint.field_names)
    return hint


_WIDENING = ["tinyint", "smallint", "integer", "bigint", "real", "double"]
_INTEGER_DIGITS = {"tinyint": 3, "smallint": 5, "integer": 10, "bigint": 19}
_TEXT = {"varchar", "char"}
_DATETIME_FAMILY = {"timestamp", "timestamp with time zone"}


def insertable(query: TrinoType, table: TrinoType) -> bool:
    """Whether Trino's INSERT accepts a value of type ``query`` into a column of ``table``.

    Implicit coercions only: numbers widen (never narrow), a date becomes a timestamp, text and
    datetime precisions may differ, NULL goes anywhere; nested types compare element-wise.
    """
    q, t = query.base, table.base
    if q == "unknown":
        return True
    if q in _TEXT and t in _TEXT:
        return True
    if q in _WIDENING and t in _WIDENING:
        return _WIDENING.index(q) <= _WIDENING.index(t)
    if q in _INTEGER_DIGITS and t == "decimal":
        return table.params[0] - table.params[1] >= _INTEGER_DIGITS[q]
    if q == "decimal" and t == "decimal":
        return True
    if q == "decimal" and t in ("real", "double"):
        return True
    if q in _DATETIME_FAMILY and t in _DATETIME_FAMILY:
        return True
    if q == "date" and t in _DATETIME_FAMILY:
        return True
    if q in ("time", "time with time zone") and t == q:
        return True
    if q != t:
        return False
    if q in ("array", "map", "row"):
        if len(query.children) != len(table.children):
            return False
        return all(insertable(a, b) for a, b in zip(query.children, table.children, strict=True))
    return True
