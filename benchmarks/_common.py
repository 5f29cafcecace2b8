"""What every benchmark shares: clocks, medians, the environment record and the result file.

A benchmark's ``main()`` hands its work to :func:`run`, which bounds it in time, turns SIGTERM
and SIGHUP into ``KeyboardInterrupt`` (so ``with`` blocks stop their processes), and checks
afterwards that no child process is left. The work returns a :class:`Outcome`; :func:`run`
adds versions, cores and date, writes ``benchmarks/results/<name>.json`` and prints the same
object as the last line of stdout. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

RESULTS = Path(__file__).resolve().parent / "results"
HAPROXY = "/usr/sbin/haproxy"

T = TypeVar("T")
U = TypeVar("U")

now = time.perf_counter


class BenchmarkTimeout(Exception):
    """The benchmark ran past its time limit."""


@dataclass
class Outcome:
    """What a benchmark found: the deciding figures, the bar and everything behind them."""

    figures: dict[str, Any]
    ratio: float | None
    bar: str
    passed: bool
    config: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def log(message: str) -> None:
    """A progress line on stderr (stdout is kept for the result)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- statistics ----------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """The median; NaN for no values."""
    return percentile(values, 50)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear between the two nearest ranks; NaN when empty."""
    data = sorted(v for v in values if v is not None and not math.isnan(v))
    if not data:
        return math.nan
    pos = (len(data) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def rnd(value: float | None, digits: int = 4) -> float | None:
    """Round for the result file; None and NaN become None (JSON has no NaN)."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return None
    return round(value, digits)


def alternate(rounds: int, a: Callable[[int], T], b: Callable[[int], U]) -> tuple[list[T], list[U]]:
    """Run ``a(i)`` and ``b(i)`` alternately, A B A B..., ``rounds`` times each."""
    got_a: list[T] = []
    got_b: list[U] = []
    for i in range(rounds):
        got_a.append(a(i))
        got_b.append(b(i))
    return got_a, got_b


def row_digest(rows: Sequence[Sequence[Any]], digest: Any = None) -> Any:
    """Feed rows into a SHA-256 (new when ``digest`` is None).

    The same rows give the same digest however they were split into batches.
    """
    d = digest if digest is not None else hashlib.sha256()
    if rows:
        d.update(("\x1e".join(repr(tuple(r)) for r in rows) + "\x1e").encode())
    return d


# -- queries -------------------------------------------------------------------------------


def stream_sql(rows: int, *, ordered: bool = False) -> str:
    """``rows`` rows of (bigint, varchar, double, timestamp(3)), ids 0..rows-1.

    Trino caps ``sequence()`` at 10,000 elements, so the rows come from two of them.
    """
    width = 1000
    outer = max(1, math.ceil(rows / width))
    sql = (
        "SELECT id, concat('row-', CAST(id AS varchar)) AS name, CAST(id AS double) / 7 AS value, "
        "TIMESTAMP '2024-01-01 00:00:00.000' + id * INTERVAL '1' SECOND AS ts FROM ("
        f"SELECT a.i * {width} + b.j AS id FROM UNNEST(sequence(0, {outer - 1})) AS a(i) "
        f"CROSS JOIN UNNEST(sequence(0, {width - 1})) AS b(j)) AS t WHERE id < {rows}"
    )
    return sql + " ORDER BY id" if ordered else sql


#: The small read query of the failover benchmarks: its one row names the node that ran it.
WHO_SQL = "SELECT node_id FROM system.runtime.nodes"


# -- the environment -----------------------------------------------------------------------


