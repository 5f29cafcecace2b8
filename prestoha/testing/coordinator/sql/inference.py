"""Trino result types that DuckDB cannot report, read off the query text.

DuckDB says ``VARCHAR`` where Trino says ``varchar(25)``, ``TIMESTAMP`` where Trino says
``timestamp(6)``, ``INTERVAL`` for both interval kinds. For each output column of a query this
module finds what Trino would know: the declared column type when the column comes straight
from a table, the target of a ``CAST``, the type of a literal. The engine merges these hints
with DuckDB's types (``types.merge``), so a wrong hint can never change the storage type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from prestoha.testing.coordinator.sql.catalogs import ColumnInfo
from prestoha.testing.coordinator.sql.function_types import function_type
from prestoha.testing.coordinator.sql.temporal import temporal_hint
from prestoha.testing.coordinator.sql.types import (
    NULL_LITERAL,
    TrinoType,
    TypeParseError,
    parse_type,
)

__all__ = [
    "Star",
    "align",
    "decimal_literal_type",
    "decimal_text_type",
    "expression_hint",
    "output_hints",
]

Named = tuple[str | None, TrinoType | None]


@dataclass
class Star:
    """Output columns from ``*``: their hints when the sources are known, else ``None``."""

    columns: list[Named] | None


Item = TrinoType | None | Star


def output_hints(tree: exp.Expression, table_columns: dict[int, list[ColumnInfo]]) -> list[Item]:
    """One item per select-list entry of the outermost query."""
    finder = _Finder(table_columns, _ctes(tree))
    return finder.items(tree)


def align(items: list[Item], width: int) -> list[TrinoType | None]:
    """Spread the items over ``width`` actual output columns."""
    flat: list[TrinoType | None] = []
    for item in items:
        if isinstance(item, Star):
            if item.columns is None:
                return _align_unknown(items, width)
            flat.extend(t for _, t in item.columns)
        else:
            flat.append(item)
    return flat if len(flat) == width else _align_unknown(items, width)


def _align_unknown(items: list[Item], width: int) -> list[TrinoType | None]:
    out: list[TrinoType | None] = [None] * width
    for i, item in enumerate(items):
        if isinstance(item, Star) or i >= width:
            break
        out[i] = item
    for k, item in enumerate(reversed(items)):
        if isinstance(item, Star) or k >= width:
            break
        out[width - 1 - k] = item
    return out


def _ctes(tree: exp.Expression) -> dict[str, exp.Expression]:
    return {cte.alias_or_name: cte.this for cte in tree.find_all(exp.CTE)}


_DECIMAL_TEXT = re.compile(r"^\s*[+-]?(\d*)(?:\.(\d*))?\s*$")


def decimal_literal_type(node: exp.Expression) -> TrinoType | None:
    """Type of ``DECIMAL '12.30'`` (parsed as a cast to plain DECIMAL): ``decimal(4,2)``."""
    if not (isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal)):
        return None
    if not node.this.is_string or node.to.this != exp.DataType.Type.DECIMAL or node.to.expressions:
        return None
    return decimal_text_type(node.this.this)


def decimal_text_type(text: str) -> TrinoType | None:
    """Type of a decimal's text as io.trino.spi.type.Decimals.parse gives it: leading zeros
    do not count, so ``0.1`` is ``decimal(1,1)``; ``None`` beyond 38 digits."""
    m = _DECIMAL_TEXT.match(text.replace("_", ""))
    if m is None or not (m.group(1) or m.group(2)):
        return None
    whole = m.group(1).lstrip("0")
    scale = len(m.group(2) or "")
    precision = max(len(whole) + scale, 1)
    return TrinoType("decimal", (precision, scale)) if precision <= 38 else None


def expression_hint(node: exp.Expression) -> TrinoType | None:
    """The Trino type of an expression as far as its text tells (no table columns)."""
    return _Finder({}, {}).hint(node, {})


def _literal_type(node: exp.Expression) -> TrinoType | None:
    if isinstance(node, exp.Null):
        return NULL_LITERAL
    if isinstance(node, exp.Literal) and node.is_string:
        return TrinoType("varchar", (len(node.this),))
    if isinstance(node, exp.Interval):
        unit = node.args.get("unit")
        first = unit.this if isinstance(unit, exp.IntervalSpan) else unit
        name = first.name.upper() if isinstance(first, exp.Expression) else ""
        if name in ("YEAR", "MONTH", "YEARS", "MONTHS"):
            return TrinoType("interval year to month")
        return TrinoType("interval day to second")
    return None


class _Finder:
    def __init__(self, table_columns: dict[int, list[ColumnInfo]], ctes: dict[str, exp.Expression]):
        self.table_columns = table_columns
        self.ctes = ctes
        self.depth = 0

    def items(self, tree: exp.Expression) -> list[Item]:
        query = tree
        while isinstance(query, (exp.Subquery, exp.Paren)):
            query = query.this
        if isinstance(query, exp.SetOperation):
            # The first branch names the columns; a bare NULL there takes the other's type.
            left, right = self.items(query.this), self.items(query.expression)
            if len(left) != len(right):
                return left
            return [r if lt is NULL_LITERAL else lt for lt, r in zip(left, right, strict=True)]
        if isinstance(query, exp.Values):
            return list(self.values(query))
        if not isinstance(query, exp.Select):
            return []
        sources = self.sources(query)
        out: list[Item] = []
        for e in query.expressions:
            if isinstance(e, exp.Star):
                out.append(Star(self.expand(sources, None)))
            elif isinstance(e, exp.Column) and isinstance(e.this, exp.Star):
                out.append(Star(self.expand(sources, e.table)))
            else:
                out.append(self.hint(e, sources))
        return out

    def named(self, tree: exp.Expression) -> list[Named] | None:
        """Output (name, hint) pairs of a subquery, or None when its shape is unknown."""
        self.depth += 1
        try:
            if self.depth > 20:
                return None
            query = tree
            while isinstance(query, (exp.Subquery, exp.Paren)):
                query = query.this
            if isinstance(query, exp.SetOperation):
                return self.named(query.this)
            if not isinstance(query, exp.Select):
                return None
            sources = self.sources(query)
            out: list[Named] = []
            for e in query.expressions:
                if isinstance(e, exp.Star) or (
                    isinstance(e, exp.Column) and isinstance(e.this, exp.Star)
                ):
                    expanded = self.expand(sources, e.table if isinstance(e, exp.Column) else None)
                    if expanded is None:
                        return None
                    out.extend(expanded)
                else:
                    out.append((e.alias_or_name or None, self.hint(e, sources)))
            return out
        finally:
            self.depth -= 1

    def sources(self, select: exp.Select) -> dict[str, list[Named] | None]:
        found: dict[str, list[Named] | None] = {}
        from_ = select.args.get("from_") or select.args.get("from")
        nodes = [from_.this] if isinstance(from_, exp.From) else []
        nodes += [j.this for j in select.args.get("joins") or []]
        for node in nodes:
            if isinstance(node, exp.Table):
                cols = self.table_columns.get(id(node))
                named: list[Named] | None
                if cols is not None:
                    named = [(c.name, c.type) for c in cols]
                elif node.name in self.ctes and not node.args.get("db"):
                    named = self.named(self.ctes[node.name])
                else:
                    named = None
                found[node.alias_or_name] = named
            elif isinstance(node, exp.Subquery):
                found[node.alias_or_name] = self.named(node.this)
            elif isinstance(node, exp.Values):
                alias = node.args.get("alias")
                columns = [c.name for c in alias.columns] if alias else []
                hints = self.values(node)
                if len(columns) == len(hints):
                    found[node.alias_or_name] = list(zip(columns, hints, strict=True))
                else:
                    found[node.alias_or_name or f"__{len(found)}"] = None
            else:
                found[node.alias_or_name or f"__{len(found)}"] = None
        return found

    def expand(
        self, sources: dict[str, list[Named] | None], table: str | None
    ) -> list[Named] | None:
        out: list[Named] = []
        for name, cols in sources.items():
            if table and name != table:
                continue
            if cols is None:
                return None
            out.extend(cols)
        return out

    def values(self, node: exp.Values) -> list[TrinoType | None]:
        """Column hints of a VALUES list: the common type of each column's literals."""
        rows = [r.expressions if isinstance(r, exp.Tuple) else [r] for r in node.expressions]
        width = len(rows[0]) if rows else 0
        if any(len(r) != width for r in rows):
            return []
        out: list[TrinoType | None] = []
        for i in range(width):
            column = [self.hint(r[i], {}) for r in rows]
            common = _common(column)
            out.append(None if common is _UNKNOWN else common)
        return out

    def hint(
        self, node: exp.Expression, sources: dict[str, list[Named] | None]
    ) -> TrinoType | None:
        while isinstance(node, (exp.Alias, exp.Paren)):
            node = node.this
        temporal = temporal_hint(node, lambda e: self.hint(e, sources))
        if temporal is not None:
            return temporal
        if isinstance(node, (exp.Cast, exp.TryCast)):
            literal = decimal_literal_type(node)
            if literal is not None:
                return literal
            try:
                return parse_type(node.to.sql(dialect="trino"))
            except (TypeParseError, ValueError):
                return None
        if isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
            for name, cols in sources.items():
                if node.table and name != node.table:
                    continue
                for col_name, col_type in cols or []:
                    if col_name == node.name:
                        return col_type
            return None
        if isinstance(node, exp.Struct) and not any(
            isinstance(e, (exp.PropertyEQ, exp.Alias)) for e in node.expressions
        ):
            kids = tuple(self.hint(e, sources) or _UNKNOWN for e in node.expressions)
            return TrinoType("row", (), kids, (None,) * len(kids))
        if isinstance(node, exp.Map):
            keys = self.hint(node.args["keys"], sources) if node.args.get("keys") else None
            values = self.hint(node.args["values"], sources) if node.args.get("values") else None
            if keys is not None and values is not None and keys.base == values.base == "array":
                return TrinoType("map", (), (keys.children[0], values.children[0]))
            return None
        if isinstance(node, exp.Array):
            # Trino types ARRAY[] as array(unknown), like ARRAY[NULL].
            elements = [self.hint(e, sources) for e in node.expressions] or [NULL_LITERAL]
            return TrinoType("array", (), (_common(elements),))
        if (called := function_type(node, lambda e: self.hint(e, sources))) is not None:
            return called
        return _literal_type(node)


_UNKNOWN = TrinoType("unknown")


def _common(hints: list[TrinoType | None]) -> TrinoType:
    """The element type of an array built from values with these hints."""
    known = [h for h in hints if h is not NULL_LITERAL]
    if hints and not known:
        return NULL_LITERAL
    hints = known
    if hints and all(h is not None and h.base == "varchar" and h.params for h in hints):
        return TrinoType("varchar", (max(h.params[0] for h in hints if h is not None),))
    first = hints[0] if hints else None
    if first is not None and all(h == first for h in hints):
        return first
    return _UNKNOWN
