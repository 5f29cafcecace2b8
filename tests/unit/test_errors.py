from __future__ import annotations

import pickle
from typing import Any

import pytest
import trino.client
import trino.exceptions

import prestoha
from prestoha import errors

#: Each PEP 249 class's first base; the roots sit on trino's, themselves Exceptions.
PEP249_PARENTS: dict[str, type[BaseException]] = {
    "Warning": trino.exceptions.Warning,
    "Error": trino.exceptions.Error,
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
    "UnmappableValueError": errors.DataError,
}

#: Each class and the trino.exceptions class it also is (a code written for the official
#: client catches it): the table of docs/migrating.md.
ALSO_TRINO: dict[str, type[BaseException] | None] = {
    **{name: getattr(trino.exceptions, name) for name in PEP249_PARENTS},
    "NoCoordinatorError": trino.exceptions.TrinoConnectionError,
    "QueryOutcomeUnknownError": trino.exceptions.TrinoConnectionError,
    "DiscoveryError": trino.exceptions.TrinoConnectionError,
    "ResultDivergedError": None,
    "ConfigurationError": None,
    "InsecureCredentialsError": trino.exceptions.TrinoAuthError,
    "QueryError": trino.exceptions.TrinoQueryError,
    "UserError": trino.exceptions.TrinoUserError,
    "UserDataError": trino.exceptions.TrinoUserError,
    "UserNotSupportedError": trino.exceptions.TrinoUserError,
    "UserIntegrityError": trino.exceptions.TrinoUserError,
    "ExternalError": trino.exceptions.TrinoExternalError,
    "ServerInternalError": trino.exceptions.TrinoInternalError,
    "ResourcesError": trino.exceptions.TrinoQueryError,
    "HttpStatusError": trino.exceptions.HttpError,
    "BadRequestError": trino.exceptions.HttpError,
    "UnmappableValueError": trino.exceptions.TrinoDataError,
}


@pytest.mark.parametrize(("name", "parent"), sorted({**PEP249_PARENTS, **OURS}.items()))
def test_each_class_has_its_pep249_parent(name: str, parent: type[BaseException]) -> None:
    cls = getattr(errors, name)
    assert cls.__bases__[0] is parent
    assert getattr(prestoha, name) is cls


@pytest.mark.parametrize(("name", "trino_class"), sorted(ALSO_TRINO.items(), key=str))
def test_each_class_is_also_the_trino_clients(
    name: str, trino_class: type[BaseException] | None
) -> None:
    cls = getattr(errors, name)
    if trino_class is None:  # only the trino class of its PEP 249 parent
        base = next(c for c in cls.__mro__[1:] if c.__name__ in PEP249_PARENTS)
        trino_class = getattr(trino.exceptions, base.__name__)
        assert not issubclass(cls, trino.exceptions.TrinoConnectionError)
    assert issubclass(cls, trino_class)


def test_every_class_is_in_the_table_and_the_module_docstring() -> None:
    public = {
        n
        for n in errors.__all__
        if isinstance(getattr(errors, n), type) and issubclass(getattr(errors, n), Exception)
    }
    assert public == set(ALSO_TRINO)
    doc = errors.__doc__ or ""
    for name in public:
        assert f" {name} " in doc, name


def _error(error_type: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"errorType": error_type, "errorName": name, "errorCode": 7, "message": "m", **extra}


@pytest.mark.parametrize(
    ("error_type", "name", "cls", "pep249"),
    [
        ("USER_ERROR", "SYNTAX_ERROR", errors.UserError, errors.ProgrammingError),
        ("USER_ERROR", "TABLE_NOT_FOUND", errors.UserError, errors.ProgrammingError),
        ("USER_ERROR", "DIVISION_BY_ZERO", errors.UserDataError, errors.DataError),
        ("USER_ERROR", "INVALID_CAST_ARGUMENT", errors.UserDataError, errors.DataError),
        ("USER_ERROR", "NOT_SUPPORTED", errors.UserNotSupportedError, errors.NotSupportedError),
        ("USER_ERROR", "CONSTRAINT_VIOLATION", errors.UserIntegrityError, errors.IntegrityError),
        ("EXTERNAL", "HIVE_METASTORE_ERROR", errors.ExternalError, errors.OperationalError),
        (
            "INTERNAL_ERROR",
            "GENERIC_INTERNAL_ERROR",
            errors.ServerInternalError,
            errors.InternalError,
        ),
        (
            "INSUFFICIENT_RESOURCES",
            "EXCEEDED_TIME_LIMIT",
            errors.ResourcesError,
            errors.OperationalError,
        ),
        ("A_TYPE_TRINO_MAY_ADD", "X", errors.ResourcesError, errors.OperationalError),
    ],
)
def test_query_errors_are_classed_by_type_then_name(
    error_type: str, name: str, cls: type[errors.QueryError], pep249: type[errors.Error]
) -> None:
    err = errors.query_error(_error(error_type, name), "q1")
    assert type(err) is cls
    assert type(err).__bases__[0] is pep249
    # What the official client raises for the same error object, caught the same way.
    try:
        trino.client.TrinoRequest._process_error(_error(error_type, name), "q1")
    except trino.exceptions.TrinoQueryError as raised:
        theirs: trino.exceptions.TrinoQueryError = raised
    else:
        theirs = trino.client.TrinoRequest._process_error(_error(error_type, name), "q1")
    assert isinstance(err, type(theirs))


