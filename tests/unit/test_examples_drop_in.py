"""Each example written for the official trino client has a prestoha twin one line apart.

The twins live in examples/drop_in as ``<name>_trino.py`` and ``<name>_prestoha.py``; the line
that differs is the import of ``connect``, nothing else.
"""

from __future__ import annotations

import ast
import difflib
from pathlib import Path

import pytest

DROP_IN = Path(__file__).resolve().parents[2] / "examples" / "drop_in"
ORIGINALS = sorted(DROP_IN.glob("*_trino.py"))


def test_there_is_a_script_and_an_airflow_style_hook() -> None:
    assert {p.name for p in ORIGINALS} >= {"report_trino.py", "airflow_hook_trino.py"}
    twins = {p.name.replace("_prestoha.py", "_trino.py") for p in DROP_IN.glob("*_prestoha.py")}
    assert twins == {p.name for p in ORIGINALS}, "every file has its twin"


@pytest.mark.parametrize("original", ORIGINALS, ids=lambda p: p.stem)
def test_the_twins_differ_by_the_import_of_connect_alone(original: Path) -> None:
    twin = original.with_name(original.name.replace("_trino.py", "_prestoha.py"))
    before = original.read_text(encoding="utf-8").splitlines()
    after = twin.read_text(encoding="utf-8").splitlines()
    changed = [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == ["-from trino.dbapi import connect", "+from prestoha import connect"]
    assert len(before) == len(after)


@pytest.mark.parametrize("path", sorted(DROP_IN.glob("*.py")), ids=lambda p: p.stem)
def test_the_twins_use_connect_and_catch_trinos_errors(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    imported = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert any(module == "trino.exceptions" for module, _ in imported)
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert "connect" in calls
