"""DuckDB failures reported as the Trino errors a client would get for the same mistake."""

from __future__ import annotations

import re

import duckdb

from prestoha.testing.coordinator.sql.errors import QueryError, user_error

__all__ = ["from_duckdb_error"]

_COLUMN = re.compile(r'(?:column|Column) (?:with name )?"?([^"\s]+)"? (?:not found|does not exist)')
_FUNCTION = re.compile(
    r"(?:Scalar|Aggregate|Table)? ?Function with name \"?([^\"\s]+)\"? does not exist"
)
_PREFIX = re.compile(r"^[A-Za-z ]*Error: ")


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return _PREFIX.sub("", text)


def from_duckdb_error(err: BaseException, sql: str = "") -> QueryError:
    """The Trino-style error for a DuckDB exception raised while running ``sql``."""
    message = _first_line(err)
    if isinstance(err, duckdb.InterruptException):
        return user_error("USER_CANCELED", "Query was canceled")
    if "division by zero" in message.lower():
        return user_error("DIVISION_BY_ZERO", "Division by zero")
    if isinstance(err, (duckdb.BinderException, duckdb.CatalogException)):
        if m := _FUNCTION.search(message):
            return user_error("FUNCTION_NOT_FOUND", f"Function '{m.group(1)}' not registered")
        if m := _COLUMN.search(message):
            return user_error("COLUMN_NOT_FOUND", f"Column '{m.group(1)}' cannot be resolved")
        if "No function matches" in message or "Cannot compare" in message:
            return user_error("TYPE_MISMATCH", message)
        if "must appear in the GROUP BY" in message:
            return user_error("EXPRESSION_NOT_AGGREGATE", message)
        return user_error("GENERIC_USER_ERROR", message)
    if isinstance(err, duckdb.ConversionException):
        return user_error("INVALID_CAST_ARGUMENT", message)
    if isinstance(err, duckdb.OutOfRangeException):
        return user_error("NUMERIC_VALUE_OUT_OF_RANGE", message)
    if isinstance(err, duckdb.ConstraintException):
        return user_error("CONSTRAINT_VIOLATION", message)
    if isinstance(err, duckdb.TransactionException):
        if "aborted" in message.lower():
            return user_error(
                "TRANSACTION_ALREADY_ABORTED",
                "Current transaction is aborted, commands ignored until end of transaction block",
            )
        return user_error("TRANSACTION_CONFLICT", message)
    if isinstance(err, (duckdb.NotImplementedException, duckdb.ParserException)):
        return user_error("NOT_SUPPORTED", f"Unsupported SQL: {message}")
    if isinstance(err, duckdb.OutOfMemoryException):
        return user_error("EXCEEDED_GLOBAL_MEMORY_LIMIT", message)
    if isinstance(err, duckdb.InvalidInputException):
        return user_error("INVALID_FUNCTION_ARGUMENT", message)
    return user_error("GENERIC_USER_ERROR", message)
