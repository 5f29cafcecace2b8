"""``prestoha demo``: the failover demo, as a command of the ``prestoha`` group.

The scenario is :mod:`~prestoha.testing.commands.scenario`; what it shows is
:mod:`~prestoha.testing.commands.demo_view`.
"""

from __future__ import annotations

import sys

import click

from prestoha.routing import RoutingMode
from prestoha.testing.commands import flavor_option

__all__ = ["demo"]


@click.command()
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 32))
@click.option(
    "--mode",
    default="leader",
    show_default=True,
    type=click.Choice([mode.value for mode in RoutingMode]),
    help="routing mode of the demo's connection",
)
@click.option("--json", "as_json", is_flag=True, help="print only a JSON summary on stdout")
@click.option("--plain", is_flag=True, help="no live view: one line per step")
@flavor_option
def demo(threads: int, mode: str, as_json: bool, plain: bool, flavor: str) -> None:
    """Run the failover demo: a local cluster, its leader killed, queries that keep working.

    Starts ZooKeeper, three emulated coordinators and their agents (real processes), runs
    queries on several threads, SIGKILLs the leader, restarts it and prints what happened.
    Ctrl-C stops it and every process it started.
    """
    import importlib.util

    if importlib.util.find_spec("duckdb") is None:
        raise click.ClickException(
            "the demo runs emulated coordinators, which need: pip install 'prestoha[testing]'"
        )
    from prestoha.testing.commands.demo_view import run_demo

    sys.exit(run_demo(threads=threads, mode=mode, as_json=as_json, plain=plain, flavor=flavor))
