"""What ``prestoha query`` prints: rows as a table, CSV or JSON lines, and a progress bar."""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

__all__ = ["Progress", "progress_text", "write_rows"]

_PROGRESS_AFTER = 1.0  # seconds before a progress bar appears
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


# -- rows ----------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, default=_json_value)
    return str(value)


def _rows(cursor: Any) -> Iterator[list[Any]]:
    while True:
        batch = cursor.fetchmany(1000)
        if not batch:
            return
        yield from batch


def write_rows(cursor: Any, output_format: str, rows_coming: Callable[[], None]) -> int:
    """Print the cursor's rows on stdout in ``output_format``; how many there were.

    ``rows_coming`` is called just before the first row is printed.
    """
    if not cursor.description:
        return 0
    columns = [d[0] for d in cursor.description]
    out = sys.stdout
    count = 0
    if output_format != "table":
        rows_coming()
    if output_format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in _rows(cursor):
            writer.writerow(["" if v is None else _csv_value(v) for v in row])
            count += 1
    elif output_format == "json":
        for row in _rows(cursor):
            out.write(json.dumps(dict(zip(columns, row, strict=True)), default=_json_value))
            out.write("\n")
            count += 1
    else:
        from prestoha import NUMBER

        table = Table(header_style="bold")
        for name, d in zip(columns, cursor.description, strict=True):
            table.add_column(name, justify="right" if d[1] == NUMBER else "left")
        for row in _rows(cursor):
            table.add_row(*(Text(_text(v), "dim" if v is None else "") for v in row))
            count += 1
        rows_coming()
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=100_000)
        console.print(table)
    out.flush()
    return count


def _csv_value(value: Any) -> Any:
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, default=_json_value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return value


# -- progress ------------------------------------------------------------------------------


class Progress:
    """A live bar on stderr from the coordinator's statistics, once a query runs a while."""

    def __init__(self, cursor: Any, console: Console, *, enabled: bool) -> None:
        self._cursor = cursor
        self._console = console
        self._enabled = enabled
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prestoha-progress", daemon=True)
        self._began = time.monotonic()

    def __enter__(self) -> Progress:
        if self._enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Take the bar away (and wait until it is gone)."""
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def rows_coming(self) -> None:
        """Rows are about to be printed: stop the bar if it shares the terminal with them."""
        if sys.stdout.isatty():
            self.stop()

    def _run(self) -> None:
        if self._done.wait(_PROGRESS_AFTER):
            return
        # rows keep going to the real stdout, never through the bar's console
        with Live(
            self._frame(),
            console=self._console,
            refresh_per_second=8,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        ) as live:
            while not self._done.wait(0.125):
                live.update(self._frame())

    def _frame(self) -> Text:
        return progress_text(self._cursor.stats, time.monotonic() - self._began)


def progress_text(stats: dict[str, Any], elapsed: float, width: int = 30) -> Text:
    """One line: state, a bar from ``progressPercentage`` (or splits), rows, elapsed."""
    state = str(stats.get("state") or "STARTING")
    percent = stats.get("progressPercentage")
    total = stats.get("totalSplits") or 0
    if not isinstance(percent, (int, float)) and total:
        percent = 100.0 * (stats.get("completedSplits") or 0) / total
    text = Text(f"{state:<9} ", "bold")
    # a 0 % while rows are being processed means "not known yet" (as before scheduling)
    if isinstance(percent, (int, float)) and (percent > 0 or state == "FINISHED"):
        filled = max(0, min(width, round(width * percent / 100)))
        text.append("━" * filled, "green")
        text.append("━" * (width - filled), "grey37")
        text.append(f" {percent:5.1f}%")
    else:
        spin = _SPINNER[int(elapsed * 8) % len(_SPINNER)]
        text.append(f"{spin} running".ljust(width + 7), "yellow")
    rows = stats.get("processedRows")
    if isinstance(rows, int):
        text.append(f"  {rows:,} rows", "cyan")
    text.append(f"  {elapsed:.1f} s", "dim")
    return text
