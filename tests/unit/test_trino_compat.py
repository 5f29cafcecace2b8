"""Code written for ``trino.dbapi`` keeps working with ``prestoha.connect``: its options,
``Connection`` and ``Cursor`` surface (the emulator tests are in tests/integration/driver)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import trino.dbapi
from trino.auth import BasicAuthentication
from trino.transaction import IsolationLevel

import prestoha
from prestoha import errors
from prestoha.dbapi.options import parse_options
from prestoha.retry import RetryPolicy
from tests.unit.execution.fake import FakeCoordinator, FakeTransport

# -- connect(): host, port, http_scheme, max_attempts, legacy_primitive_types ----------------


@pytest.mark.parametrize(
    ("options", "hosts"),
    [
        ({"host": "c1"}, ("http://c1:8080",)),
        ({"host": "c1", "port": 8081}, ("http://c1:8081",)),
        ({"host": "c1", "port": "443"}, ("https://c1:443",)),
        ({"host": "c1", "port": 8443, "http_scheme": "https"}, ("https://c1:8443",)),
        ({"host": "https://c1", "port": 8443}, ("https://c1:8443",)),
        ({"host": "https://c1:9443/", "port": 8443}, ("https://c1:9443",)),
        ({"host": "c1, c2:9090", "port": 8081}, ("http://c1:8081", "http://c2:9090")),
        ({"host": ["[::1]", "c2"], "port": 8085}, ("http://[::1]:8085", "http://c2:8085")),
        ({"host": ("[::1]:8086",), "port": 8085}, ("http://[::1]:8086",)),
    ],
)
def test_host_and_port_become_the_static_list(options: dict[str, Any], hosts: tuple[str]) -> None:
    o = parse_options(options)
    assert o.hosts == hosts
    assert o.mode == "leader-preferred"


@pytest.mark.parametrize(
    ("options", "option", "words"),
    [
        ({"host": "c1", "hosts": ["c2:8080"]}, "host", "hosts="),
        ({"host": "c1", "zk": "z:2181"}, "host", "zk="),
        ({"hosts": ["c1:8080"], "port": 8080}, "port", "host="),
        ({"host": "c1", "port": 70000}, "port", "65535"),
        ({"host": "c1", "port": True}, "port", "65535"),
        ({"host": "not a host"}, "host", "coordinator address"),
        ({"host": 7}, "host", "int"),
        ({"host": ["c1", ""]}, "host", "a list"),
        ({"host": "c1", "max_attempts": 0}, "max_attempts", ">= 1"),
        ({"host": "c1", "max_attempts": 2, "retry": RetryPolicy()}, "max_attempts", "retry="),
        ({"host": "c1", "http_session": object()}, "http_session", "verify= for TLS"),
        ({"host": "c1", "request_timeout": (1, 2, 3)}, "request_timeout", "(connect, read)"),
        (
            {"host": "c1", "request_timeout": (1, 2), "connect_timeout": 1},
            "request_timeout",
            "read",
        ),
    ],
)
def test_trino_options_refused_name_themselves(
    options: dict[str, Any], option: str, words: str
) -> None:
    with pytest.raises(errors.ConfigurationError) as info:
        parse_options(options)
    assert info.value.option == option
    assert words in str(info.value)


def test_host_with_zk_or_hosts_names_both() -> None:
    with pytest.raises(errors.ConfigurationError) as info:
        prestoha.connect(zk="z:2181", host="c1")
    assert "host=" in str(info.value) and "zk=" in str(info.value)


def test_max_attempts_is_the_retry_policys() -> None:
    assert parse_options({"host": "c1", "max_attempts": 4}).retry == RetryPolicy(max_attempts=4)
    assert parse_options({"host": "c1", "max_attempts": "2"}).retry.max_attempts == 2
    assert parse_options({"host": "c1", "max_attempts": None}).retry == RetryPolicy()


def test_legacy_primitive_types_none_means_false() -> None:
    o = parse_options({"host": "c1", "legacy_primitive_types": None})
    assert o.legacy_primitive_types is False


# -- Connection: host, port, cursor(...), start_transaction() --------------------------------


class _Coordinator(FakeCoordinator):
    """A fake that starts transactions and answers with its statistics' page number."""

    def _pages(self, query_id: str, sql: str) -> list[dict[str, Any]]:
        pages = super()._pages(query_id, sql)
        for i, page in enumerate(pages):
            page["stats"] = {**page["stats"], "page": i}
        if sql.startswith("START TRANSACTION"):
            pages[-1]["_headers"] = {"X-Trino-Started-Transaction-Id": ["tx1"]}
        return pages


@pytest.fixture
def node() -> _Coordinator:
    return _Coordinator("http://127.0.0.1:9")


@pytest.fixture
def conn(node: _Coordinator) -> Iterator[prestoha.Connection]:
    c = prestoha.connect(host="127.0.0.1", port=9, probe_interval=None)
    c._ctx.transport = lambda _coordinator, _timeout: FakeTransport(node)
    yield c
    c.close()


