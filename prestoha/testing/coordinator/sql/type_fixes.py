"""Rewrites that give Trino's types and values where DuckDB's differ.

:func:`fix_node` is called by the translator for every node of a Trino tree, before the other
semantic fixes, and returns the DuckDB replacement of the node or ``None``. Each rewrite keeps
the original child nodes (no copies), so the fixes still to come reach them.
"""

from __future__ import annotations

from sqlglot import exp

from prestoha.testing.coordinator.sql.errors import user_error
from prestoha.testing.coordinator.sql.inference import decimal_text_type, expression_hint
from prestoha.testing.coordinator.sql.scalars import (
    IPADDRESS_MACRO,
    JSON_PARSE_MACRO,
    TYPEOF_FUNCTION,
)
from prestoha.testing.coordinator.sql.sketches import rewrite_sketch
from prestoha.testing.coordinator.sql.types import SKETCHES

__all__ = ["fix_node", "is_floating"]

_T = exp.DataType.Type
_BIGINT_MAX = 2**63 - 1
_FLOATING_FUNCTIONS = {"nan", "infinity", "random", "rand", "sqrt", "ln", "log10", "log2", "exp"}
_FLOATING_TYPES = {_T.DOUBLE, _T.FLOAT}
_SKETCH_STORAGE = {_T.HLLSKETCH, _T.TDIGEST}


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def is_floating(node: exp.Expression) -> bool:
    """Whether ``node`` is a double or real by its syntax alone (no column types known)."""
    while isinstance(node, (exp.Paren, exp.Neg)):
        node = node.this
    if isinstance(node, exp.Literal):
        return not node.is_string and "e" in node.this.lower()
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return node.to.this in _FLOATING_TYPES
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
        return is_floating(node.this) or is_floating(node.expression)
    if isinstance(node, (exp.Anonymous, exp.Func)):
        name = str(node.this) if isinstance(node, exp.Anonymous) else node.sql_name()
        return name.lower() in _FLOATING_FUNCTIONS
    return False


def _decimal_literal(node: exp.Literal) -> exp.Expression | None:
    text = node.this
    if "e" in text.lower():
        return None  # 1.5E0 is a double literal
    if "." not in text:
        if text.replace("_", "").isdigit() and int(text.replace("_", "")) > _BIGINT_MAX:
            # io.trino.sql.tree.LongLiteral: an integer literal must fit a bigint.
            raise user_error("SYNTAX_ERROR", f"Invalid numeric literal: {text}")
        return None
    # io.trino.spi.type.Decimals.parse: 0.1 is decimal(1,1), 1.0 is decimal(2,1).
    literal = decimal_text_type(text)
    if literal is None:
        raise user_error("NUMERIC_VALUE_OUT_OF_RANGE", "Value exceeds maximum precision")
    to = exp.DataType.build(f"DECIMAL({literal.params[0]}, {literal.params[1]})")
    return exp.Cast(this=exp.Literal.string(text), to=to)


def _unique_fields(node: exp.DataType) -> None:
    """Rename repeated row field names for DuckDB, whose struct names must be unique.

    Trino allows ``row(x bigint, x bigint)`` (io.trino.spi.type.RowType); the result column
    keeps Trino's names through the type hint, which is read before this rewrite.
    """
    seen: set[str] = set()
    for k, field in enumerate(node.expressions):
        if not isinstance(field, exp.ColumnDef):
            continue
        name = field.name.lower()
        if name in seen:
            field.set("this", exp.to_identifier(f"{field.name}__{k + 1}", quoted=True))
        seen.add(name)


def _data_type(node: exp.DataType) -> exp.Expression | None:
    if node.this in _SKETCH_STORAGE:
        return exp.DataType.build("BLOB")
    if node.this == _T.IPADDRESS:
        return exp.DataType.build("VARCHAR")
    if node.this == _T.STRUCT:
        _unique_fields(node)
        return None
    if node.this == _T.USERDEFINED:
        kind = str(node.args.get("kind", ""))
        if kind.lower() in SKETCHES or kind.lower() == "qdigest":
            return exp.DataType.build("BLOB")
        raise user_error("TYPE_NOT_FOUND", f"Unknown type: {kind}")
    return None


def _cast(node: exp.Cast) -> exp.Expression | None:
    target = node.to.this
    if target == _T.JSON:
        if isinstance(node.this, exp.ParseJSON):
            return node.this
        # io.trino.operator.scalar.JsonOperators / the casts to JSON serialize the value: a
        # varchar becomes a JSON string, so CAST('[1]' AS json) is "[1]", not an array.
        return _call("to_json", node.this)
    if target == _T.IPADDRESS:
        text = exp.Cast(this=node.this, to=exp.DataType.build("VARCHAR"))
        return _call(IPADDRESS_MACRO, text)
    return None


def fix_node(node: exp.Expr) -> exp.Expression | None:
    """The DuckDB replacement of one Trino node, or ``None`` when it needs none here."""
    if isinstance(node, exp.Typeof):
        # Trino's typeof names the analyzed type; DuckDB's names its own storage type, which
        # the hint from the query text refines exactly as for result columns.
        hint = expression_hint(node.this)
        shown = exp.Literal.string("" if hint is None else hint.display())
        return _call(TYPEOF_FUNCTION, _call("typeof", node.this), shown)
    if isinstance(node, exp.Literal) and not node.is_string:
        return _decimal_literal(node)
    if isinstance(node, exp.DataType):
        return _data_type(node)
    if isinstance(node, exp.Cast) and not isinstance(node, exp.TryCast):
        return _cast(node)
    if isinstance(node, exp.ParseJSON):
        # json_parse and JSON '...' (JsonFunctions.jsonParse) parse the text.
        return _call(JSON_PARSE_MACRO, node.this)
    if isinstance(node, exp.Div) and (is_floating(node.this) or is_floating(node.expression)):
        # Double division follows IEEE 754 in Trino (DoubleOperators.divide): 1e0/0 is
        # Infinity, 0e0/0 NaN. DuckDB's / divides doubles but gives NULL for a zero divisor;
        # its fdiv (floor division) gives the IEEE answer there, and only there.
        divisor = node.expression
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0)),
                    true=_call("fdiv", node.this.copy(), divisor.copy()),
                )
            ],
            default=exp.Div(this=node.this, expression=divisor),
        )
    if isinstance(node, exp.Mod) and (is_floating(node.this) or is_floating(node.expression)):
        return _call("fmod", node.this, node.expression)
    return rewrite_sketch(node)
