from __future__ import annotations

import subprocess
import sys

import prestoha

INTENDED = {
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "Date",
    "DateFromTicks",
    "HedgePolicy",
    "RetryPolicy",
    "RoutingPolicy",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "connect",
    "Attempt",
    "ConfigurationError",
    "DataError",
    "DatabaseError",
    "DiscoveryError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NoCoordinatorError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "QueryOutcomeUnknownError",
    "ResultDivergedError",
    "UnmappableValueError",
    "Warning",
    "__version__",
    "apilevel",
    "paramstyle",
    "threadsafety",
}


def test_all_is_exactly_the_intended_public_names() -> None:
    assert set(prestoha.__all__) == INTENDED
    assert len(prestoha.__all__) == len(INTENDED)
    for name in prestoha.__all__:
        assert hasattr(prestoha, name), name


def test_the_namespace_holds_the_public_names_and_subpackages_only() -> None:
    import types

    extra = {
        name
        for name, value in vars(prestoha).items()
        if not (name.startswith("__") and name.endswith("__")) and name not in INTENDED
    }
    modules = {name for name in extra if isinstance(vars(prestoha)[name], types.ModuleType)}
    assert extra == modules, f"not public: {sorted(extra - modules)}"
    private = sorted(name for name in modules if name.startswith("_"))
    assert not private, f"private modules in the namespace: {private}"


def test_pep249_globals() -> None:
    assert prestoha.apilevel == "2.0"
    assert prestoha.threadsafety == 2
    assert prestoha.paramstyle == "qmark"


def test_version_is_a_string() -> None:
    assert isinstance(prestoha.__version__, str)
    assert prestoha.__version__[0].isdigit()


def test_cli_help_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "prestoha", "--help"], capture_output=True, text=True, check=True
    )
    assert "Usage:" in out.stdout
    assert "prestoha" in out.stdout


def test_cli_without_its_extra_says_how_to_get_it() -> None:
    code = "import sys; sys.modules['click'] = None; from prestoha.cli import main; main()"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1
    assert "pip install 'prestoha[cli]'" in out.stderr
    assert "Traceback" not in out.stderr
