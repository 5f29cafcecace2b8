"""B4c memory_columnar: peak RSS growth streaming 1M and 10M rows as Arrow record batches.

The measurement of B4 (``benchmarks.memory``: a fresh child process per run, peak RSS reset
after a warm-up, nothing kept) with ``cursor.fetch_record_batch(100_000)``: the rows are
decoded from the coordinator's pages straight into Arrow columns, no Python object per value.
Runs alternate 1M, 10M, 1M, 10M... Bar: growth(10M) <= 1.1 x growth(1M), and <= 64 MiB.
"""

from __future__ import annotations

import sys

from benchmarks import _common as c
from benchmarks import memory


def work(small: int, large: int, rounds: int, batch: int) -> c.Outcome:
    outcome = memory.measure(small, large, rounds, ["fetch_record_batch"], batch)
    outcome.config["read_through"] = f"cursor.fetch_record_batch({batch})"
    return outcome


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0], limit=3600)
    p.add_argument("--small", type=int, default=1_000_000)
    p.add_argument("--large", type=int, default=10_000_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch", type=int, default=100_000)
    args = p.parse_args(argv)
    return c.run(
        "B4c",
        "memory_columnar",
        "peak RSS growth streaming 1M and 10M rows through fetch_record_batch(100_000)",
        lambda: work(args.small, args.large, args.rounds, args.batch),
        args=args,
    )


if __name__ == "__main__":
    sys.exit(main())
