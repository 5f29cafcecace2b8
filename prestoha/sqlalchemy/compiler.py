"""SQL, DDL and type compilers of the ``prestoha`` dialect: trino's, with these changes.

- ``CREATE TABLE`` carries the table's and the columns' comments (trino's dialect loses them).
- ``CREATE TABLE`` leaves out constraints Trino does not have (primary, foreign, unique and
  check keys), and index DDL compiles to nothing, quietly: models written for other
  databases (and SQLAlchemy's ORM, which needs primary keys) can be created as they are.
- ``Float()`` without a precision is ``DOUBLE``, as on most databases; ``Float(precision<=32)``
  and ``REAL`` stay ``REAL``.
- Bound values for ``REAL``, ``DECIMAL(p, s)`` and ``DATE`` columns are cast to the column's
  type: Trino does not coerce a ``DOUBLE`` into ``REAL`` or ``DECIMAL``, nor a ``TIMESTAMP``
  into ``DATE`` on ``INSERT``, and Python floats and datetimes arrive as those.
- True division casts an untyped divisor to the dividend's type, or ``DOUBLE``, not to a bare
  ``DECIMAL`` (which is ``decimal(38, 0)`` in Trino).
- ``regexp_match`` and ``regexp_replace`` compile to Trino's ``regexp_like`` and
  ``regexp_replace``.
- ``Table(..., prestoha_catalog="c")`` (or ``trino_catalog``) reads the table from catalog ``c``.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from sqlalchemy import exc
from sqlalchemy.sql import elements, sqltypes
from trino.sqlalchemy import compiler as trino_compiler

__all__ = [
    "CastDate",
    "CastFloat",
    "CastNumeric",
    "CastReal",
    "PrestohaDDLCompiler",
    "PrestohaSQLCompiler",
    "PrestohaTypeCompiler",
]

log = logging.getLogger("prestoha.sqlalchemy")


class PrestohaSQLCompiler(trino_compiler.TrinoSQLCompiler):
    """trino's SQL compiler with bind casts, regular expressions and ``prestoha_catalog``."""

    @staticmethod
    def add_catalog(sql_text: str, table: Any) -> str:
        options = getattr(table, "dialect_options", None)
        if options is not None:
            for dialect_name in ("prestoha", "trino"):
                if dialect_name in options and "catalog" in options[dialect_name]:
                    catalog = options[dialect_name]["catalog"]
                    if catalog is not None:
                        return f'"{catalog}".{sql_text}'
        return sql_text

    def render_bind_cast(self, type_: Any, dbapi_type: Any, sqltext: str) -> str:
        target = self.dialect.type_compiler_instance.process(
            type_, identifier_preparer=self.preparer
        )
        return f"CAST({sqltext} AS {target})"

    def visit_truediv_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        # Trino divides integers as integers, so SQLAlchemy casts the divisor; its default
        # cast, to a bare DECIMAL, is decimal(38, 0) in Trino and drops every fraction.
        right, left = binary.right.type, binary.left.type
        if _exact_or_float(right):
            target = right
        elif _exact_or_float(left):
            target = left
        else:
            target = sqltypes.Double()
        # Left first: with ? parameters, the order of processing is the order of binding.
        dividend = self.process(binary.left, **kw)
        return f"{dividend} / {self.process(elements.Cast(binary.right, target), **kw)}"

    def visit_regexp_match_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        return f"regexp_like({self._regexp_operands(binary, **kw)})"

    def visit_not_regexp_match_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        return f"NOT regexp_like({self._regexp_operands(binary, **kw)})"

    def visit_regexp_replace_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        string = self.process(binary.left, **kw)
        pattern, replacement = binary.right.clauses
        return (
            f"regexp_replace({string}, {self._regexp_pattern(binary, pattern, **kw)}, "
            f"{self.process(replacement, **kw)})"
        )

    def _regexp_operands(self, binary: Any, **kw: Any) -> str:
        pattern = self._regexp_pattern(binary, binary.right, **kw)
        return f"{self.process(binary.left, **kw)}, {pattern}"

    def _regexp_pattern(self, binary: Any, pattern: Any, **kw: Any) -> str:
        flags = binary.modifiers.get("flags")
        text = self.process(pattern, **kw)
        if not flags:
            return text
        # Trino's regular expressions (Java's syntax) take flags inline: (?i)pattern.
        if not isinstance(flags, str) or not flags.isalpha():
            raise exc.CompileError(f"regular expression flags {flags!r} are not supported")
        return f"concat('(?{flags})', {text})"


