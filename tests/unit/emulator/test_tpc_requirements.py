"""Without DuckDB, an extension wheel or tpcgen-cli the emulator refuses to start, in one line;
a failed generation is one error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from prestoha.testing.coordinator.sql.catalogs import CatalogError, tpcgen

HINT = "pip install 'prestoha[testing]'"


def _run(hidden: str, code: str) -> subprocess.CompletedProcess[str]:
    # A None entry in sys.modules makes "import <name>" fail as if it were not installed; a
    # binary name that exists nowhere stands for an uninstalled tpcgen-cli.
    if hidden == "tpcgen-cli":
        prelude = (
            "import sys\nfrom prestoha.testing.coordinator.sql.catalogs import tpcgen\n"
            "tpcgen.BINARY = 'tpcgen-cli-not-installed'\n"
        )
    else:
        prelude = f"import sys; sys.modules[{hidden!r}] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("hidden", ["duckdb", "duckdb_extension_icu", "tpcgen-cli"])
def test_the_command_refuses_to_start(hidden: str) -> None:
    done = _run(
        hidden,
        "from prestoha.testing.coordinator.__main__ import main\nsys.exit(main(['--port', '0']))",
    )
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].endswith(HINT)


@pytest.mark.parametrize("hidden", ["duckdb", "tpcgen-cli"])
def test_coordinator_refuses_to_start(hidden: str) -> None:
    done = _run(
        hidden,
        "from prestoha.testing.coordinator import Coordinator\n"
        "try:\n"
        "    Coordinator(port=0)\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n",
    )
    assert done.returncode == 3
    assert done.stdout.strip().endswith(HINT) and len(done.stdout.strip().splitlines()) == 1


def test_a_failed_generation_is_one_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as err:
        tpcgen.run("tpch", 0.01, tmp_path, ["no_such_table"])
    assert err.value.error_name == "GENERIC_INTERNAL_ERROR"
    assert "no_such_table" in err.value.message and "\n" not in err.value.message
