"""Trino's sketch types on DuckDB: HyperLogLog, P4HyperLogLog, SetDigest, tdigest, qdigest.

Trino serializes each sketch to bytes (airlift's HyperLogLog, QuantileDigest, TDigest; the
SetDigest of io.trino.type.setdigest) and sends it base64 like a varbinary, under its own type
name. DuckDB has no such aggregates, so the emulator keeps an exact sketch in a BLOB: the
sorted distinct 64-bit hashes for the set sketches, the sorted values for the digests. Type
names, casts, ``cardinality``, ``merge`` and ``value_at_quantile`` behave as in Trino for the
small inputs tests use; the bytes are not Trino's (a known difference).
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Callable
from typing import Any

from sqlglot import exp

__all__ = ["SKETCH_RESULTS", "is_sketch", "register", "rewrite_sketch"]

_SET_TAG = b"\x02"
_DIGEST_TAG = b"\x03"
_HASH = struct.Struct("<Q")
_VALUE = struct.Struct("<d")

SKETCH_RESULTS = {
    "approx_set": "HyperLogLog",
    "empty_approx_set": "HyperLogLog",
    "merge": "HyperLogLog",
    "make_set_digest": "SetDigest",
    "merge_set_digest": "SetDigest",
    "tdigest_agg": "tdigest",
}
"""Trino result types of the sketch functions (io.trino.operator.aggregation.*, setdigest)."""


def _pack_set(found: set[int]) -> bytes:
    return _SET_TAG + b"".join(_HASH.pack(h) for h in sorted(found))


def _pack_texts(texts: list[str | None] | None) -> bytes | None:
    # NULLs are not counted; no value at all gives NULL (ApproximateSetAggregation).
    found = {_hash(t) for t in texts or () if t is not None}
    return _pack_set(found) if found else None


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _hashes(blob: bytes) -> set[int]:
    return {_HASH.unpack_from(blob, k)[0] for k in range(1, len(blob), _HASH.size)}


def _merge(blobs: list[bytes | None] | None) -> bytes | None:
    found: set[int] = set()
    for blob in blobs or ():
        if blob is not None:
            found |= _hashes(blob)
    return _pack_set(found) if found else None


def _cardinality(blob: bytes) -> int:
    return (len(blob) - 1) // _HASH.size


def _pack_values(values: list[float | None] | None) -> bytes | None:
    found = sorted(v for v in values or () if v is not None and v == v)
    if not found:
        return None
    return _DIGEST_TAG + b"".join(_VALUE.pack(v) for v in found)


def _quantile(blob: bytes, q: float) -> float:
    values = [_VALUE.unpack_from(blob, k)[0] for k in range(1, len(blob), _VALUE.size)]
    index = min(max(math.ceil(q * len(values)) - 1, 0), len(values) - 1)
    return float(values[index])


def register(con: Any) -> None:
    """Create the sketch functions on a DuckDB connection."""
    special = {"null_handling": "special"}  # they return NULL for no values
    con.create_function("__prestoha_set_pack", _pack_texts, ["VARCHAR[]"], "BLOB", **special)
    con.create_function("__prestoha_set_merge", _merge, ["BLOB[]"], "BLOB", **special)
    con.create_function("__prestoha_set_cardinality", _cardinality, ["BLOB"], "BIGINT")
    con.create_function("__prestoha_digest_pack", _pack_values, ["DOUBLE[]"], "BLOB", **special)
    con.create_function("__prestoha_digest_quantile", _quantile, ["BLOB", "DOUBLE"], "DOUBLE")


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _text_list(value: exp.Expression) -> exp.Expression:
    return _call("list", exp.Cast(this=value, to=exp.DataType.build("VARCHAR")))


def _double_list(value: exp.Expression) -> exp.Expression:
    return _call("list", exp.Cast(this=value, to=exp.DataType.build("DOUBLE")))


_AGGREGATES: dict[str, Callable[[list[exp.Expression]], exp.Expression]] = {
    "approx_set": lambda a: _call("__prestoha_set_pack", _text_list(a[0])),
    "make_set_digest": lambda a: _call("__prestoha_set_pack", _text_list(a[0])),
    "merge": lambda a: _call("__prestoha_set_merge", _call("list", a[0])),
    "merge_set_digest": lambda a: _call("__prestoha_set_merge", _call("list", a[0])),
    "tdigest_agg": lambda a: _call("__prestoha_digest_pack", _double_list(a[0])),
    "qdigest_agg": lambda a: _call("__prestoha_digest_pack", _double_list(a[0])),
}


def is_sketch(node: exp.Expression) -> bool:
    """Whether ``node`` syntactically yields a set sketch (for ``cardinality``)."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower() in SKETCH_RESULTS
    if isinstance(node, exp.Cast):
        to = node.to
        return to.this == exp.DataType.Type.HLLSKETCH or (
            to.this == exp.DataType.Type.USERDEFINED
            and str(to.args.get("kind", "")).lower() in ("p4hyperloglog", "setdigest")
        )
    return False


def rewrite_sketch(node: exp.Expr) -> exp.Expression | None:
    """The DuckDB expression for a sketch function call, or ``None``."""
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        args = list(node.expressions)
        if name == "empty_approx_set" and not args:
            # An empty HLL is a value, not NULL (ApproximateSetAggregation, EmptyApproxSet...).
            return exp.Cast(this=exp.Literal.string("\\x02"), to=exp.DataType.build("BLOB"))
        if name in _AGGREGATES and len(args) >= 1:
            return _AGGREGATES[name](args)
        if name == "value_at_quantile" and len(args) == 2:
            return _call("__prestoha_digest_quantile", args[0], args[1])
    if isinstance(node, exp.ArraySize) and is_sketch(node.this):
        return _call("__prestoha_set_cardinality", node.this)
    return None