def test_a_query_error_reads_every_attribute_as_trinos_does() -> None:
    error = _error(
        "USER_ERROR",
        "COLUMN_NOT_FOUND",
        message="line 1:8: Column 'x' cannot be resolved",
        errorLocation={"lineNumber": 1, "columnNumber": 8},
        failureInfo={"type": "io.trino.spi.TrinoException", "message": "x"},
    )
    ours = errors.query_error(error, "20260101_000000_00001_abcde")
    theirs = trino.exceptions.TrinoUserError(error, "20260101_000000_00001_abcde")
    for attribute in TRINO_QUERY_ERROR_ATTRIBUTES:
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert repr(ours) == repr(theirs).replace("TrinoUserError", "UserError")
    # str() keeps prestoha's form: the error name first, the location once.
    assert str(ours) == "COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved"


#: Every public attribute of trino's TrinoQueryError, found the way a new one would be.
TRINO_QUERY_ERROR_ATTRIBUTES = sorted(
    name
    for name in vars(trino.exceptions.TrinoQueryError)
    if not name.startswith("_")
    and isinstance(vars(trino.exceptions.TrinoQueryError)[name], property)
)


def test_the_attributes_compared_are_all_of_trinos() -> None:
    assert set(TRINO_QUERY_ERROR_ATTRIBUTES) >= {
        "error_code",
        "error_name",
        "error_type",
        "error_exception",
        "error_location",
        "failure_info",
        "message",
        "query_id",
    }


def test_a_location_not_in_the_message_is_added_to_str() -> None:
    error = _error("USER_ERROR", "SYNTAX_ERROR", errorLocation={"lineNumber": 2, "columnNumber": 3})
    err = errors.query_error(error)
    assert str(err) == "SYNTAX_ERROR: m (line 2, column 3)"
    assert err.message == "m" and err.error_location == (2, 3) and err.query_id is None


def test_a_query_error_without_details_reads_as_trinos() -> None:
    err = errors.query_error({"errorType": "USER_ERROR"})
    theirs = trino.exceptions.TrinoUserError({"errorType": "USER_ERROR"})
    assert err.message == theirs.message == "Trino did not return an error message"
    assert err.error_location is None and err.failure_info is None and err.error_exception is None


@pytest.mark.parametrize(
    ("status", "cls", "pep249"),
    [
        (400, errors.BadRequestError, errors.ProgrammingError),
        (401, errors.HttpStatusError, errors.OperationalError),
        (403, errors.HttpStatusError, errors.OperationalError),
    ],
)
def test_a_refused_submission_is_also_trinos_http_error(
    status: int, cls: type[errors.Error], pep249: type[errors.Error]
) -> None:
    err = errors.http_error(status, f"coordinator refused: HTTP {status}")
    assert type(err) is cls and isinstance(err, pep249)
    assert isinstance(err, trino.exceptions.HttpError)
    assert err.status == status


def test_warning_is_not_an_error() -> None:
    assert not issubclass(errors.Warning, errors.Error)


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
        errors.query_error(
            {"errorType": "USER_ERROR", "errorName": "SYNTAX_ERROR", "message": "bad"},
            "q1",
            attempts=[errors.Attempt("c1", "", 0.1, "q1")],
        ),
        errors.http_error(401, "coordinator refused: HTTP 401"),
        errors.InsecureCredentialsError("auth", "over http"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_cross_process_boundaries_with_their_attributes(err: errors.Error) -> None:
    err.error_name = "NAME"
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert str(back) == str(err)
    assert back.__dict__ == err.__dict__
