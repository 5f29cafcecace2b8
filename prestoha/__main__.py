"""``python -m prestoha`` runs the ``prestoha`` command."""

from prestoha.cli import main

main()