def _exact_or_float(type_: Any) -> bool:
    if type_._type_affinity is sqltypes.Float:
        return True
    return (
        type_._type_affinity is sqltypes.Numeric and getattr(type_, "precision", None) is not None
    )


class PrestohaDDLCompiler(trino_compiler.TrinoDDLCompiler):
    """trino's DDL compiler, quiet about constraints and indexes Trino does not have."""

    def visit_create_table(self, create: Any, **kw: Any) -> str:
        # A column typed by its foreign key gets the type when the key is resolved, which
        # compiling the (left out) constraint would otherwise have done.
        for fk in create.element.foreign_keys:
            with contextlib.suppress(exc.SQLAlchemyError):
                fk.column  # noqa: B018
        return str(super().visit_create_table(create, **kw))  # type: ignore[no-untyped-call]

    # trino's dialect declares comments inline (so SQLAlchemy sends no COMMENT ON) but
    # never writes them: Trino takes them in CREATE TABLE, after a column and the table.
    def get_column_specification(self, column: Any, **kw: Any) -> str:
        text = str(super().get_column_specification(column, **kw))
        if column.comment is not None:
            text += " COMMENT " + self._literal(column.comment)
        return text

    def post_create_table(self, table: Any) -> str:
        text = str(super().post_create_table(table))
        if table.comment is not None:
            text += " COMMENT " + self._literal(table.comment)
        return text

    def _literal(self, text: str) -> str:
        return str(self.sql_compiler.render_literal_value(text, sqltypes.String()))

    # SQLAlchemy leaves out a constraint whose compiled text is None.
    def visit_primary_key_constraint(self, constraint: Any, **kw: Any) -> str:
        return _left_out("primary key", constraint)

    def visit_foreign_key_constraint(self, constraint: Any, **kw: Any) -> str:
        return _left_out("foreign key", constraint)

    def visit_unique_constraint(self, constraint: Any, **kw: Any) -> str:
        return _left_out("unique constraint", constraint)

    def visit_check_constraint(self, constraint: Any, **kw: Any) -> str:
        return _left_out("check constraint", constraint)

    def visit_column_check_constraint(self, constraint: Any, **kw: Any) -> str:
        return _left_out("check constraint", constraint)

    def visit_add_constraint(self, create: Any, **kw: Any) -> str:
        return ""

    def visit_drop_constraint(self, drop: Any, **kw: Any) -> str:
        return ""

    def visit_create_index(
        self,
        create: Any,
        include_schema: Any = False,
        include_table_schema: Any = True,
        **kw: Any,
    ) -> str:
        log.debug("index %s left out: Trino has no indexes", create.element.name)
        return ""

    def visit_drop_index(self, drop: Any, **kw: Any) -> str:
        return ""


def _left_out(kind: str, constraint: Any) -> str:
    log.debug("%s %s left out of CREATE TABLE: Trino has none", kind, constraint.name or "")
    return None  # type: ignore[return-value]


class PrestohaTypeCompiler(trino_compiler.TrinoTypeCompiler):
    """trino's type compiler; ``Float()`` without a precision is ``DOUBLE``."""

    def visit_FLOAT(self, type_: Any, **kw: Any) -> str:
        if type_.precision is None:
            return "DOUBLE"
        return str(super().visit_FLOAT(type_, **kw))  # type: ignore[no-untyped-call]


class CastFloat(sqltypes.Float):  # type: ignore[type-arg]
    """``Float``: a value bound for a ``REAL`` (precision up to 32) is cast to ``REAL``."""

    @property
    def render_bind_cast(self) -> bool:  # type: ignore[override]
        return self.precision is not None and self.precision <= 32


class CastReal(sqltypes.REAL):  # type: ignore[type-arg]
    """``REAL``: bound values are cast to ``REAL``."""

    render_bind_cast = True


class CastNumeric(sqltypes.Numeric):  # type: ignore[type-arg]
    """``Numeric(p, s)``: bound values are cast to ``DECIMAL(p, s)``."""

    @property
    def render_bind_cast(self) -> bool:  # type: ignore[override]
        return self.precision is not None


class CastDate(sqltypes.Date):
    """``Date``: bound values (a ``datetime`` included) are cast to ``DATE``."""

    render_bind_cast = True
