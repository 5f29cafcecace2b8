"""Commands of the ``prestoha`` group that need the test tooling (``prestoha[testing]``).

``demo`` (:mod:`~prestoha.testing.commands.demo`, with its ``scenario`` and ``demo_view``) and
``sandbox`` (:mod:`~prestoha.testing.commands.sandbox`) start a :class:`LocalCluster`. The library
never imports them: they join the CLI through the ``prestoha.commands`` entry points declared in
pyproject.toml.
"""

from __future__ import annotations

import click

__all__ = ["flavor_option"]

flavor_option = click.option(
    "--flavor",
    default="trino",
    show_default=True,
    type=click.Choice(["trino", "presto", "prestodb"]),
    help="what the coordinators are: Trino, Trino accepting X-Presto-* headers, or PrestoDB",
)
"""The ``--flavor`` option of ``demo`` and ``sandbox``: which coordinator the emulators play."""