def test_host_and_port_are_the_first_coordinators() -> None:
    c = prestoha.connect(host="https://c1:8443,c2", probe_interval=None)
    try:
        assert (c.host, c.port) == ("c1", 8443)
    finally:
        c.close()
    with_zk = SimpleNamespace(options=parse_options({"zk": "z:2181"}))
    assert prestoha.Connection.host.fget(with_zk) is None  # type: ignore[attr-defined]
    assert prestoha.Connection.port.fget(with_zk) is None  # type: ignore[attr-defined]


def test_a_cursor_may_only_repeat_the_connections_legacy_primitive_types(
    conn: prestoha.Connection,
) -> None:
    assert conn.cursor(legacy_primitive_types=False) is not None
    assert conn.cursor(legacy_primitive_types=None) is not None
    with pytest.raises(errors.NotSupportedError, match=r"connect\(legacy_primitive_types=True\)"):
        conn.cursor(legacy_primitive_types=True)


def test_stats_callback_gets_a_copy_of_each_responses_stats(
    conn: prestoha.Connection,
) -> None:
    seen: list[dict[str, Any]] = []
    cur = conn.cursor(stats_callback=seen.append)
    cur.execute("SELECT n FROM t")
    assert cur.fetchall() == [[i] for i in range(10)]
    assert [s.get("page") for s in seen] == [None, 0, 1, 2, 3]  # the submit's answer first
    assert [s["state"] for s in seen] == ["QUEUED", "RUNNING", "RUNNING", "RUNNING", "FINISHED"]
    seen[-1]["state"] = "changed"
    assert (cur.stats or {})["state"] == "FINISHED"
    conn.cursor().execute("SELECT 1").fetchall()
    assert len(seen) == 5  # another cursor's query is not reported


def test_start_transaction_begins_at_once_and_its_object_ends_it(
    conn: prestoha.Connection, node: _Coordinator
) -> None:
    transaction = conn.start_transaction()
    assert node.submitted == ["START TRANSACTION"]
    assert transaction.id == "tx1" == conn.session.transaction_id
    with pytest.raises(errors.ProgrammingError, match="already open"):
        conn.start_transaction()
    transaction.commit()
    assert node.submitted[-1] == "COMMIT"
    assert conn.session.transaction_id is None
    with pytest.raises(errors.ProgrammingError, match="no longer open"):
        transaction.rollback()


# -- Cursor: query, genall(), params ----------------------------------------------------------


def test_query_is_the_sql_of_the_last_execute(conn: prestoha.Connection) -> None:
    cur = conn.cursor()
    assert cur.query is None
    cur.execute("SELECT n FROM t")
    assert cur.query == "SELECT n FROM t"
    cur.execute("SELECT n FROM t WHERE n = ?", [2])
    assert cur.query == "EXECUTE IMMEDIATE 'SELECT n FROM t WHERE n = ?' USING 2"


def test_genall_generates_the_rows_not_fetched_yet(conn: prestoha.Connection) -> None:
    cur = conn.cursor()
    with pytest.raises(errors.ProgrammingError):
        cur.genall()
    cur.execute("SELECT n FROM t")
    assert cur.fetchone() == [0]
    rows = cur.genall()
    assert next(rows) == [1]
    assert list(rows) == [[i] for i in range(2, 10)]


@pytest.mark.parametrize("params", [{"a": 1}, "ab", 3])
def test_params_not_a_list_raise_what_trino_and_pep_249_callers_catch(
    conn: prestoha.Connection, params: Any
) -> None:
    cur = conn.cursor()
    with pytest.raises(AssertionError, match="list or a tuple"):
        cur.execute("SELECT ?", params)
    with pytest.raises(errors.ProgrammingError):
        cur.execute("SELECT ?", params)


@pytest.mark.parametrize("params", [{}, "", 0, None, []])
def test_empty_params_are_no_params_as_in_trino(conn: prestoha.Connection, params: Any) -> None:
    cur = conn.cursor()
    cur.execute("SELECT n FROM t", params)
    assert cur.query == "SELECT n FROM t"


def test_fetching_before_execute_raises_what_trino_and_pep_249_callers_catch(
    conn: prestoha.Connection,
) -> None:
    cur = conn.cursor()
    for fetch in (cur.fetchone, cur.fetchall, cur.fetchmany):
        with pytest.raises(AssertionError):
            fetch()
        with pytest.raises(errors.ProgrammingError, match="no query was executed"):
            fetch()


def test_before_a_query_the_cursor_reads_as_trinos(conn: prestoha.Connection) -> None:
    cur = conn.cursor()
    theirs = trino.dbapi.connect(host="127.0.0.1", port=9).cursor()  # type: ignore[no-untyped-call]
    for name in ("description", "stats", "warnings", "query", "query_id", "info_uri"):
        assert getattr(cur, name) == getattr(theirs, name), name
    assert cur.rowcount == theirs.rowcount == -1
    assert cur.update_type is theirs.update_type is None


