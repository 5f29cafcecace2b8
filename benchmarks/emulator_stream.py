"""How fast the coordinator emulator streams rows to the unmodified ``trino`` client.

Measures, with the emulator in its own process:
- rows/s streaming 1,000,000 rows of (bigint, varchar, double, timestamp) through
  ``trino.dbapi`` (median of ``--repeat`` runs), with the real SQL engine and with a synthetic
  engine that only produces rows (so the protocol's own cost is visible);
- the emulator's peak RSS while streaming 10,000,000 rows (``VmHWM`` of the process).

Usage: ``python benchmarks/emulator_stream.py [--rows N] [--memory-rows N] [--repeat K]``.
The last line of output is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import trino
import trino.dbapi

from prestoha.testing.coordinator.process import EmulatorProcess

HERE = Path(__file__).resolve().parent

BIGINT = {"rawType": "bigint", "arguments": []}
VARCHAR = {"rawType": "varchar", "arguments": [{"kind": "LONG", "value": 2147483647}]}
DOUBLE = {"rawType": "double", "arguments": []}
TIMESTAMP3 = {"rawType": "timestamp", "arguments": [{"kind": "LONG", "value": 3}]}


def real_sql(rows: int) -> str:
    """A Trino query producing ``rows`` rows of (bigint, varchar, double, timestamp(3))."""
    outer = max(1, rows // 1000)
    return (
        "SELECT i * 1000 + j AS id, concat('name-', CAST(i * 1000 + j AS varchar)) AS name, "
        "CAST(i * 1000 + j AS double) / 3 AS value, "
        "TIMESTAMP '2024-01-01 00:00:00.000' + (i * 1000 + j) * INTERVAL '1' SECOND AS ts "
        f"FROM UNNEST(sequence(0, {outer - 1})) AS a(i) "
        "CROSS JOIN UNNEST(sequence(0, 999)) AS b(j)"
    )


class _Column:
    def __init__(self, name: str, type_: str, signature: dict[str, Any]) -> None:
        self.name, self.type, self.type_signature = name, type_, signature


class _Result:
    def __init__(self, rows: Iterator[list[Any]]) -> None:
        self.columns = [
            _Column("id", "bigint", BIGINT),
            _Column("name", "varchar", VARCHAR),
            _Column("value", "double", DOUBLE),
            _Column("ts", "timestamp(3)", TIMESTAMP3),
        ]
        self.rows = rows
        self.update_type = None
        self.update_count = None
        self.changes = None
        self.warnings: list[dict[str, Any]] = []
        self.read_only = True

    def close(self) -> None:
        return None


@functools.cache
def _one_day() -> list[str]:
    base = dt.datetime(2024, 1, 1)
    return [
        (base + dt.timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S.000") for s in range(86400)
    ]


def _synthetic_rows(n: int) -> Iterator[list[Any]]:
    # Timestamps repeat every day so that making a row costs next to nothing: this engine
    # shows what the protocol itself costs.
    day = _one_day()
    for i in range(n):
        yield [i, f"name-{i}", i / 3, day[i % 86400]]


class SyntheticEngine:
    """Answers ``synthetic N`` with N rows already encoded; nothing else."""

    def __init__(self, **kwargs: Any) -> None:
        del kwargs

    def is_read_only(self, sql: str, session: Any) -> bool:
        return True

    def execute(self, sql: str, session: Any, *, query_id: str) -> _Result:
        return _Result(_synthetic_rows(int(sql.split()[1])))

    def close(self) -> None:
        return None


def stream(uri: str, sql: str, **client: Any) -> tuple[int, float, float]:
    """Rows received, seconds taken and the client's CPU seconds, through the trino client
    (``client``: more arguments for ``trino.dbapi.connect``, such as ``encoding``)."""
    conn = trino.dbapi.connect(host=uri, user="bench", catalog="tpch", schema="tiny", **client)
    cur = conn.cursor()
    start = time.perf_counter()
    cpu = time.process_time()
    cur.execute(sql)
    count = 0
    while True:
        batch = cur.fetchmany(10000)
        if not batch:
            break
        count += len(batch)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    conn.close()
    return count, elapsed, cpu


def peak_rss(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process in bytes, from /proc."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024
    return fields["VmRSS"], fields["VmHWM"]


def _emulator(engine: str, tag: str) -> EmulatorProcess:
    extra: tuple[str, ...] = ()
    env = None
    if engine == "synthetic":
        extra = ("--engine-factory", "emulator_stream:SyntheticEngine")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    return EmulatorProcess(node_id=f"bench-{tag}", admin=False, extra_args=extra, env=env)


def throughput(engine: str, rows: int, repeat: int) -> dict[str, Any]:
    sql = f"synthetic {rows}" if engine == "synthetic" else real_sql(rows)
    with _emulator(engine, engine) as emu:
        stream(emu.uri, sql if engine == "synthetic" else real_sql(1000))  # warm up
        rates = []
        busy = []
        for _ in range(repeat):
            count, seconds, cpu = stream(emu.uri, sql)
            if count != rows:
                raise SystemExit(f"{engine}: expected {rows} rows, got {count}")
            rates.append(round(count / seconds))
            busy.append(round(cpu / seconds, 2))
            print(
                f"{engine}: {count} rows in {seconds:.2f}s = {count / seconds:,.0f} rows/s "
                f"(client CPU busy {cpu / seconds:.0%} of the time)"
            )
    return {
        "rows": rows,
        "rows_per_s_median": round(statistics.median(rates)),
        "runs": rates,
        "client_cpu_share": busy,
    }


def memory(engine: str, rows: int) -> dict[str, Any]:
    sql = f"synthetic {rows}" if engine == "synthetic" else real_sql(rows)
    with _emulator(engine, "mem") as emu:
        assert emu.pid is not None
        stream(emu.uri, sql if engine == "synthetic" else real_sql(1000))
        before, _ = peak_rss(emu.pid)
        count, seconds, _ = stream(emu.uri, sql)
        _, peak = peak_rss(emu.pid)
    mib = f"RSS before {before >> 20} MiB, peak {peak >> 20} MiB"
    print(f"{engine}: {count} rows in {seconds:.1f}s; {mib}")
    return {
        "rows": count,
        "seconds": round(seconds, 1),
        "rss_before_mib": before >> 20,
        "peak_rss_mib": peak >> 20,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--memory-rows", type=int, default=10_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--engines", default="real,synthetic")
    args = p.parse_args()
    engines = [e for e in args.engines.split(",") if e]
    result: dict[str, Any] = {
        "benchmark": "emulator_stream",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "trino_client": trino.__version__,
    }
    for engine in engines:
        result[f"stream_{engine}"] = throughput(engine, args.rows, args.repeat)
    if args.memory_rows:
        result[f"memory_{engines[0]}"] = memory(engines[0], args.memory_rows)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
