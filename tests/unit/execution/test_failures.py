from __future__ import annotations

import socket
import threading

import pytest
import requests
import trino.exceptions

from prestoha import errors
from prestoha.execution import Cause, FailureKind, Phase, TransportError, classify
from prestoha.execution._http import cause_of


def _failed(exc: requests.exceptions.RequestException) -> TransportError:
    """What the HTTP transport raises for ``exc``."""
    return TransportError(cause_of(exc), str(exc))


def http_status_error(status: int, body: bytes) -> TransportError:
    return TransportError(Cause.HTTP_STATUS, status=status, body=body.decode())


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return int(port)


def _refused() -> TransportError:
    try:
        requests.get(f"http://127.0.0.1:{_closed_port()}/v1/info", timeout=2)
    except requests.exceptions.ConnectionError as exc:
        return _failed(exc)
    raise AssertionError("the closed port answered")


def _silent_server() -> tuple[socket.socket, int]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    return srv, srv.getsockname()[1]


def _read_timeout() -> TransportError:
    srv, port = _silent_server()
    try:
        requests.get(f"http://127.0.0.1:{port}/", timeout=(1, 0.2))
    except requests.exceptions.ReadTimeout as exc:
        return _failed(exc)
    finally:
        srv.close()
    raise AssertionError("the silent server answered")


def _reset_mid_response() -> TransportError:
    srv, port = _silent_server()

    def serve() -> None:
        conn, _ = srv.accept()
        conn.recv(4096)
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"id":')
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        requests.get(f"http://127.0.0.1:{port}/", timeout=2).content  # noqa: B018
    except requests.exceptions.RequestException as exc:
        return _failed(exc)
    finally:
        t.join(2)
        srv.close()
    raise AssertionError("the cut response was read whole")


def test_refused_on_submit_means_nothing_ran_and_node_down() -> None:
    f = classify(_refused(), Phase.SUBMIT)
    assert f.kind is FailureKind.NOT_RUN
    assert f.nothing_ran and f.node_down
    assert f.reason == "connection refused"


def test_refused_while_running_is_lost() -> None:
    f = classify(_refused(), Phase.EXECUTE)
    assert f.kind is FailureKind.LOST
    assert f.node_down and not f.nothing_ran


def test_unanswered_submit_ran_nothing_and_takes_the_silent_node_out() -> None:
    f = classify(_read_timeout(), Phase.SUBMIT)
    assert f.kind is FailureKind.NOT_RUN and f.nothing_ran
    assert f.node_down


def test_unanswered_fetch_is_lost() -> None:
    f = classify(_read_timeout(), Phase.EXECUTE)
    assert f.kind is FailureKind.LOST
    assert f.reason == "no answer while running"


def test_connection_cut_mid_response_is_lost_and_node_suspect() -> None:
    f = classify(_reset_mid_response(), Phase.EXECUTE)
    assert f.kind is FailureKind.LOST
    assert f.node_down


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retryable_status_on_submit_ran_nothing(status: int) -> None:
    f = classify(http_status_error(status, b"busy"), Phase.SUBMIT)
    assert f.kind is FailureKind.NOT_RUN and f.nothing_ran
    assert f.reason == f"HTTP {status}: busy"


def test_bad_request_on_submit_fails_the_query() -> None:
    f = classify(http_status_error(400, b"User must be set"), Phase.SUBMIT)
    assert f.kind is FailureKind.QUERY_FAILED
    assert isinstance(f.error, errors.ProgrammingError)
    assert "User must be set" in str(f.error)


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_any_status_mid_stream_is_lost(status: int) -> None:
    f = classify(http_status_error(status, b"Query not found"), Phase.EXECUTE)
    assert f.kind is FailureKind.LOST


def _query_error(name: str, kind: str, code: int = 1) -> trino.exceptions.TrinoQueryError:
    return trino.exceptions.TrinoQueryError(
        {
            "message": f"{name} happened",
            "errorCode": code,
            "errorName": name,
            "errorType": kind,
            "errorLocation": {"lineNumber": 1, "columnNumber": 8},
            "failureInfo": {"type": "io.trino.x"},
        },
        "20260101_000000_00001_abcde",
    )


