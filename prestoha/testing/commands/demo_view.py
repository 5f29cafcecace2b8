"""What ``prestoha demo`` shows: a live view on a terminal, plain lines elsewhere, or JSON."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import click
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from prestoha.testing.commands.scenario import TIMELINE_STEP, Demo

__all__ = ["library_warnings_to", "render", "run_demo", "summary_lines"]

_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red")
_BARS = "▁▂▃▄▅▆▇█"
_TIMELINE_CELLS = 56


def run_demo(*, threads: int, mode: str, as_json: bool, plain: bool, flavor: str = "trino") -> int:
    """Run the demo and show it; the exit code (0 when no query failed)."""
    live = not (plain or as_json) and sys.stdout.isatty()
    console = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    say: Callable[[str], None] = (
        (lambda line: None) if live else _plain_printer(err if as_json else console)
    )
    with library_warnings_to(lambda message: None):
        summary = _run(threads, mode, live, console, err, say, flavor)
    if isinstance(summary, int):
        return summary
    if as_json:
        click.echo(json.dumps(summary))
    else:
        _print_summary(console, summary, styled=console.is_terminal)
    return 0 if summary["failures"] == 0 else 1


def _run(
    threads: int,
    mode: str,
    live: bool,
    console: Console,
    err: Console,
    say: Callable[[str], None],
    flavor: str = "trino",
) -> dict[str, Any] | int:
    """The demo's summary, or the exit code when it could not run to its end."""
    from prestoha.testing.cluster import LocalCluster, ProcessError
    from prestoha.testing.zookeeper import ZooKeeperError

    spinner = console.status("starting ZooKeeper, 3 coordinators and 3 agents...") if live else None
    try:
        kind = {"prestodb": "PrestoDB", "presto": "Trino (Presto headers)"}.get(flavor, "Trino")
        say(f"starting ZooKeeper, 3 emulated {kind} coordinators and their agents (processes)")
        began = time.monotonic()
        if spinner is not None:
            spinner.start()
        with LocalCluster(3, flavor=flavor) as cluster:
            if spinner is not None:
                spinner.stop()
            demo = Demo(cluster, threads=threads, mode=mode, log=say)
            demo.note(
                f"cluster up in {time.monotonic() - began:.1f} s, ZooKeeper {cluster.zk_hosts}"
            )
            if live:
                with Live(
                    get_renderable=lambda: render(demo),
                    console=console,
                    refresh_per_second=8,
                    transient=False,
                ):
                    demo.run()
            else:
                demo.run()
            summary = demo.summary()
        say("every process of the cluster stopped")
        return summary
    except KeyboardInterrupt:
        err.print("demo interrupted: every process it started is stopped")
        return 130
    except (ZooKeeperError, ProcessError) as exc:
        err.print(f"prestoha demo: the local cluster did not start: {exc}", markup=False)
        return 1
    except TimeoutError as exc:
        err.print(f"prestoha demo: {exc}", markup=False)
        return 1
    finally:
        if spinner is not None:
            spinner.stop()


