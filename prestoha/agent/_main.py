"""``prestoha agent`` and ``python -m prestoha.agent``: parse, set up logging, run the agent."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence

from prestoha.agent._agent import Agent
from prestoha.agent._config import AgentConfig, build_parser
from prestoha.discovery import KAZOO_LOGGER
from prestoha.errors import ConfigurationError

__all__ = ["main"]

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def main(argv: Sequence[str] | None = None, prog: str = "prestoha agent") -> int:
    """Parse ``argv``, run the agent, return its exit code (2 for a configuration error)."""
    args = build_parser(prog).parse_args(argv)
    with _logs_on_stderr(args.log_level):
        return _run(args, prog)


def _run(args: argparse.Namespace, prog: str) -> int:
    try:
        config = AgentConfig.from_args(args)
        agent = Agent(config)
    except ConfigurationError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    port = args.metrics_port
    if port is not None:
        try:
            from prestoha.agent.metrics import serve_agent

            serve_agent(agent, port, args.metrics_addr)
        except ImportError:
            print(f"{prog}: --metrics-port needs pip install 'prestoha[metrics]'", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"{prog}: --metrics-port {port}: {exc}", file=sys.stderr)
            return 2
    return agent.run()


@contextlib.contextmanager
def _logs_on_stderr(level_name: str) -> Iterator[None]:
    """The agent's log lines on stderr while ``main`` runs; afterwards the logging setup is as
    it was (``main`` also runs inside other programs: ``prestoha agent``, tests).

    A handler is added to the root logger only when it has none, as ``logging.basicConfig``
    does. kazoo's records stay below ERROR filtered out by discovery, unless ``debug`` asks for
    them: then its logger gets a level for as long as the agent runs.
    """
    root = logging.getLogger()
    kazoo = logging.getLogger(KAZOO_LOGGER)
    before = (root.level, kazoo.level)
    handler: logging.Handler | None = None
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
        root.setLevel(getattr(logging, level_name.upper()))
    if level_name == "debug":
        kazoo.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        if handler is not None:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(before[0])
        kazoo.setLevel(before[1])
