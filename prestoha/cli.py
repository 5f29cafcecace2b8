"""The ``prestoha`` command line (needs ``prestoha[cli]``: click and rich)."""

from __future__ import annotations

import click

from prestoha._version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prestoha")
def cli() -> None:
    """prestoha: Trino and Presto without a single point of failure.

    Run an agent beside each coordinator, and point clients at ZooKeeper.
    """


@cli.command()
def demo() -> None:
    """Run the failover demo: a local cluster, a leader killed, queries that keep working."""
    click.echo(
        f"prestoha {__version__}: the failover demo needs the driver and the local cluster, "
        "which are not built yet; nothing to show."
    )


# the cluster commands (agent, sandbox, status) register themselves on `cli`
from prestoha import _cli_cluster  # noqa: E402, F401
