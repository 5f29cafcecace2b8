"""Commands of the ``prestoha`` group that need the test tooling (``prestoha[testing]``).

``demo`` (:mod:`~prestoha.testing.commands.demo`, with its ``scenario`` and ``demo_view``) and
``sandbox`` (:mod:`~prestoha.testing.commands.sandbox`) start a :class:`LocalCluster`. The library
never imports them: they join the CLI through the ``prestoha.commands`` entry points declared in
pyproject.toml.
"""
