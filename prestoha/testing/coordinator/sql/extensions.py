"""DuckDB extensions of the emulator, loaded from their PyPI wheels, never downloaded.

``icu`` gives time zones and ``inet`` IP addresses (the ``tpch`` and ``tpcds`` catalogs'
data comes from tpcgen-cli, see :mod:`.catalogs.tpcgen`). Each wheel
(``duckdb-extension-<name>``) carries ``extensions/v<version>/<name>.duckdb_extension`` for
exactly one DuckDB version; a wheel missing or built for another DuckDB fails here with the
command that installs matching ones.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

__all__ = [
    "EXTENSIONS",
    "INSTALL_HINT",
    "MissingDependencyError",
    "extension_path",
    "load_extensions",
    "require_extensions",
]

EXTENSIONS = ("icu", "inet")
INSTALL_HINT = "pip install 'prestoha[testing]'"


class MissingDependencyError(ImportError):
    """DuckDB or one of its extension wheels is missing or does not match; one-line message."""


def _duckdb_version() -> str:
    try:
        import duckdb
    except ImportError as exc:
        raise MissingDependencyError(
            f"the emulated coordinator needs DuckDB ({exc}): {INSTALL_HINT}"
        ) from None
    return str(duckdb.__version__)


def extension_path(name: str) -> Path:
    """The ``.duckdb_extension`` file of the installed wheel for this DuckDB version."""
    version = _duckdb_version()
    package = f"duckdb_extension_{name}"
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):  # ValueError: imported before without a spec
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"the emulated coordinator needs the DuckDB extension wheel "
            f"duckdb-extension-{name}=={version}: {INSTALL_HINT}"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "extensions"
    path = root / f"v{version}" / f"{name}.duckdb_extension"
    if not path.is_file():
        built = sorted(p.name for p in root.glob("v*")) if root.is_dir() else []
        raise MissingDependencyError(
            f"duckdb-extension-{name} is built for DuckDB {', '.join(built) or 'no version'}, "
            f"not v{version}: {INSTALL_HINT}"
        )
    return path


def require_extensions() -> None:
    """Raise :class:`MissingDependencyError` unless DuckDB and every extension wheel match."""
    for name in EXTENSIONS:
        extension_path(name)


def load_extensions(con: Any, names: tuple[str, ...] = EXTENSIONS) -> None:
    """Load ``names`` into the DuckDB connection ``con`` from their wheels.

    Loading ``icu`` makes DuckDB's ``TimeZone`` setting the machine's zone; it is reset to UTC,
    the zone the emulator computes in (sessions set theirs per statement).
    """
    for name in names:
        path = str(extension_path(name))
        con.execute("LOAD '" + path.replace("'", "''") + "'")
    if "icu" in names:
        con.execute("SET GLOBAL TimeZone = 'UTC'")
