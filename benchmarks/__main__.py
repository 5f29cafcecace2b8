"""``python -m benchmarks``: run every benchmark, one process each, and sum up their results.

Each benchmark prints its progress and its JSON line as it goes; at the end a table lists
each one's ratio, bar and verdict. ``--only B1,B5`` or ``--only overhead_stream`` picks some;
``--soak-seconds N`` adds the reliability soak. Afterwards ``docs/benchmarks.md`` is refreshed
from the result files (``--no-report`` skips it). The exit status is non-zero when a benchmark
could not run to its end (a missed bar is a figure, not an error), or when the soak found an
invariant broken.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BENCHMARKS = [
    ("B1", "overhead_stream"),
    ("B2", "overhead_small"),
    ("B3", "prefetch"),
    ("B4", "memory"),
    ("B4c", "memory_columnar"),
    ("B5", "failover_kill"),
    ("B5p", "failover_kill_prestodb"),
    ("B6", "failover_hang"),
    ("B7", "slow_node"),
    ("B8", "hedge"),
    ("B9", "midstream"),
    ("B10", "columnar"),
    ("B11", "concurrency_async"),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--only", default="", help="comma-separated ids or names")
    p.add_argument("--soak-seconds", type=int, default=0, help="also run the soak this long")
    p.add_argument(
        "--no-report", action="store_true", help="do not refresh docs/benchmarks.md afterwards"
    )
    args = p.parse_args(argv)
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    chosen = [(i, n) for i, n in BENCHMARKS if not wanted or i in wanted or n in wanted]
    if args.soak_seconds > 0:
        chosen.append(("R1", "soak"))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    rows = []
    status = 0
    for bench_id, name in chosen:
        argv_ = [sys.executable, "-m", f"benchmarks.{name}"]
        if name == "soak":
            argv_ += ["--seconds", str(args.soak_seconds)]
        began = time.monotonic()
        proc = subprocess.run(
            argv_, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=False
        )
        sys.stdout.write(proc.stdout)
        sys.stdout.flush()
        last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "{}"
        try:
            result = json.loads(last)
        except json.JSONDecodeError:
            result = {}
        if proc.returncode != 0:
            status = 1
        rows.append(
            (
                bench_id,
                name,
                result.get("ratio"),
                result.get("pass"),
                result.get("error") or ("" if proc.returncode == 0 else f"exit {proc.returncode}"),
                round(time.monotonic() - began),
            )
        )
    print("\nid  name             ratio     pass   seconds  error", file=sys.stderr)
    for bench_id, name, ratio, ok, error, seconds in rows:
        verdict = "pass" if ok else "FAIL"
        print(
            f"{bench_id:3} {name:16} {ratio!s:9} {verdict:6} {seconds:7}  {error}", file=sys.stderr
        )
    if not args.no_report:
        from benchmarks import report

        report.main([])
    return status


if __name__ == "__main__":
    sys.exit(main())
