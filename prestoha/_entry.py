"""The ``prestoha`` console script: the CLI when its extra is installed, a hint otherwise."""

from __future__ import annotations

import sys

_CLI_PACKAGES = {"click", "rich"}


def main() -> None:
    """Run the ``prestoha`` command."""
    try:
        from prestoha.cli import cli
    except ImportError as exc:
        if exc.name not in _CLI_PACKAGES:
            raise
        print(
            "The prestoha command needs its optional dependencies: pip install 'prestoha[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    cli()
