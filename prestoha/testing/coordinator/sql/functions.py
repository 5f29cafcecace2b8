"""Trino functions that sqlglot leaves as they are but DuckDB lacks or spells differently.

:func:`rewrite` returns the DuckDB expression for a Trino function call, or ``None`` when the
call needs no change. Java date patterns (``format_datetime``, ``parse_datetime``) become
strftime patterns with :func:`joda_to_strftime`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

__all__ = ["joda_to_strftime", "rewrite"]

_JODA = [
    ("yyyy", "%Y"), ("YYYY", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"),
    ("M", "%-m"), ("dd", "%d"), ("d", "%-d"), ("HH", "%H"), ("H", "%-H"), ("hh", "%I"),
    ("h", "%-I"), ("mm", "%M"), ("m", "%-M"), ("ss", "%S"), ("s", "%-S"),
    ("SSSSSS", "%f"), ("SSS", "%g"), ("a", "%p"), ("EEEE", "%A"), ("EEE", "%a"),
    ("ZZ", "%z"), ("Z", "%z"), ("z", "%Z"), ("DDD", "%j"),
]  # fmt: skip


def joda_to_strftime(pattern: str) -> str:
    """Translate a Java date pattern (``yyyy-MM-dd HH:mm``) to strftime (``%Y-%m-%d %H:%M``)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            end = len(pattern) if end < 0 else end
            out.append(pattern[i + 1 : end].replace("%", "%%") or "'")
            i = end + 1
            continue
        for token, replacement in _JODA:
            if pattern.startswith(token, i):
                out.append(replacement)
                i += len(token)
                break
        else:
            out.append("%%" if ch == "%" else ch)
            i += 1
    return "".join(out)


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _matches(args: list[exp.Expression]) -> exp.Expression:
    return _call("len", _call("list_filter", args[0], args[1]))


def _pattern(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Literal) and node.is_string:
        return exp.Literal.string(joda_to_strftime(node.this))
    return node


_HOST = r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/]*@)?([^/:?#]+)"

_BY_NAME: dict[str, tuple[int, Callable[[list[exp.Expression]], exp.Expression]]] = {
    "any_match": (2, lambda a: exp.GT(this=_matches(a), expression=exp.Literal.number(0))),
    "none_match": (2, lambda a: exp.EQ(this=_matches(a), expression=exp.Literal.number(0))),
    "all_match": (2, lambda a: exp.EQ(this=_matches(a), expression=_call("len", a[0].copy()))),
    "format_datetime": (2, lambda a: _call("strftime", a[0], _pattern(a[1]))),
    "with_timezone": (2, lambda a: _call("timezone", a[1], a[0])),
    "to_iso8601": (
        1,
        lambda a: _call(
            "replace",
            exp.Cast(this=a[0], to=exp.DataType.build("VARCHAR")),
            exp.Literal.string(" "),
            exp.Literal.string("T"),
        ),
    ),
    "codepoint": (1, lambda a: _call("unicode", a[0])),
    "url_extract_host": (
        1,
        lambda a: _call("regexp_extract", a[0], exp.Literal.string(_HOST), exp.Literal.number(1)),
    ),
    "map_agg": (2, lambda a: _call("map", _call("list", a[0]), _call("list", a[1]))),
}


def rewrite(node: exp.Expr) -> exp.Expression | None:
    """The DuckDB replacement for a Trino function call node, if it needs one."""
    if isinstance(node, exp.Anonymous):
        entry = _BY_NAME.get(str(node.this).lower())
        if entry is None or len(node.expressions) != entry[0]:
            return None
        return entry[1]([e.copy() for e in node.expressions])
    if isinstance(node, exp.Format):
        return _call("printf", node.this.copy(), *[e.copy() for e in node.expressions])
    if isinstance(node, exp.ParseDatetime) and node.args.get("format") is not None:
        return _call("strptime", node.this.copy(), _pattern(node.args["format"]))
    if isinstance(node, exp.AtTimeZone):
        # Trino reads a timestamp without zone in the session zone; the session zone is the
        # cursor's TimeZone, so the cast gives the same instant.
        return exp.Cast(this=node.this.copy(), to=exp.DataType.build("TIMESTAMPTZ"))
    return None