@contextlib.contextmanager
def library_warnings_to(sink: Callable[[str], None]) -> Iterator[None]:
    """Send prestoha's warnings to ``sink`` instead of stderr while the block runs.

    The handler is prestoha's own, on the ``prestoha`` logger, and leaves with the block (as
    does the ``propagate`` it turns off): the application's logging is left as it was.
    """

    class _Sink(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            sink(record.getMessage())

    logger = logging.getLogger("prestoha")
    handler = _Sink(logging.WARNING)
    before = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = before


def _plain_printer(console: Console) -> Callable[[str], None]:
    def show(line: str) -> None:
        console.print(line, markup=False, soft_wrap=True)
        console.file.flush()

    return show


# -- the live view --------------------------------------------------------------------------


def render(demo: Demo) -> RenderableType:
    """One frame of the live view."""
    t = demo.tally
    now = time.monotonic()
    with t.lock:
        ok, failed, moved = t.ok, t.failed, t.moved
        replays, replayed, checked = t.replays, t.replayed_rows, t.rows_checked
        served = dict(t.served)
        timeline = {node: dict(cells) for node, cells in t.timeline.items()}
        kill_at, killed = t.kill_at, t.killed_node
    elapsed = now - t.started
    header = Text.assemble(
        ("prestoha demo", "bold"),
        f"  ·  {demo.phase}  ·  {elapsed:4.1f} s  ·  mode {demo.mode}  ·  ",
        (f"{len(demo.threads)} threads", ""),
    )
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold dim")
    for name in ("node", "role", "process", "served", "who served the queries, over time"):
        table.add_column(name, justify="right" if name == "served" else "left")
    topology = demo.cluster.topology()
    leader = topology.leader.node_id if topology.leader else None
    members = {m.node_id for m in topology.members}
    last_cell = int(elapsed / TIMELINE_STEP)
    first_cell = max(0, last_cell - _TIMELINE_CELLS + 1)
    peak = max([n for cells in timeline.values() for n in cells.values()] or [1])
    for i, view in enumerate(demo.nodes):
        colour = _COLOURS[i % len(_COLOURS)]
        role = (
            Text("leader", "bold green")
            if view.node_id == leader
            else Text("standby" if view.node_id in members else "not registered", "dim")
        )
        process_style = {"killed": "bold red", "restarting": "yellow"}.get(view.process, "")
        process = Text(f"{view.process} (pid {view.pid})", process_style)
        cells = Text()
        for cell in range(first_cell, last_cell + 1):
            n = timeline.get(view.node_id, {}).get(cell, 0)
            at = t.started + cell * TIMELINE_STEP
            down = (
                view.node_id == killed
                and kill_at is not None
                and at + TIMELINE_STEP > kill_at
                and (demo.restarted_at is None or at < demo.restarted_at)
            )
            if n:
                cells.append(_BARS[min(len(_BARS) - 1, (n * len(_BARS) - 1) // peak)], colour)
            elif down:
                cells.append("x", "red")
            else:
                cells.append("·", "dim")
        table.add_row(
            Text(view.node_id, f"bold {colour}"), role, process, f"{served.get(view.node_id, 0):,}",
            cells,
        )  # fmt: skip
    sep = ("  ·  ", "dim")
    counts = Text.assemble(
        ("queries ", "dim"),
        (f"{ok:,} ok", "bold green"),
        sep,
        (f"{failed} failed", "bold red" if failed else "green"),
        sep,
        f"{moved} failed over",
        sep,
        f"{replays} verified replay{'' if replays == 1 else 's'} ({replayed:,} rows)",
        sep,
        f"{checked:,} rows checked",
    )
    lines = Text()
    for at, text in demo.log_lines:
        style = "red" if "SIGKILL" in text or "failed" in text else ""
        lines.append(f"+{at:5.2f} s  ", "dim")
        lines.append(text + "\n", style)
    return Group(header, Text(""), table, Text(""), counts, Text(""), lines)


# -- the summary ----------------------------------------------------------------------------


def summary_lines(s: dict[str, Any]) -> list[tuple[str, str]]:
    """The summary as (label, text) lines."""
    served = " · ".join(f"{node} {n:,}" for node, n in s["served_by"].items()) or "nobody"
    moved = f"{s['failovers']} queries moved to another coordinator"
    if s["verified_replays"]:
        moved += (
            f" ({s['verified_replays']} resumed mid-stream by verified replay of "
            f"{s['replayed_rows']:,} rows)"
        )
    gap = (
        f"{s['gap_seconds']:.2f} s from the SIGKILL to the next successful query "
        f"(on {s['gap_served_by']})"
        if s["gap_seconds"] is not None
        else "no query succeeded after the kill"
    )
    zk = (
        f"{s['new_leader']} elected {s['election_seconds']:.2f} s after the kill"
        if s["election_seconds"] is not None
        else "no new leader was elected"
    )
    if s["rejoined_seconds"] is not None:
        zk += f"; {s['killed']} registered again {s['rejoined_seconds']:.2f} s after its restart"
    lines = [
        ("queries", f"{s['succeeded']:,} succeeded, {s['failures']} failed, in {s['seconds']} s"),
        ("killed", f"{s['killed']}, the leader, with SIGKILL"),
        ("failovers", moved),
        ("gap", gap),
        ("slowest", f"{s['slowest_query_across_kill_seconds']:.2f} s for a query running "
                    "across the kill"),
        ("ZooKeeper", zk),
        ("served by", served),
        ("rows", f"{s['rows_checked']:,} rows returned and checked (count and order)"),
        ("failures", str(s["failures"])),
    ]  # fmt: skip
    lines.extend(("error", e.splitlines()[0][:200]) for e in s["errors"])
    return lines


def _print_summary(console: Console, s: dict[str, Any], *, styled: bool) -> None:
    console.print()
    console.print("Summary", style="bold" if styled else None)
    for label, text in summary_lines(s):
        style = None
        if styled and label == "failures":
            style = "bold green" if s["failures"] == 0 else "bold red"
        console.print(f"  {label:<10} ", end="", markup=False)
        console.print(text, style=style, markup=False, soft_wrap=True)
    if s["failures"] == 0 and s["failovers"]:
        verdict = "every query succeeded while the leader died and came back"
        console.print(f"\n{verdict}", style="bold green" if styled else None)
