"""``python -m prestoha`` runs the ``prestoha`` command."""

from prestoha._entry import main

main()
