"""Query failures as Trino reports them: error name, code, type and the ``line L:C:`` prefix."""

from __future__ import annotations

from typing import Any

__all__ = ["ERROR_CODES", "QueryError", "position_of", "user_error"]

ERROR_CODES: dict[str, tuple[int, str]] = {
    "GENERIC_USER_ERROR": (0, "USER_ERROR"),
    "SYNTAX_ERROR": (1, "USER_ERROR"),
    "USER_CANCELED": (3, "USER_ERROR"),
    "PERMISSION_DENIED": (4, "USER_ERROR"),
    "NOT_FOUND": (5, "USER_ERROR"),
    "FUNCTION_NOT_FOUND": (6, "USER_ERROR"),
    "INVALID_FUNCTION_ARGUMENT": (7, "USER_ERROR"),
    "DIVISION_BY_ZERO": (8, "USER_ERROR"),
    "INVALID_CAST_ARGUMENT": (9, "USER_ERROR"),
    "OPERATOR_NOT_FOUND": (10, "USER_ERROR"),
    "INVALID_VIEW": (11, "USER_ERROR"),
    "ALREADY_EXISTS": (12, "USER_ERROR"),
    "NOT_SUPPORTED": (13, "USER_ERROR"),
    "INVALID_SESSION_PROPERTY": (14, "USER_ERROR"),
    "CONSTRAINT_VIOLATION": (16, "USER_ERROR"),
    "TRANSACTION_CONFLICT": (17, "USER_ERROR"),
    "NUMERIC_VALUE_OUT_OF_RANGE": (19, "USER_ERROR"),
    "UNKNOWN_TRANSACTION": (20, "USER_ERROR"),
    "NOT_IN_TRANSACTION": (21, "USER_ERROR"),
    "TRANSACTION_ALREADY_ABORTED": (22, "USER_ERROR"),
    "READ_ONLY_VIOLATION": (23, "USER_ERROR"),
    "SUBQUERY_MULTIPLE_ROWS": (28, "USER_ERROR"),
    "SCHEMA_NOT_EMPTY": (34, "USER_ERROR"),
    "TYPE_NOT_FOUND": (43, "USER_ERROR"),
    "CATALOG_NOT_FOUND": (44, "USER_ERROR"),
    "SCHEMA_NOT_FOUND": (45, "USER_ERROR"),
    "TABLE_NOT_FOUND": (46, "USER_ERROR"),
    "COLUMN_NOT_FOUND": (47, "USER_ERROR"),
    "SCHEMA_ALREADY_EXISTS": (49, "USER_ERROR"),
    "TABLE_ALREADY_EXISTS": (50, "USER_ERROR"),
    "COLUMN_ALREADY_EXISTS": (51, "USER_ERROR"),
    "DUPLICATE_COLUMN_NAME": (54, "USER_ERROR"),
    "MISSING_CATALOG_NAME": (56, "USER_ERROR"),
    "MISSING_SCHEMA_NAME": (57, "USER_ERROR"),
    "TYPE_MISMATCH": (58, "USER_ERROR"),
    "INVALID_LITERAL": (59, "USER_ERROR"),
    "COLUMN_TYPE_UNKNOWN": (60, "USER_ERROR"),
    "MISMATCHED_COLUMN_ALIASES": (61, "USER_ERROR"),
    "AMBIGUOUS_NAME": (62, "USER_ERROR"),
    "MISSING_GROUP_BY": (64, "USER_ERROR"),
    "EXPRESSION_NOT_AGGREGATE": (73, "USER_ERROR"),
    "INVALID_PARAMETER_USAGE": (80, "USER_ERROR"),
    "GENERIC_INTERNAL_ERROR": (65536, "INTERNAL_ERROR"),
    "SERVER_SHUTTING_DOWN": (65545, "INTERNAL_ERROR"),
    "SERVER_STARTING_UP": (65548, "INTERNAL_ERROR"),
    "EXCEEDED_GLOBAL_MEMORY_LIMIT": (131073, "INSUFFICIENT_RESOURCES"),
}


class QueryError(Exception):
    """A statement failed the way Trino fails it (``error`` object of the query results)."""

    def __init__(
        self,
        message: str,
        error_name: str,
        error_code: int,
        error_type: str,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_name = error_name
        self.error_code = error_code
        self.error_type = error_type
        self.line = line
        self.column = column

    def __repr__(self) -> str:
        return f"QueryError({self.error_name}: {self.message})"


def position_of(sql: str, node: Any) -> tuple[int, int] | None:
    """1-based (line, column) where a sqlglot node starts in ``sql``, when known."""
    if node is None:
        return None
    for candidate in [node, *(getattr(node, "parts", None) or [])]:
        meta = getattr(candidate, "meta", None) or {}
        if "start" in meta:
            start = int(meta["start"])
            line = sql.count("\n", 0, start) + 1
            column = start - (sql.rfind("\n", 0, start) + 1) + 1
            return line, column
    this = getattr(node, "this", None)
    if this is not None and this is not node and hasattr(this, "meta"):
        return position_of(sql, this)
    return None


def user_error(
    error_name: str,
    message: str,
    where: tuple[int, int] | None = None,
) -> QueryError:
    """Build a :class:`QueryError`; with ``where`` the message gets Trino's ``line L:C:`` prefix."""
    code, kind = ERROR_CODES.get(error_name, (0, "USER_ERROR"))
    if where is None:
        return QueryError(message, error_name, code, kind)
    line, column = where
    return QueryError(f"line {line}:{column}: {message}", error_name, code, kind, line, column)
