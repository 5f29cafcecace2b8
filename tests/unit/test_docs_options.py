"""docs/configuration.md documents every connect() option once, and nothing else.

Each option row gives its default, its URL parameter and its ``prestoha query`` flag; a flag the
page names must exist on the command, and every connection flag of the command must be there.
"""

from __future__ import annotations

import re
from pathlib import Path

from prestoha.cli.query import CONNECT_OPTIONS, query
from prestoha.dbapi.options import Options

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def option_rows() -> dict[str, list[str]]:
    """Rows of the tables whose first header cell is ``option``: name -> the other cells."""
    rows: dict[str, list[str]] = {}
    in_options_table = False
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            in_options_table = False
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells and cells[0] == "option":
            in_options_table = True
            continue
        if not in_options_table or set(cells[0]) <= {"-", ":"}:
            continue
        name = re.fullmatch(r"`([a-z_]+)`", cells[0])
        assert name, f"an option row must start with `name`: {line}"
        assert name.group(1) not in rows, f"{name.group(1)} is documented twice"
        rows[name.group(1)] = cells[1:]
    return rows


def test_every_option_is_documented_once_and_only_options_are() -> None:
    documented = set(option_rows())
    options = set(Options.__dataclass_fields__)
    assert documented - options == set(), "documented, but not an option of connect()"
    assert options - documented == set(), "options of connect() missing from the page"


def test_each_row_gives_default_url_parameter_cli_flag_and_meaning() -> None:
    for name, (default, url, flag, meaning) in option_rows().items():
        assert default and url and flag and meaning, name
        assert name in url or "URL" in url, f"{name}: the URL column names no parameter"


def test_the_cli_flags_on_the_page_are_the_commands() -> None:
    flags = {opt for param in query.params for opt in getattr(param, "opts", ())}
    rows = option_rows()
    for name, (_default, _url, flag, _meaning) in rows.items():
        if flag == "—":
            assert name not in CONNECT_OPTIONS, f"{name} is a flag of prestoha query"
            continue
        named = re.findall(r"--[a-z-]+", flag)
        assert named, f"{name}: no --flag in {flag!r}"
        assert set(named) <= flags, f"{name}: {named} not all flags of prestoha query"
        if name in CONNECT_OPTIONS:
            assert f"--{name.replace('_', '-')}" in named, name
    assert set(CONNECT_OPTIONS) <= set(rows)
