"""tpcgen-cli, the generator of the ``tpch`` and ``tpcds`` catalogs' data.

tpcgen-cli (PyPI ``tpcgen-cli``, datafusion-contrib/tpcgen-rs) ports the generators of Trino's
connectors, trinodb/tpch and trinodb/tpcds, and writes their rows as Parquet. Its wheel puts
one binary beside the Python interpreter (the environment's scripts directory); it is run as a
subprocess, found there first and on ``PATH`` otherwise.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

from prestoha.testing.coordinator.sql.catalogs import CatalogError
from prestoha.testing.coordinator.sql.extensions import INSTALL_HINT, MissingDependencyError

__all__ = ["BINARY", "DISTRIBUTION", "executable", "run", "version"]

DISTRIBUTION = "tpcgen-cli"
BINARY = "tpcgen-cli"


def executable() -> str:
    """The path of the tpcgen-cli binary; :class:`MissingDependencyError` (one line) if none."""
    name = BINARY + (".exe" if os.name == "nt" else "")
    folders = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    for folder in folders:
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(BINARY)
    if found is None:
        raise MissingDependencyError(
            f"the tpch and tpcds catalogs need {BINARY}, found neither in "
            f"{' nor '.join(dict.fromkeys(folders))} nor on PATH: {INSTALL_HINT}"
        )
    return found


def version() -> str:
    """The installed tpcgen-cli version (part of the cache path: its output is pinned to it)."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # a binary on PATH, not from the wheel
        done = subprocess.run(
            [executable(), "--version"], capture_output=True, text=True, check=False
        )
        words = done.stdout.split()
        return words[-1] if done.returncode == 0 and words else "unknown"


def run(benchmark: str, scale: float, out: Path, tables: Sequence[str], *extra: str) -> None:
    """Write ``tables`` of ``benchmark`` at ``scale`` as ``out/<table>.parquet``."""
    command = [
        executable(),
        benchmark,
        "parquet",
        f"--scale-factor={scale!r}",
        f"--output-dir={out}",
        f"--tables={','.join(tables)}",
        "--quiet",
        "--no-progress",
        *extra,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise CatalogError(
            f"{BINARY} could not generate {benchmark} at scale factor {scale:g}: {why}",
            "GENERIC_INTERNAL_ERROR",
        )
