"""pytest plugin ``prestoha``: fixtures for testing code that uses prestoha.

Installed with prestoha and loaded by pytest automatically (entry point ``pytest11``).
The fixtures are documented in docs/testing.md.
"""

from __future__ import annotations
