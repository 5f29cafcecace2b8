"""The ``prestoha`` command line (needs ``prestoha[cli]``: click and rich).

The group lives here; each command is in a sibling module that registers itself on it:
``demo`` (``_cli_demo``), ``query`` (``_cli_query``), ``agent``, ``sandbox`` and ``status``
(``_cli_cluster``).
"""

from __future__ import annotations

import click

from prestoha._version import __version__

__all__ = ["cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prestoha")
def cli() -> None:
    """prestoha: Trino and Presto without a single point of failure.

    Run an agent beside each coordinator, and point clients at ZooKeeper.
    Start with `prestoha demo`.
    """


# the commands register themselves on `cli`; order matters only for import cycles
from prestoha import _cli_cluster, _cli_demo, _cli_query  # noqa: E402, F401
