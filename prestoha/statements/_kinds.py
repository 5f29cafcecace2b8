"""The verdict on one SQL text: what it can change, and whether it was understood."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Classification", "StatementKind", "short", "unparsable", "unrecognised"]


class StatementKind(enum.Enum):
    """What running a statement can change."""

    READ = "read"
    SESSION = "session"
    WRITE = "write"


@dataclass(frozen=True)
class Classification:
    """The verdict on one SQL text.

    ``reason`` is one short line saying why. ``prepared_name`` is the statement name of
    ``PREPARE``, ``EXECUTE`` and ``DEALLOCATE PREPARE``; ``prepared_sql`` the inner
    statement of ``PREPARE ... FROM``, ``EXECUTE IMMEDIATE '...'`` and (when known) the
    statement an ``EXECUTE`` runs; ``transaction`` is ``"start"``, ``"commit"`` or
    ``"rollback"`` for transaction control.

    ``understood`` is False when the text could not be parsed or its statement is not one
    prestoha knows (the kind is then ``WRITE``, the safe side). A statement that carries
    another (``EXECUTE IMMEDIATE``, ``EXECUTE``) is understood even when what it carries
    is not: its own kind already says so.
    """

    kind: StatementKind
    reason: str
    prepared_name: str | None = None
    prepared_sql: str | None = None
    transaction: str | None = None
    understood: bool = True

    @property
    def read_only(self) -> bool:
        """True when running the statement twice cannot change anything."""
        return self.kind is StatementKind.READ


def unparsable(detail: str) -> Classification:
    """A ``WRITE`` for text that could not be parsed; ``detail`` says where it broke."""
    return Classification(StatementKind.WRITE, f"could not parse: {detail}", understood=False)


def unrecognised(lead: str) -> Classification:
    """A ``WRITE`` for a statement that starts with a keyword prestoha does not know."""
    return Classification(StatementKind.WRITE, f"unrecognised statement {lead}", understood=False)


def short(text: str, limit: int = 40) -> str:
    """``text`` fit for a one-line reason."""
    return " ".join(text.split())[:limit]