def _version_of(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return None


def _command_line(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else None


def environment() -> dict[str, Any]:
    """Versions, cores, load and date of this run."""
    zk = _command_line(["dpkg-query", "-W", "-f", "${Version}", "zookeeper"])
    haproxy = _command_line([HAPROXY, "-v"]) if Path(HAPROXY).exists() else None
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": platform.machine(),
        "versions": {
            "python": platform.python_version(),
            "prestoha": _version_of("prestoha"),
            "trino": _version_of("trino"),
            "duckdb": _version_of("duckdb"),
            "kazoo": _version_of("kazoo"),
            "zookeeper": zk,
            "haproxy": haproxy.split(" - ")[0] if haproxy else None,
        },
    }


# -- the child processes -------------------------------------------------------------------


def child_pids() -> list[int]:
    """Pids of the live (not zombie) processes whose parent is this one."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: split after it
        rest = stat.rsplit(")", 1)[1].split()
        state, ppid = rest[0], int(rest[1])
        if ppid == me and state != "Z":
            found.append(int(entry.name))
    return found


def rss_bytes(pid: int | str = "self") -> tuple[int, int]:
    """(current RSS, peak RSS) of a process, in bytes, from /proc."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024
    return fields["VmRSS"], fields["VmHWM"]


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`BenchmarkTimeout` in the main thread after ``seconds``."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise BenchmarkTimeout(f"the benchmark ran past its limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def parser(description: str, *, limit: float) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark has."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--time-limit",
        type=float,
        default=limit,
        metavar="SECONDS",
        help="stop (and clean up) after this long (default %(default)g)",
    )
    p.add_argument(
        "--no-write", action="store_true", help="print the result but do not write results/"
    )
    p.add_argument(
        "--label",
        default="",
        help="write results/<name>-<label>.json instead (a run with non-default settings)",
    )
    return p


def run(
    bench_id: str,
    name: str,
    what: str,
    work: Callable[[], Outcome],
    *,
    args: argparse.Namespace,
    fail_below_bar: bool = False,
) -> int:
    """Run ``work`` within the time limit, report its outcome; the process exit status.

    The status is 1 when the work raised (or ran out of time), and with ``fail_below_bar``
    also when the outcome missed its bar.
    """
    from prestoha.testing import _processes

    began = time.monotonic()
    env = environment()
    log(f"{bench_id} {name}: {what}")
    error: str | None = None
    outcome: Outcome | None = None
    try:
        with _processes.exit_on_signals(), time_limit(args.time_limit):
            outcome = work()
    except (Exception, KeyboardInterrupt) as exc:
        error = f"{type(exc).__name__}: {exc}"
        log(f"{name} failed: {error}")
    left = _wait_for_children(10.0)
    result: dict[str, Any] = {"id": bench_id, "name": name, "what": what}
    if getattr(args, "label", ""):
        result["label"] = args.label
    if outcome is not None:
        result.update(
            figures=outcome.figures,
            ratio=outcome.ratio,
            bar=outcome.bar,
            **{"pass": outcome.passed and error is None},
            config=outcome.config,
            notes=outcome.notes,
            details=outcome.details,
        )
    else:
        result.update({"figures": {}, "ratio": None, "bar": "", "pass": False})
    if error is not None:
        result["error"] = error
    result["processes_left"] = left
    result["seconds"] = round(time.monotonic() - began, 1)
    result.update(env)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stem = f"{name}-{args.label}" if getattr(args, "label", "") else name
        tmp = RESULTS / f"{stem}.json.tmp"
        # the details (timelines, per-run figures) go on one line: readable top, small file
        marker = "\u0000details\u0000"
        text = json.dumps({**result, "details": marker}, indent=1)
        details = json.dumps(result.get("details", {}), separators=(",", ":"))
        tmp.write_text(text.replace(json.dumps(marker), details) + "\n")
        tmp.replace(RESULTS / f"{stem}.json")
    summary = {k: v for k, v in result.items() if k != "details"}
    print(json.dumps(summary, separators=(",", ":")), flush=True)
    if error is not None or (fail_below_bar and not result["pass"]):
        return 1
    return 0


def _wait_for_children(timeout: float) -> list[int]:
    """Give the children a moment to be reaped; kill and list whatever is still there."""
    deadline = time.monotonic() + timeout
    left = child_pids()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = child_pids()
    for pid in left:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if left:
        log(f"killed processes left behind: {left}")
    return left
