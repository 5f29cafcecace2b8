"""DuckDB storage types for Trino types, and Trino types for DuckDB result types."""

from __future__ import annotations

import re
from typing import Any

from prestoha.testing.coordinator.sql.types import TrinoType

__all__ = ["from_duckdb", "from_duckdb_text", "is_mapped", "to_duckdb"]

_TO_DUCK = {
    "boolean": "BOOLEAN",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "real": "FLOAT",
    "double": "DOUBLE",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "varbinary": "BLOB",
    "json": "JSON",
    "date": "DATE",
    "uuid": "UUID",
    "ipaddress": "VARCHAR",
    "unknown": "INTEGER",
    "time": "TIME",
    "time with time zone": "TIMETZ",
    "timestamp with time zone": "TIMESTAMPTZ",
    "interval day to second": "INTERVAL",
    "interval year to month": "INTERVAL",
    "HyperLogLog": "BLOB",
    "P4HyperLogLog": "BLOB",
    "SetDigest": "BLOB",
    "tdigest": "BLOB",
    "qdigest": "BLOB",
}


def to_duckdb(t: TrinoType) -> str:
    """The DuckDB type that stores values of ``t``."""
    if t.base == "decimal":
        return f"DECIMAL({t.params[0]},{t.params[1]})"
    if t.base == "timestamp":
        return "TIMESTAMP_NS" if t.precision > 6 else "TIMESTAMP"
    if t.base == "array":
        return f"{to_duckdb(t.children[0])}[]"
    if t.base == "map":
        return f"MAP({to_duckdb(t.children[0])}, {to_duckdb(t.children[1])})"
    if t.base == "row":
        fields = []
        for i, (name, child) in enumerate(zip(t.field_names, t.children, strict=True)):
            label = name if name is not None else f"field{i}"
            fields.append('"' + label.replace('"', '""') + '" ' + to_duckdb(child))
        return f"STRUCT({', '.join(fields)})"
    return _TO_DUCK[t.base]


_FROM_DUCK_SIMPLE = {
    "boolean": TrinoType("boolean"),
    "tinyint": TrinoType("tinyint"),
    "smallint": TrinoType("smallint"),
    "integer": TrinoType("integer"),
    "bigint": TrinoType("bigint"),
    "hugeint": TrinoType("bigint"),
    "utinyint": TrinoType("smallint"),
    "usmallint": TrinoType("integer"),
    "uinteger": TrinoType("bigint"),
    "ubigint": TrinoType("decimal", (20, 0)),
    "uhugeint": TrinoType("decimal", (38, 0)),
    "float": TrinoType("real"),
    "double": TrinoType("double"),
    "varchar": TrinoType("varchar"),
    "blob": TrinoType("varbinary"),
    "bit": TrinoType("varchar"),
    "date": TrinoType("date"),
    "time": TrinoType("time", (3,)),
    "time_ns": TrinoType("time", (9,)),
    "time with time zone": TrinoType("time with time zone", (3,)),
    "timestamp": TrinoType("timestamp", (3,)),
    "timestamp_s": TrinoType("timestamp", (0,)),
    "timestamp_ms": TrinoType("timestamp", (3,)),
    "timestamp_ns": TrinoType("timestamp", (9,)),
    "timestamp with time zone": TrinoType("timestamp with time zone", (3,)),
    "timestamptz_ns": TrinoType("timestamp with time zone", (9,)),
    "interval": TrinoType("interval day to second"),
    "uuid": TrinoType("uuid"),
    "enum": TrinoType("varchar"),
    "null": TrinoType("unknown"),
}


def is_mapped(duck_type: Any) -> bool:
    """Whether :func:`from_duckdb` knows the type (unknown ones are reported as ``varchar``)."""
    type_id = str(getattr(duck_type, "id", "")).lower()
    return type_id in _FROM_DUCK_SIMPLE or type_id in (
        "decimal", "list", "array", "map", "struct", "tuple"
    )  # fmt: skip


