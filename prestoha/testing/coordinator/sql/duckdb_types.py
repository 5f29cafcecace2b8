"""DuckDB storage types for Trino types, and Trino types for DuckDB result types."""

from __future__ import annotations

from typing import Any

from prestoha.testing.coordinator.sql.types import TrinoType

__all__ = ["from_duckdb", "is_mapped", "to_duckdb"]

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
