"""Statements about the session and metadata: SHOW, DESCRIBE, USE, SET, PREPARE, EXECUTE,
transactions and EXPLAIN. They are recognised by their leading keywords (sqlglot does not parse
most of them the Trino way) and answered without DuckDB where possible.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlglot import exp

from prestoha.testing.coordinator.sql import showing
from prestoha.testing.coordinator.sql.context import Context
from prestoha.testing.coordinator.sql.prepared import bind_parameters, split_arguments
from prestoha.testing.coordinator.sql.session import SessionContext, StatementResult
from prestoha.testing.coordinator.sql.translate import parse

__all__ = ["is_read_only", "run", "strip_comments"]

_COMMENTS = re.compile(r"^\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/|\s+)*", re.DOTALL)
_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_@$:-]*)'
_QNAME = rf"{_NAME}(?:\s*\.\s*{_NAME})*"


def strip_comments(sql: str) -> str:
    """The statement without leading comments and trailing semicolons."""
    text = _COMMENTS.sub("", sql, count=1)
    return text.strip().rstrip(";").strip()


def _split_name(text: str) -> list[str]:
    parts = re.findall(r'"((?:[^"]|"")+)"|([^.\s"]+)', text)
    return [q.replace('""', '"') if q else u.lower() for q, u in parts]


def _m(pattern: str) -> re.Pattern[str]:
    return re.compile(r"^" + pattern + r"$", re.IGNORECASE | re.DOTALL)


_USE = _m(rf"USE\s+(?P<name>{_QNAME})")
_SET_SESSION = _m(rf"SET\s+SESSION\s+(?P<name>{_QNAME})\s*=\s*(?P<value>.+)")
_RESET_SESSION = _m(rf"RESET\s+SESSION\s+(?P<name>{_QNAME})")
_SET_ROLE = _m(rf"SET\s+ROLE\s+(?P<role>ALL|NONE|{_NAME})(?:\s+IN\s+(?P<catalog>{_NAME}))?")
_SET_PATH = _m(r"SET\s+PATH\s+(?P<path>.+)")
_SET_TIME_ZONE = _m(r"SET\s+TIME\s+ZONE\s+(?P<zone>.+)")
_PREPARE = _m(rf"PREPARE\s+(?P<name>{_NAME})\s+FROM\s+(?P<sql>.+)")
_EXECUTE_IMMEDIATE = _m(
    r"EXECUTE\s+IMMEDIATE\s+(?P<sql>'(?:[^']|'')*')(?:\s+USING\s+(?P<args>.+))?"
)
_EXECUTE = _m(rf"EXECUTE\s+(?P<name>{_NAME})(?:\s+USING\s+(?P<args>.+))?")
_DEALLOCATE = _m(rf"DEALLOCATE\s+PREPARE\s+(?P<name>{_NAME})")
_START = _m(r"START\s+TRANSACTION(?:\s+.*)?")
_COMMIT = _m(r"COMMIT(?:\s+WORK)?")
_ROLLBACK = _m(r"ROLLBACK(?:\s+WORK)?")
_EXPLAIN = _m(
    r"EXPLAIN(?P<analyze>\s+ANALYZE)?(?:\s+VERBOSE)?(?:\s*\((?P<opts>[^)]*)\))?\s+(?P<sql>.+)"
)
_DESCRIBE_IO = _m(rf"DESCRIBE\s+(?P<kind>INPUT|OUTPUT)\s+(?P<name>{_NAME})")
_SHOW_OR_DESCRIBE = _m(r"(?:SHOW|DESCRIBE|DESC)\s+.+")
_CALL = _m(r"CALL\s+.+")


def _name(text: str) -> str:
    return _split_name(text)[0]


def _prepared(ctx: Context, name: str) -> str:
    sql = ctx.session.prepared.get(name)
    if sql is None:
        raise ctx.fail("NOT_FOUND", f"Prepared statement not found: {name}")
    return sql


def _unquote(literal: str) -> str:
    return literal[1:-1].replace("''", "'")


def _value_text(ctx: Context, text: str) -> str:
    """The session value written by ``SET SESSION x = <expression>``."""
    tree = parse(f"SELECT {text}")
    node = tree.expressions[0] if isinstance(tree, exp.Select) else None
    if isinstance(node, exp.Literal):
        return str(node.this)
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return "-" + str(node.this.this)
    return text.strip()


def run(ctx: Context, release: Callable[[], None]) -> StatementResult | None:
    """Handle ``ctx.sql`` if it is one of these statements; ``None`` otherwise."""
    text = strip_comments(ctx.sql)
    session = ctx.session
    if m := _USE.match(text):
        return _use(ctx, _split_name(m["name"]), m["name"])
    if m := _SET_SESSION.match(text):
        name = ".".join(_split_name(m["name"]))
        _check_property(ctx, name)
        ctx.changes.set_session[name] = _value_text(ctx, m["value"])
        return _done(ctx, "SET SESSION")
    if m := _RESET_SESSION.match(text):
        name = ".".join(_split_name(m["name"]))
        _check_property(ctx, name)
        ctx.changes.clear_session.add(name)
        return _done(ctx, "RESET SESSION")
    if m := _SET_ROLE.match(text):
        role = m["role"].upper() if m["role"].upper() in ("ALL", "NONE") else _name(m["role"])
        catalog = _name(m["catalog"]) if m["catalog"] else "system"
        ctx.changes.set_roles[catalog] = role if role in ("ALL", "NONE") else f"ROLE{{{role}}}"
        return _done(ctx, "SET ROLE")
    if m := _SET_PATH.match(text):
        ctx.changes.set_path = m["path"].strip()
        return _done(ctx, "SET PATH")
    if m := _SET_TIME_ZONE.match(text):
        zone = _zone_of(ctx, m["zone"].strip())
        if zone is None:
            ctx.changes.clear_session.add("time_zone_id")
        else:
            ctx.changes.set_session["time_zone_id"] = zone
        return _done(ctx, "SET TIME ZONE")
    if m := _PREPARE.match(text):
        inner = m["sql"].strip()
        parse(inner)  # Trino refuses to prepare what it cannot parse
        ctx.changes.added_prepare[_name(m["name"])] = inner
        return _done(ctx, "PREPARE")
    if m := _DEALLOCATE.match(text):
        name = _name(m["name"])
        _prepared(ctx, name)
        ctx.changes.deallocated_prepare.add(name)
        return _done(ctx, "DEALLOCATE")
    if m := _EXECUTE_IMMEDIATE.match(text):
        return _execute(ctx, _unquote(m["sql"]), m["args"], release)
    if m := _EXECUTE.match(text):
        return _execute(ctx, _prepared(ctx, _name(m["name"])), m["args"], release)
    if _START.match(text):
        if session.transaction_id and session.transaction_id.upper() != "NONE":
            raise ctx.fail("NOT_SUPPORTED", "Nested transactions not supported")
        ctx.changes.started_transaction_id = ctx.engine.begin(ctx)
        return _done(ctx, "START TRANSACTION")
    if _COMMIT.match(text) or _ROLLBACK.match(text):
        txn = session.transaction_id
        if not txn or txn.upper() == "NONE":
            raise ctx.fail("NOT_IN_TRANSACTION", "No transaction in progress")
        commit = bool(_COMMIT.match(text))
        ctx.engine.finish(txn, commit)
        ctx.changes.clear_transaction_id = True
        return _done(ctx, "COMMIT" if commit else "ROLLBACK")
    if m := _EXPLAIN.match(text):
        return showing.explain(ctx, m["sql"], bool(m["analyze"]), m["opts"] or "")
    if m := _DESCRIBE_IO.match(text):
        sql = _prepared(ctx, _name(m["name"]))
        if m["kind"].upper() == "OUTPUT":
            return showing.describe_output(ctx, sql)
        return showing.describe_input(ctx, sql)
    if _SHOW_OR_DESCRIBE.match(text):
        return showing.show(ctx, text)
    if _CALL.match(text):
        raise ctx.fail("NOT_SUPPORTED", "Procedures are not supported by this coordinator")
    return None


_OFFSET = re.compile(r"^INTERVAL\s+'([+-]?)(\d{1,2}):(\d{2})'\s+HOUR\s+TO\s+MINUTE$", re.IGNORECASE)


def _zone_of(ctx: Context, text: str) -> str | None:
    """The zone id ``SET TIME ZONE`` names; ``None`` for LOCAL."""
    if text.upper() == "LOCAL":
        return None
    if m := _OFFSET.match(text):
        hours, minutes = int(m.group(2)), int(m.group(3))
        if hours > 14 or minutes > 59:
            raise ctx.fail("INVALID_LITERAL", f"Invalid time zone offset interval: {text}")
        return f"{m.group(1) or '+'}{hours:02d}:{minutes:02d}"
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        zone = _unquote(text)
        try:
            ZoneInfo(zone)
        except (ValueError, ZoneInfoNotFoundError):
            if not re.match(r"^[+-]\d{2}:\d{2}$", zone):
                raise ctx.fail("INVALID_LITERAL", f"Time zone not supported: {zone}") from None
        return zone
    raise ctx.fail(
        "TYPE_MISMATCH", f"Expected expression of varchar or interval day-time type: {text}"
    )


def _use(ctx: Context, parts: list[str], written: str) -> StatementResult:
    """USE [catalog.]schema, failing as io.trino.execution.UseTask does."""
    if len(parts) == 1:
        if ctx.session.catalog is None:
            raise ctx.fail(
                "MISSING_CATALOG_NAME",
                "Catalog must be specified when session catalog is not set",
                ctx.statement_start,
            )
        catalog, schema = ctx.session.catalog, parts[0]
    elif len(parts) == 2:
        catalog, schema = parts
    else:
        raise ctx.fail("SYNTAX_ERROR", f"Invalid schema name: {written}", ctx.statement_start)
    # UseTask throws plain TrinoExceptions here (no position): CATALOG_NOT_FOUND
    # "Catalog 'x' not found", then NOT_FOUND "Schema does not exist: c.s".
    ctx.catalog(catalog)
    if not ctx.schema_exists(catalog, schema):
        raise ctx.fail("NOT_FOUND", f"Schema does not exist: {catalog}.{schema}")
    # UseTask sets the catalog only when the statement names one.
    if len(parts) == 2:
        ctx.changes.set_catalog = catalog
    ctx.changes.set_schema = schema
    return _done(ctx, "USE")


def _check_property(ctx: Context, name: str) -> None:
    if name.count(".") > 1 or not name:
        raise ctx.fail("INVALID_SESSION_PROPERTY", f"Invalid session property '{name}'")
    if "." in name:
        ctx.catalog(name.split(".")[0])


def _done(ctx: Context, update_type: str) -> StatementResult:
    return StatementResult(columns=[], update_type=update_type, changes=ctx.changes)


def _execute(
    ctx: Context, sql: str, args: str | None, release: Callable[[], None]
) -> StatementResult:
    values = split_arguments(args) if args else []
    inner = bind_parameters(ctx, sql, values)
    sub = Context(ctx.engine, ctx.session, ctx.cur, inner, ctx.query_id)
    sub.changes = ctx.changes
    handled = run(sub, release)
    if handled is not None:
        return handled
    return ctx.engine.run_tree(sub, parse(inner), release)


_READ_ONLY_HEADS = re.compile(
    r"^(SELECT|WITH|VALUES|TABLE|SHOW|DESCRIBE|DESC|USE|SET\s+SESSION|RESET\s+SESSION|SET\s+ROLE|"
    r"SET\s+PATH|SET\s+TIME|PREPARE|DEALLOCATE|\()",
    re.IGNORECASE,
)


def is_read_only(sql: str, session: SessionContext) -> bool:
    """Whether the statement cannot change data (see ``Engine.is_read_only``)."""
    text = strip_comments(sql)
    if m := _EXPLAIN.match(text):
        return not m["analyze"] or is_read_only(m["sql"], session)
    if m := _EXECUTE_IMMEDIATE.match(text):
        return is_read_only(_unquote(m["sql"]), session)
    if m := _EXECUTE.match(text):
        inner = session.prepared.get(_name(m["name"]))
        return inner is not None and is_read_only(inner, session)
    return bool(_READ_ONLY_HEADS.match(text))
