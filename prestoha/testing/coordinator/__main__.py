"""``python -m prestoha.testing.coordinator``: run one emulated coordinator.

Prints its URI as the only line on stdout once listening; logs go to stderr; exits 0 on
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

from .http import Coordinator, SpoolingConfig


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m prestoha.testing.coordinator",
        description="An emulated Trino coordinator (client protocol over HTTP, SQL on DuckDB).",
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (0 = any free port)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--node-id", default="c1", help="node id reported by /v1/status")
    p.add_argument("--lake", default=None, metavar="DIR", help="directory of the shared lake")
    p.add_argument("--journal", default=None, metavar="FILE", help="JSON-lines write journal")
    p.add_argument("--admin", action="store_true", help="enable the /_emulator admin API")
    p.add_argument(
        "--flavor",
        choices=("trino", "presto", "prestodb"),
        default="trino",
        help="trino; presto = Trino accepting X-Presto-* headers too; prestodb = a PrestoDB "
        "0.29x coordinator",
    )
    p.add_argument("--environment", default="test")
    p.add_argument(
        "--version",
        default=None,
        help="nodeVersion reported by /v1/info (default 475, or 0.289 with --flavor prestodb)",
    )
    p.add_argument(
        "--client-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="fail queries nobody polls for this long (ABANDONED_QUERY)",
    )
    p.add_argument(
        "--purge-after",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="forget finished queries after this long",
    )
    p.add_argument(
        "--engine-factory",
        default=None,
        metavar="MODULE:CALLABLE",
        help="build the SQL engine with this callable instead of the built-in DuckDB engine "
        "(called with the Engine keyword arguments; for protocol tests and benchmarks)",
    )
    p.add_argument(
        "--spooling",
        action="store_true",
        help="answer clients that send X-Trino-Query-Data-Encoding with the spooling protocol",
    )
    defaults = SpoolingConfig()
    p.add_argument(
        "--spooling-segment-size",
        type=int,
        default=defaults.segment_size,
        metavar="BYTES",
        help="target uncompressed size of a spooled segment",
    )
    p.add_argument(
        "--spooling-inline-max-bytes",
        type=int,
        default=defaults.inline_max_bytes,
        metavar="BYTES",
        help="segments up to this size (and 1000 rows) are inlined in the page",
    )
    p.add_argument(
        "--spooling-ttl",
        type=float,
        default=defaults.segment_ttl,
        metavar="SECONDS",
        help="spooled segments expire after this long",
    )
    p.add_argument("--log-level", default="WARNING", help="log level for stderr")
    return p


def _load_factory(spec: str) -> Any:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError("expected MODULE:CALLABLE")
    return getattr(importlib.import_module(module_name), attr)


def main(argv: list[str] | None = None) -> int:
    """Run until SIGTERM/SIGINT; return the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s [{args.node_id}] %(name)s: %(message)s",
    )
    if args.port < 0 or args.port > 65535:
        print(f"error: --port must be 0..65535, got {args.port}", file=sys.stderr)
        return 2
    try:
        spooling_config = SpoolingConfig(
            segment_size=args.spooling_segment_size,
            inline_max_bytes=args.spooling_inline_max_bytes,
            segment_ttl=args.spooling_ttl,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine = None
    if args.engine_factory:
        try:
            engine = _load_factory(args.engine_factory)(
                node_id=args.node_id,
                lake_dir=args.lake,
                environment=args.environment,
                version=args.version,
            )
        except Exception as exc:
            print(f"error: --engine-factory {args.engine_factory}: {exc}", file=sys.stderr)
            return 2
    try:
        coordinator = _coordinator(args, engine, spooling_config)
    except ImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        coordinator.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(coordinator.uri + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        coordinator.stop()
    return 0


def _coordinator(args: Any, engine: Any, spooling_config: SpoolingConfig) -> Coordinator:
    """The coordinator; ImportError (one line) when DuckDB or an extension wheel is missing."""
    return Coordinator(
        node_id=args.node_id,
        port=args.port,
        host=args.host,
        lake_dir=args.lake,
        journal=args.journal,
        admin=args.admin,
        flavor=args.flavor,
        environment=args.environment,
        version=args.version,
        client_timeout=args.client_timeout,
        purge_after=args.purge_after,
        engine=engine,
        spooling=args.spooling,
        spooling_config=spooling_config,
    )


if __name__ == "__main__":
    sys.exit(main())