def from_duckdb(duck_type: Any) -> TrinoType:
    """Map a DuckDB result type (a ``DuckDBPyType``) to the Trino type reported by default."""
    type_id = str(getattr(duck_type, "id", "")).lower()
    if str(duck_type) == "JSON":
        return TrinoType("json")
    if type_id == "decimal":
        params = dict(duck_type.children)
        return TrinoType("decimal", (int(params["precision"]), int(params["scale"])))
    if type_id in ("list", "array"):
        return TrinoType("array", (), (from_duckdb(dict(duck_type.children)["child"]),))
    if type_id == "map":
        kids = dict(duck_type.children)
        return TrinoType("map", (), (from_duckdb(kids["key"]), from_duckdb(kids["value"])))
    if type_id in ("struct", "tuple"):
        names: list[str | None] = []
        kids_t: list[TrinoType] = []
        for name, child in duck_type.children:
            names.append(str(name) if name and type_id == "struct" else None)
            kids_t.append(from_duckdb(child))
        return TrinoType("row", (), tuple(kids_t), tuple(names))
    return _FROM_DUCK_SIMPLE.get(type_id, TrinoType("varchar"))


_TYPE_TOKEN = re.compile(r'\s*(?:"((?:[^"]|"")*)"|([A-Za-z_][A-Za-z0-9_]*)|(\d+)|([(),\[\]]))')
_TYPE_WORDS = {"timestamp", "time", "double"}  # first words of multi-word DuckDB type names


def from_duckdb_text(text: str) -> TrinoType:
    """The Trino type for DuckDB's ``typeof()`` text (``INTEGER[]``, ``STRUCT(INTEGER, a JSON)``).

    Unnamed structs have no ``DuckDBPyType`` spelling, so the text is read here.
    """
    tokens: list[tuple[str, str]] = []
    for m in _TYPE_TOKEN.finditer(text):
        quoted, word, number, punct = m.groups()
        if quoted is not None:
            tokens.append(("q", quoted.replace('""', '"')))
        elif word is not None:
            tokens.append(("w", word.lower()))
        elif number is not None:
            tokens.append(("n", number))
        else:
            tokens.append(("p", punct))
    result, _ = _read_duck(tokens, 0)
    return result


def _read_duck(tokens: list[tuple[str, str]], i: int) -> tuple[TrinoType, int]:
    kind, value = tokens[i]
    if kind == "q" and value == "NULL":
        t, i = TrinoType("unknown"), i + 1
    else:
        words = []
        while i < len(tokens) and tokens[i][0] == "w":
            words.append(tokens[i][1])
            i += 1
        name = " ".join(words)
        args: list[TrinoType] = []
        names: list[str | None] = []
        numbers: list[int] = []
        if i < len(tokens) and tokens[i] == ("p", "("):
            i += 1
            while tokens[i] != ("p", ")"):
                if tokens[i][0] == "n":
                    numbers.append(int(tokens[i][1]))
                    i += 1
                else:
                    field: str | None = None
                    nxt = tokens[i + 1] if i + 1 < len(tokens) else ("p", ")")
                    named = (tokens[i][0] == "q" and nxt[0] != "p") or (
                        tokens[i][0] == "w" and nxt[0] == "w" and tokens[i][1] not in _TYPE_WORDS
                    )
                    if name == "struct" and named:
                        field = tokens[i][1]
                        i += 1
                    child, i = _read_duck(tokens, i)
                    args.append(child)
                    names.append(field)
                if tokens[i] == ("p", ","):
                    i += 1
            i += 1
        if name == "decimal":
            t = TrinoType("decimal", (numbers[0], numbers[1]) if numbers else (18, 3))
        elif name == "struct":
            t = TrinoType("row", (), tuple(args), tuple(names))
        elif name == "map":
            t = TrinoType("map", (), tuple(args))
        elif name == "json":
            t = TrinoType("json")
        else:
            t = _FROM_DUCK_SIMPLE.get(name, TrinoType("varchar"))
    while i + 1 < len(tokens) and tokens[i] == ("p", "[") and tokens[i + 1] == ("p", "]"):
        t = TrinoType("array", (), (t,))
        i += 2
    return t, i
