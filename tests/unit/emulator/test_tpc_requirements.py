"""Without DuckDB or its extension wheels the emulator refuses to start, with one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

HINT = "pip install 'prestoha[testing]'"


def _run(hidden: str, code: str) -> subprocess.CompletedProcess[str]:
    # A None entry in sys.modules makes "import <name>" fail as if it were not installed.
    prelude = f"import sys; sys.modules[{hidden!r}] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("hidden", ["duckdb", "duckdb_extension_tpcds"])
def test_the_command_refuses_to_start(hidden: str) -> None:
    done = _run(
        hidden,
        "from prestoha.testing.coordinator.__main__ import main\nsys.exit(main(['--port', '0']))",
    )
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].endswith(HINT)


def test_coordinator_refuses_to_start() -> None:
    done = _run(
        "duckdb",
        "from prestoha.testing.coordinator import Coordinator\n"
        "try:\n"
        "    Coordinator(port=0)\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n",
    )
    assert done.returncode == 3
    assert done.stdout.strip().endswith(HINT) and len(done.stdout.strip().splitlines()) == 1
