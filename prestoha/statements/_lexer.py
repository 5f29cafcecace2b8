"""Trino's lexer, as far as classification needs it: tokens without blanks and comments.

Comments, ``''`` and ``""`` escapes, ``U&''`` and ``X''`` literals follow Trino's rules, so a
keyword inside a string or a comment is never mistaken for one that counts.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import NamedTuple

__all__ = [
    "Token",
    "Unparsable",
    "close_paren",
    "identifier",
    "is_symbol",
    "is_words",
    "split_statements",
    "string_value",
    "tokenize",
]

# What a statement inside a SQL routine body (BEGIN ...; ... END) starts with.
_ROUTINE = frozenset(
    {"BEGIN", "CASE", "DECLARE", "ELSE", "ELSEIF", "END", "IF", "ITERATE", "LEAVE", "LOOP"}
    | {"REPEAT", "RETURN", "SET", "UNTIL", "WHEN", "WHILE"}
)


class Token(NamedTuple):
    """One token: its kind, its value (words upper-cased) and where it is in the text."""

    kind: str  # word | string | ustring | binary | quoted | other | symbol
    value: str  # words upper-cased, everything else as written
    text: str  # as written
    start: int
    end: int


# Blanks and comments are eaten in front of each token, so one match is one token; at the
# end of the text they are eaten by the match of "end" (which keeps trailing blanks linear).
_TOKEN_RE = re.compile(
    r"(?:\s+|--[^\r\n]*|/\*.*?\*/)*(?:"
    + "|".join(
        (
            r"(?P<end>\Z)",
            r"(?P<word>(?![Uu]&'|[Xx]')[A-Za-z_][A-Za-z0-9_]*)",
            r"(?P<string>'[^']*(?:''[^']*)*')",
            r"(?P<ustring>[Uu]&'[^']*(?:''[^']*)*')",
            r"(?P<binary>[Xx]'[^']*')",
            r"(?P<quoted>\"[^\"]*(?:\"\"[^\"]*)*\"|`[^`]*(?:``[^`]*)*`)",
            r"(?P<open>/\*|(?:[Uu]&|[Xx])?'|\"|`)",
            r"(?P<other>\w+)",
            r"(?P<symbol>.)",
        )
    )
    + ")",
    re.S,
)
_UNTERMINATED = {"/*": "comment", '"': "quoted identifier", "`": "quoted identifier"}


class Unparsable(Exception):
    """The text cannot be tokenised; the message says why."""


def tokenize(sql: str) -> list[Token]:
    """The tokens of ``sql`` without blanks and comments."""
    toks = []
    for m in _TOKEN_RE.finditer(sql):
        kind = m.lastgroup or "end"
        if kind == "end":
            break
        text = m.group(kind)
        if kind == "open":
            raise Unparsable(f"unterminated {_UNTERMINATED.get(text, 'string')}")
        start, end = m.span(kind)
        toks.append(Token(kind, text.upper() if kind == "word" else text, text, start, end))
    return toks


def split_statements(toks: list[Token]) -> list[list[Token]]:
    """The statements of a text: its tokens split on ``;``, minus one trailing ``;``.

    ``WITH FUNCTION`` bodies hold ``;`` of their own (``BEGIN ...; ... END``): a text that
    defines one and whose later pieces all start like routine statements stays whole.
    """
    pieces: list[list[Token]] = [[]]
    for tok in toks:
        if tok.kind == "symbol" and tok.value == ";":
            pieces.append([])
        else:
            pieces[-1].append(tok)
    if len(pieces) > 1 and not pieces[-1]:
        pieces.pop()
    if len(pieces) > 1 and _defines_routine(pieces):
        end = len(toks) - 1 if is_symbol(toks, len(toks) - 1, ";") else len(toks)
        return [toks[:end]]
    return pieces


def _defines_routine(pieces: list[list[Token]]) -> bool:
    first = pieces[0]
    if not first or first[0].value not in ("WITH", "EXPLAIN", "PREPARE"):
        return False
    if not any(is_words(first, k, "WITH", "FUNCTION") for k in range(len(first))):
        return False
    for piece in pieces[1:]:
        label = len(piece) > 1 and is_symbol(piece, 1, ":")
        if not piece or not (label or (piece[0].kind == "word" and piece[0].value in _ROUTINE)):
            return False
    return True


def is_words(toks: Sequence[Token], i: int, *words: str) -> bool:
    """True when the tokens from ``i`` are exactly the given keywords."""
    if i + len(words) > len(toks):
        return False
    return all(
        t.kind == "word" and t.value == w
        for t, w in zip(toks[i : i + len(words)], words, strict=True)
    )


def is_symbol(toks: Sequence[Token], i: int, char: str) -> bool:
    """True when the token at ``i`` is the symbol ``char``."""
    return i < len(toks) and toks[i].kind == "symbol" and toks[i].value == char


def close_paren(toks: Sequence[Token], i: int) -> int:
    """Index just past the parenthesis that closes the one at ``i``."""
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].kind == "symbol":
            if toks[j].value == "(":
                depth += 1
            elif toks[j].value == ")":
                depth -= 1
                if depth == 0:
                    return j + 1
    raise Unparsable("unbalanced parentheses")


def identifier(tok: Token) -> str | None:
    """The name an identifier token stands for, or None if it is not one."""
    if tok.kind == "word":
        return tok.text
    if tok.kind == "quoted":
        quote = tok.value[0]
        return tok.value[1:-1].replace(quote * 2, quote)
    return None


def string_value(toks: Sequence[Token], i: int) -> str | None:
    """The text of the string literal at ``i`` (``U&`` escapes decoded), else None."""
    tok = toks[i] if i < len(toks) else None
    if tok is None or tok.kind not in ("string", "ustring"):
        return None
    if tok.kind == "string":
        return tok.value[1:-1].replace("''", "'")
    body = tok.value[3:-1].replace("''", "'")
    escape = "\\"
    if is_words(toks, i + 1, "UESCAPE"):
        esc = string_value(toks, i + 2)
        if esc is None or len(esc) != 1:
            return None
        escape = esc
    out, pos = [], 0
    while (k := body.find(escape, pos)) >= 0:
        out.append(body[pos:k])
        if body.startswith(escape, k + 1):
            out.append(escape)
            pos = k + 2
            continue
        first = k + 2 if body.startswith("+", k + 1) else k + 1
        pos = first + (6 if first == k + 2 else 4)
        digits = body[first:pos]
        if len(digits) != pos - first or not all(c in string.hexdigits for c in digits):
            return None
        out.append(chr(min(int(digits, 16), 0x10FFFF)))
    out.append(body[pos:])
    return "".join(out)
