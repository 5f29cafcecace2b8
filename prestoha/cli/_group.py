"""The ``prestoha`` click group: its own subcommands, and those other packages contribute.

Commands of other packages are entry points of the group :data:`COMMANDS_GROUP` (``demo`` and
``sandbox`` come from :mod:`prestoha.testing.commands`), loaded only when the command line needs
them. One that cannot be loaded (an extra is missing) still shows in ``--help`` and, when it is
run, says what to install.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import click

from prestoha._version import __version__
from prestoha.cli.agent import agent
from prestoha.cli.query import query
from prestoha.cli.status import status

__all__ = ["COMMANDS_GROUP", "CommandGroup", "cli"]

#: The entry-point group whose ``name = module:command`` entries become subcommands.
COMMANDS_GROUP = "prestoha.commands"


class CommandGroup(click.Group):
    """A click group that adds the commands found in :data:`COMMANDS_GROUP`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The group's own commands and the entry points' names, sorted."""
        return sorted({*super().list_commands(ctx), *(ep.name for ep in _entry_points())})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """An own command, else the entry point of that name, loaded now."""
        found = super().get_command(ctx, cmd_name)
        if found is not None:
            return found
        for ep in _entry_points():
            if ep.name == cmd_name:
                return _load(ep)
        return None


def _entry_points() -> tuple[importlib.metadata.EntryPoint, ...]:
    return tuple(importlib.metadata.entry_points(group=COMMANDS_GROUP))


def _load(ep: importlib.metadata.EntryPoint) -> click.Command:
    try:
        command = ep.load()
    except Exception as exc:  # a broken plugin must not take the other commands down
        return _unavailable(ep, exc)
    if not isinstance(command, click.Command):
        return _unavailable(ep, TypeError(f"{ep.value} is not a click command"))
    return command


def _unavailable(ep: importlib.metadata.EntryPoint, exc: Exception) -> click.Command:
    extras = ",".join(ep.extras)
    if isinstance(exc, ImportError) and extras:
        problem = f"prestoha {ep.name} needs: pip install 'prestoha[{extras}]' ({exc})"
    else:
        problem = f"prestoha {ep.name} could not be loaded: {type(exc).__name__}: {exc}"

    def unavailable(**_params: Any) -> None:
        raise click.ClickException(problem)

    return click.Command(
        ep.name,
        callback=unavailable,
        help=problem,
        short_help=f"(not installed: prestoha[{extras}])" if extras else "(broken)",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prestoha")
def cli() -> None:
    """prestoha: Trino and Presto without a single point of failure.

    Run an agent beside each coordinator, and point clients at ZooKeeper.
    Start with `prestoha demo`.
    """


cli.add_command(agent)
cli.add_command(query)
cli.add_command(status)