def test_user_error_fails_at_once_with_trino_details() -> None:
    f = classify(_query_error("TABLE_NOT_FOUND", "USER_ERROR", 46), Phase.EXECUTE)
    assert f.kind is FailureKind.QUERY_FAILED
    err = f.error
    assert isinstance(err, errors.ProgrammingError)
    assert err.error_name == "TABLE_NOT_FOUND"
    assert err.error_code == 46
    assert err.error_type == "USER_ERROR"
    assert err.query_id == "20260101_000000_00001_abcde"
    assert "line 1, column 8" in str(err)


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("DIVISION_BY_ZERO", errors.DataError),
        ("NOT_SUPPORTED", errors.NotSupportedError),
        ("SYNTAX_ERROR", errors.ProgrammingError),
    ],
)
def test_user_errors_map_to_pep249_classes(name: str, cls: type[errors.Error]) -> None:
    f = classify(_query_error(name, "USER_ERROR"), Phase.EXECUTE)
    assert type(f.error).__bases__[0] is cls  # and the trino client's class for it:
    assert isinstance(f.error, trino.exceptions.TrinoUserError)


@pytest.mark.parametrize(
    "name", ["SERVER_STARTING_UP", "SERVER_SHUTTING_DOWN", "NO_NODES_AVAILABLE"]
)
def test_not_now_errors(name: str) -> None:
    f = classify(_query_error(name, "INTERNAL_ERROR", 65548), Phase.EXECUTE)
    assert f.kind is FailureKind.NOT_NOW
    assert not f.nothing_ran
    f = classify(_query_error(name, "INTERNAL_ERROR", 65548), Phase.SUBMIT)
    assert f.nothing_ran


def test_insufficient_resources_is_an_operational_failure() -> None:
    f = classify(_query_error("EXCEEDED_TIME_LIMIT", "INSUFFICIENT_RESOURCES"), Phase.EXECUTE)
    assert f.kind is FailureKind.QUERY_FAILED
    assert type(f.error) is errors.ResourcesError
    assert isinstance(f.error, errors.OperationalError)


def test_garbage_answer_is_not_a_crash() -> None:
    f = classify(ValueError("Expecting value: line 1 column 1 (char 0)"), Phase.EXECUTE)
    assert f.kind is FailureKind.LOST
    assert f.reason.startswith("malformed answer")


def test_only_a_connection_never_opened_means_the_request_was_not_sent() -> None:
    assert _refused().cause.never_sent
    assert not _read_timeout().cause.never_sent
    assert not _reset_mid_response().cause.never_sent


def test_a_reset_is_not_called_refused() -> None:
    srv, port = _silent_server()

    def serve() -> None:
        conn, _ = srv.accept()
        conn.recv(4096)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with pytest.raises(requests.exceptions.ConnectionError) as info:
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        t.join(2)
        srv.close()
    err = _failed(info.value)
    assert err.cause is Cause.RESET
    f = classify(err, Phase.EXECUTE)
    assert f.reason == "connection reset"
    assert f.kind is FailureKind.LOST and f.node_down


def test_a_name_that_does_not_resolve_is_not_called_refused() -> None:
    try:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    except socket.gaierror as dns:
        wrapped = requests.exceptions.ConnectionError("cannot connect")
        wrapped.__cause__ = dns
    err = _failed(wrapped)
    assert err.cause is Cause.UNRESOLVED
    assert err.cause.never_sent
    f = classify(err, Phase.SUBMIT)
    assert f.reason == "name not resolved"
    assert f.kind is FailureKind.NOT_RUN


def test_a_request_that_never_left_after_the_query_began_is_still_lost() -> None:
    f = classify(_refused(), Phase.EXECUTE)
    assert f.kind is FailureKind.LOST and not f.nothing_ran


def test_failures_carry_no_message_matching() -> None:
    """The same cause with any message is the same failure."""
    for detail in ("Connection refused", "no answer", "whatever"):
        f = classify(TransportError(Cause.NO_ANSWER, detail), Phase.EXECUTE)
        assert f.reason == "no answer while running" and f.node_down
        f = classify(TransportError(Cause.CONNECT_TIMEOUT, detail), Phase.EXECUTE)
        assert not f.node_down


@pytest.mark.parametrize("exc", [TypeError("bad key None"), AttributeError("no .read")])
@pytest.mark.parametrize("phase", [Phase.SUBMIT, Phase.EXECUTE])
def test_a_programming_error_is_raised_at_once_not_retried(exc: Exception, phase: Phase) -> None:
    failure = classify(exc, phase)
    assert failure.kind is FailureKind.QUERY_FAILED
    assert isinstance(failure.error, errors.InternalError)
    assert type(exc).__name__ in str(failure.error)


def test_an_unknown_os_level_error_is_still_taken_for_a_lost_attempt() -> None:
    assert classify(OSError("socket closed"), Phase.EXECUTE).kind is FailureKind.LOST
    assert classify(OSError("socket closed"), Phase.SUBMIT).kind is FailureKind.NOT_RUN
