"""The emulator's write journal: one JSON line per statement that is not read-only.

A line is written when the statement starts executing (the first GET of its queued URI), never at
POST, so a test can count how often a write really ran. Several emulator processes may append to
the same file: it is opened with ``O_APPEND`` and every line goes out in one ``write()`` call.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

__all__ = ["Journal", "read_journal"]

log = logging.getLogger("prestoha.testing.coordinator.http.journal")


class Journal:
    """Append-only JSON-lines journal of statements that may write."""

    def __init__(self, path: str | os.PathLike[str], node_id: str) -> None:
        self.path = Path(path)
        self.node_id = node_id
        self._lock = threading.Lock()
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def record(self, *, query_id: str, trace_token: str | None, sql: str, user: str) -> None:
        """Append one line for a statement that starts executing now."""
        entry = {
            "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds"),
            "node_id": self.node_id,
            "query_id": query_id,
            "trace_token": trace_token,
            "sql": sql,
            "user": user,
        }
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            if self._fd is None:
                log.warning("journal %s is closed; %s not recorded", self.path, query_id)
                return
            os.write(self._fd, line)

    def close(self) -> None:
        """Close the file; later records are dropped with a warning."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def read_journal(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every entry of a journal file, oldest first (a missing file is an empty journal).

    A torn last line (the writer was killed mid-write) is skipped.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    entries: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            log.warning("skipping a torn journal line in %s", path)
            continue
        if isinstance(value, dict):
            entries.append(value)
    return entries
