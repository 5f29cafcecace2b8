"""``prestoha agent``: the command line of :mod:`prestoha.agent`, passed through untouched."""

from __future__ import annotations

import sys

import click

__all__ = ["agent"]


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def agent(args: tuple[str, ...]) -> None:
    """Run beside a coordinator: health-check it, register it in ZooKeeper, elect a leader.

    prestoha agent --coordinator URL --zk HOSTS [--cluster NAME] [--node-id ID] ...
    (see prestoha agent --help).
    """
    from prestoha.agent import main

    sys.exit(main(list(args), prog="prestoha agent"))
