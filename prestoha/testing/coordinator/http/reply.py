"""An HTTP answer as the emulator's routes build it, before the socket side writes it."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Reply", "text_reply"]


@dataclass
class Reply:
    """An HTTP answer: status, body, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    has_rows: bool = False
    delay: float = 0.0


def text_reply(status: int, message: str) -> Reply:
    """A ``text/plain`` answer, as Trino sends for 400/404/410."""
    return Reply(status, message.encode("utf-8"), "text/plain; charset=utf-8")
