"""Parameters of prepared statements: ``EXECUTE s USING 1, 'a'`` and ``EXECUTE IMMEDIATE``.

Arguments are substituted as SQL text for the ``?`` markers outside string literals, quoted
identifiers and comments, which is what binding a literal to a parameter amounts to.
"""

from __future__ import annotations

from typing import Any

__all__ = ["bind_parameters", "parameter_count", "split_arguments"]

_OPEN = {"(": ")", "[": "]"}


def split_arguments(text: str) -> list[str]:
    """Split ``1, 'a,b', ARRAY[1, 2]`` at its top-level commas."""
    out: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in ("'", '"'):
            i = _skip_quoted(text, i)
            continue
        if ch in _OPEN:
            depth += 1
        elif ch in (")", "]"):
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
        i += 1
    last = text[start:].strip()
    if last or out:
        out.append(last)
    return out


def _skip_quoted(text: str, i: int) -> int:
    quote = text[i]
    i += 1
    while i < len(text):
        if text[i] == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return i


def _markers(sql: str) -> list[int]:
    found: list[int] = []
    i = 0
    while i < len(sql):
        ch = sql[i]
        if ch in ("'", '"'):
            i = _skip_quoted(sql, i)
            continue
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
            continue
        if sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = len(sql) if end < 0 else end + 2
            continue
        if ch == "?":
            found.append(i)
        i += 1
    return found


def parameter_count(sql: str) -> int:
    """How many ``?`` parameters ``sql`` has."""
    return len(_markers(sql))


def bind_parameters(ctx: Any, sql: str, values: list[str]) -> str:
    """``sql`` with each ``?`` replaced by the matching argument text."""
    markers = _markers(sql)
    if len(markers) != len(values):
        raise ctx.fail(
            "INVALID_PARAMETER_USAGE",
            f"Incorrect number of parameters: expected {len(markers)} but found {len(values)}",
        )
    out = []
    last = 0
    for pos, value in zip(markers, values, strict=True):
        out.append(sql[last:pos])
        out.append(value)
        last = pos + 1
    out.append(sql[last:])
    return "".join(out)
