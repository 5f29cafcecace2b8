"""Running digests of handed-out rows, for verified replay.

The same rows give the same digest whatever the page boundaries were: each row's encoding
is followed by one separator.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["digest_at", "new_digest", "row_digest_update"]


def new_digest() -> Any:
    """A fresh running digest of handed-out rows."""
    return hashlib.blake2b(digest_size=16)


def row_digest_update(digest: Any, rows: list[Any]) -> None:
    """Feed rows into a running digest."""
    if rows:
        _update_rows(digest, rows)


def digest_at(digest_before: Any, rows: Any, pos: int) -> Any:
    """The digest of every row before a page (``digest_before``) and its first ``pos``
    ``rows``; None when the page carries no digest."""
    if digest_before is None:
        return None
    at = getattr(rows, "digest_at", None)  # a page decoded into Arrow (``_columnar``)
    if at is not None:
        return at(digest_before, pos)
    d = digest_before.copy()
    row_digest_update(d, rows[:pos])
    return d


def _encode_rows_repr(rows: list[Any]) -> bytes:
    return ("\x1e".join(map(repr, rows)) + "\x1e").encode("utf-8", "surrogatepass")


def _update_rows_repr(digest: Any, rows: list[Any]) -> None:
    digest.update(_encode_rows_repr(rows))


try:
    import orjson

    def _update_rows(digest: Any, rows: list[Any]) -> None:
        # orjson writes a list as "[" + ",".join(rows) + "]": the bytes between the
        # brackets, then ",", are the same for the same rows however they were paged.
        # It is about ten times cheaper than repr(), which matters on every row; the
        # memoryview spares two copies of a page's worth of bytes.
        try:
            encoded = orjson.dumps(rows, default=repr)
        except TypeError:  # a value orjson refuses (an integer past 64 bits): row by row
            digest.update(b"".join(map(_encode_row, rows)))
            return
        digest.update(memoryview(encoded)[1:-1])
        digest.update(b",")

    def _encode_row(row: Any) -> bytes:
        try:
            return bytes(orjson.dumps(row, default=repr)) + b","
        except TypeError:
            return b"\x00" + repr(row).encode("utf-8", "surrogatepass") + b"\x00,"

except ImportError:  # orjson is a dependency of trino on CPython, not on every Python
    _update_rows = _update_rows_repr