def test_description_is_trinos_column_descriptions(conn: prestoha.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT n FROM t")
    (column,) = cur.description or []
    assert isinstance(column, trino.dbapi.ColumnDescription)
    assert column.name == "n"
    assert str(column.type_code) == "bigint"  # typed int by trino, a type name in fact
    assert cur.warnings == [] and cur.stats is not None


def test_cursor_style_row_is_the_cursor_and_segment_is_refused(conn: prestoha.Connection) -> None:
    assert isinstance(conn.cursor("row"), prestoha.Cursor)
    assert isinstance(conn.cursor(cursor_style="ROW"), prestoha.Cursor)
    with pytest.raises(errors.NotSupportedError, match=r"segment.*decodes spooled segments"):
        conn.cursor("segment")


def test_transaction_is_the_open_one(conn: prestoha.Connection) -> None:
    assert conn.transaction is None
    started = conn.start_transaction()
    assert conn.transaction is not None and conn.transaction.id == started.id == "tx1"
    conn.rollback()
    assert conn.transaction is None


#: Attributes whose default is prestoha's own (docs/migrating.md says why): compared when given.
OWN_DEFAULTS = {"source", "max_attempts", "request_timeout", "legacy_prepared_statements"}

#: The same keywords to both clients; each attribute of trino's connection must read the same.
SAME_KEYWORDS: list[dict[str, Any]] = [
    {"host": "c1", "port": 8080, "user": "ana"},
    {
        "host": "https://c1:8443",
        "user": "ana",
        "source": "etl",
        "catalog": "hive",
        "schema": "web",
        "session_properties": {"query_max_run_time": "10m"},
        "http_headers": {"X-Team": "data"},
        "extra_credential": [("k", "v")],
        "client_tags": ["a", "b"],
        "max_attempts": 4,
        "request_timeout": 12.0,
        "legacy_primitive_types": True,
        "legacy_prepared_statements": True,
        "isolation_level": IsolationLevel.READ_COMMITTED,
        "auth": BasicAuthentication("ana", "secret"),
    },
    {"host": "c1", "port": 443, "user": "ana", "legacy_prepared_statements": False},
]


@pytest.mark.parametrize("keywords", SAME_KEYWORDS, ids=["plain", "everything", "tls-port"])
def test_the_connection_attributes_read_as_trinos(keywords: dict[str, Any]) -> None:
    theirs = trino.dbapi.connect(**keywords)  # type: ignore[no-untyped-call]
    ours = prestoha.connect(**keywords, probe_interval=None)
    try:
        for name in TRINO_CONNECTION_ATTRIBUTES:
            if name in OWN_DEFAULTS and name not in keywords:
                continue
            assert getattr(ours, name) == getattr(theirs, name), name
    finally:
        ours.close()
        theirs.close()


#: The attributes of trino's connection, found on an instance as new ones would be.
TRINO_CONNECTION_ATTRIBUTES = sorted(
    name
    for name in dir(trino.dbapi.connect(host="c1"))  # type: ignore[no-untyped-call]
    if not name.startswith("_")
    and not callable(getattr(trino.dbapi.Connection, name, None))
    and name != "transaction"
)


def test_the_attributes_compared_include_the_documented_ones() -> None:
    assert {"host", "port", "user", "catalog", "schema", "http_scheme", "max_attempts"} <= set(
        TRINO_CONNECTION_ATTRIBUTES
    )


def test_request_timeout_as_connect_and_read() -> None:
    o = parse_options({"host": "c1", "request_timeout": (1.5, 20)})
    assert (o.connect_timeout, o.request_timeout) == (1.5, 20.0)


def test_the_own_defaults_really_differ() -> None:
    theirs = trino.dbapi.connect(host="c1")  # type: ignore[no-untyped-call]
    ours = prestoha.connect(host="c1", probe_interval=None)
    try:
        for name in OWN_DEFAULTS:
            assert getattr(ours, name) != getattr(theirs, name), name
    finally:
        ours.close()


# -- differences kept on purpose (docs/migrating.md) -------------------------------------------


@pytest.mark.parametrize(
    ("type_code", "ours", "theirs"),
    [
        ("varchar(3)", "STRING", None),  # trino's objects miss parametrised types
        ("varchar", "STRING", "STRING"),
        ("varbinary", "BINARY", "STRING"),  # trino counts varbinary as a string
        ("decimal(10,2)", "NUMBER", None),
        ("bigint", "NUMBER", "NUMBER"),
        ("timestamp(3) with time zone", "DATETIME", None),
    ],
)
def test_type_objects_match_parametrised_types(
    type_code: str, ours: str, theirs: str | None
) -> None:
    kinds = ("STRING", "BINARY", "NUMBER", "DATETIME")
    assert [k for k in kinds if getattr(prestoha, k) == type_code] == [ours]
    assert [k for k in kinds if getattr(trino.dbapi, k) == type_code] == (
        [theirs] if theirs else []
    )


def test_rollback_without_a_transaction_does_nothing(conn: prestoha.Connection) -> None:
    conn.rollback()
    conn.commit()
    theirs = trino.dbapi.connect(host="127.0.0.1", port=9)  # type: ignore[no-untyped-call]
    with pytest.raises(RuntimeError):
        theirs.rollback()
