"""The ``prestoha`` command (``pip install 'prestoha[cli]'``: click and rich).

The package owns the command group (``_group``), one module per subcommand (``query``,
``status``, ``agent``) and what they print (``_output``). ``demo`` and ``sandbox`` need the test
tooling, so they live in :mod:`prestoha.testing.commands` and join the group through the
``prestoha.commands`` entry points. Importing this package needs neither click nor rich:
:func:`main` says how to get them when they are missing; ``cli``, the click group, is imported on
first use.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prestoha.cli._group import cli

__all__ = ["cli", "main"]

_CLI_PACKAGES = {"click", "rich"}


def main() -> None:
    """Run the ``prestoha`` command (the console script and ``python -m prestoha``)."""
    try:
        from prestoha.cli._group import cli
    except ImportError as exc:
        if exc.name not in _CLI_PACKAGES:
            raise
        print(
            "The prestoha command needs its optional dependencies: pip install 'prestoha[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    cli()


def __getattr__(name: str) -> Any:
    # the group needs click: import it only when it is asked for
    if name == "cli":
        from prestoha.cli._group import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
