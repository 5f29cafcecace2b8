from __future__ import annotations

import pickle

import pytest

import prestoha
from prestoha import errors

PEP249_PARENTS = {
    "Warning": Exception,
    "Error": Exception,
    "InterfaceError": errors.Error,
    "DatabaseError": errors.Error,
    "DataError": errors.DatabaseError,
    "OperationalError": errors.DatabaseError,
    "IntegrityError": errors.DatabaseError,
    "InternalError": errors.DatabaseError,
    "ProgrammingError": errors.DatabaseError,
    "NotSupportedError": errors.DatabaseError,
}

OURS = {
    "NoCoordinatorError": errors.OperationalError,
    "QueryOutcomeUnknownError": errors.OperationalError,
    "ResultDivergedError": errors.OperationalError,
    "DiscoveryError": errors.OperationalError,
    "ConfigurationError": errors.InterfaceError,
}


@pytest.mark.parametrize(("name", "parent"), sorted({**PEP249_PARENTS, **OURS}.items()))
def test_each_class_has_its_pep249_parent(name: str, parent: type[BaseException]) -> None:
    cls = getattr(errors, name)
    assert cls.__bases__ == (parent,)
    assert getattr(prestoha, name) is cls


def test_warning_is_not_an_error() -> None:
    assert not issubclass(errors.Warning, errors.Error)


def test_every_class_is_drawn_in_the_module_docstring() -> None:
    doc = errors.__doc__ or ""
    for name in {**PEP249_PARENTS, **OURS}:
        assert name in doc, name


def test_no_coordinator_lists_every_attempt() -> None:
    attempts = [
        errors.Attempt("http://c1:8080", "connection refused", 0.002),
        errors.Attempt("http://c2:8080", "HTTP 503 on submit", 0.051),
        errors.Attempt("http://c3:8080", "SERVER_STARTING_UP", 0.013, query_id="q3"),
    ]
    err = errors.NoCoordinatorError(attempts=attempts)
    text = str(err)
    lines = text.splitlines()
    assert lines[0] == "no coordinator could take the query"
    assert lines[1] == "attempts (3):"
    assert lines[2] == "  1. http://c1:8080: connection refused (0.00 s)"
    assert lines[3] == "  2. http://c2:8080: HTTP 503 on submit (0.05 s)"
    assert lines[4] == "  3. http://c3:8080: SERVER_STARTING_UP (0.01 s, query q3)"
    assert err.attempts == tuple(attempts)
    assert err.message == "no coordinator could take the query"


def test_outcome_unknown_carries_node_and_query_id() -> None:
    err = errors.QueryOutcomeUnknownError(
        "INSERT lost after it began", node="http://c1:8080", query_id="20260101_000000_00001_abcde"
    )
    assert isinstance(err, errors.OperationalError)
    assert err.node == "http://c1:8080"
    assert err.query_id == "20260101_000000_00001_abcde"
    assert str(err) == "INSERT lost after it began"


def test_result_diverged_counts_rows_compared() -> None:
    err = errors.ResultDivergedError("rows differ", rows_compared=300_000)
    assert err.rows_compared == 300_000


def test_configuration_error_names_option_and_accepted_values() -> None:
    err = errors.ConfigurationError(
        "mode", "unknown value 'primary'", "'leader', 'any', 'leader-preferred'"
    )
    assert err.option == "mode"
    assert (
        str(err) == "mode: unknown value 'primary' (accepted: 'leader', 'any', 'leader-preferred')"
    )


def test_error_without_attempts_is_just_the_message() -> None:
    assert str(errors.DiscoveryError("ZooKeeper at 127.0.0.1:1 is unreachable")) == (
        "ZooKeeper at 127.0.0.1:1 is unreachable"
    )
    assert errors.DiscoveryError("x").attempts == ()


@pytest.mark.parametrize(
    "err",
    [
        errors.QueryOutcomeUnknownError(
            "lost", node="http://c1:8080", query_id="q1", attempts=[errors.Attempt("c1", "x", 1.0)]
        ),
        errors.ResultDivergedError("diverged", rows_compared=7),
        errors.ConfigurationError("mode", "'x' is not allowed", "'leader'"),
        errors.NoCoordinatorError(attempts=[errors.Attempt("c1", "refused", 0.1)]),
        errors.ProgrammingError("SYNTAX_ERROR: bad"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_cross_process_boundaries_with_their_attributes(err: errors.Error) -> None:
    err.error_name = "NAME"
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert str(back) == str(err)
    assert back.__dict__ == err.__dict__
