"""Result types of Trino functions whose type DuckDB cannot report (lengths, sketches)."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from prestoha.testing.coordinator.sql.sketches import SKETCH_RESULTS
from prestoha.testing.coordinator.sql.types import TrinoType, parse_type

__all__ = ["function_type"]

Hint = Callable[[exp.Expression], "TrinoType | None"]

_SAME_LENGTH = (exp.Upper, exp.Lower, exp.Trim, exp.Reverse, exp.Substring)
"""io.trino.operator.scalar.StringFunctions: upper, lower, trim, reverse and substr of a
varchar(x) return varchar(x)."""


def _bounded(t: TrinoType | None) -> int | None:
    if t is not None and t.base == "varchar" and t.params:
        return t.params[0]
    return None


def function_type(node: exp.Expression, hint: Hint) -> TrinoType | None:
    """The Trino type of a function call node, given the hints of its arguments."""
    if isinstance(node, _SAME_LENGTH):
        length = _bounded(hint(node.this))
        return None if length is None else TrinoType("varchar", (length,))
    if isinstance(node, (exp.DPipe, exp.Concat)):
        # ConcatFunction / the || operator: varchar(x) || varchar(y) is varchar(x + y).
        parts = [node.this, node.expression] if isinstance(node, exp.DPipe) else node.expressions
        lengths = [_bounded(hint(p)) for p in parts]
        if any(n is None for n in lengths):
            return None
        total = sum(n for n in lengths if n is not None)
        return TrinoType("varchar", (total,)) if total < 2147483647 else TrinoType("varchar")
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name in SKETCH_RESULTS:
            return parse_type(SKETCH_RESULTS[name])
        if name == "qdigest_agg" and node.expressions:
            # qdigest_agg(x) is qdigest(T) for the type T of x (QuantileDigestAggregationFunction).
            element = hint(node.expressions[0])
            return TrinoType("qdigest", (), (element or TrinoType("bigint"),))
    return None
