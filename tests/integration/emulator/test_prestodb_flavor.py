"""The unmodified ``presto-python-client`` (``prestodb``) against the emulator's PrestoDB flavor.

Expected wire shapes come from PrestoDB's source (github.com/prestodb/presto), cited per case:
``com.facebook.presto.server.protocol.{QueuedStatementResource,Query,QueryResourceUtil}``,
``com.facebook.presto.client.{ClientTypeSignature,ClientTypeSignatureParameter}``,
``com.facebook.presto.common.type.{ParameterKind,TypeSignature,SqlTimestamp,...}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import prestodb.dbapi  # type: ignore[import-untyped]
import prestodb.exceptions  # type: ignore[import-untyped]
import pytest
import requests
from prestodb.transaction import IsolationLevel  # type: ignore[import-untyped]

from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def presto() -> Iterator[Coordinator]:
    with Coordinator(node_id="p1", flavor="prestodb", admin=False) as c:
        yield c


def connect(c: Coordinator, **kwargs: Any) -> prestodb.dbapi.Connection:
    kwargs.setdefault("catalog", "tpch")
    kwargs.setdefault("schema", "tiny")
    return prestodb.dbapi.connect(host="127.0.0.1", port=c.port, user="tester", **kwargs)


def sqls_since(c: Coordinator, count: int) -> list[str]:
    assert c.registry is not None
    return [q["sql"] for q in c.registry.summaries()[count:]]


def n_queries(c: Coordinator) -> int:
    assert c.registry is not None
    return len(c.registry.summaries())


def post(c: Coordinator, sql: str, **headers: str) -> requests.Response:
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    return requests.post(f"{c.uri}/v1/statement", data=sql.encode(), headers=headers, timeout=10)


def test_info_reports_a_prestodb_version(presto: Coordinator) -> None:
    # ServerInfoResource.getInfo: ServerInfo(nodeVersion, environment, coordinator, starting,
    # uptime); PrestoDB versions are 0.2xx.
    info = requests.get(f"{presto.uri}/v1/info", timeout=10).json()
    assert info["nodeVersion"] == {"version": "0.289"}
    assert (info["environment"], info["coordinator"], info["starting"]) == ("test", True, False)
    assert isinstance(info["uptime"], str)


def test_version_is_configurable() -> None:
    with Coordinator(node_id="p2", flavor="prestodb", admin=False, version="0.287") as c:
        info = requests.get(f"{c.uri}/v1/info", timeout=10).json()
    assert info["nodeVersion"] == {"version": "0.287"}


def test_trino_headers_are_not_read(presto: Coordinator) -> None:
    # HttpRequestSessionContext reads X-Presto-User only: a Trino client gets 400.
    refused = post(presto, "SELECT 1", X_Trino_User="tester")
    assert (refused.status_code, refused.text) == (400, "User must be set")
    assert refused.headers["Content-Type"].startswith("text/plain")
    # No protocol detection either: both families at once are fine, X-Trino-* is ignored.
    both = post(presto, "SELECT 1", X_Presto_User="tester", X_Trino_User="other")
    assert both.status_code == 200


def test_statement_flow_uris_states_and_tokens(presto: Coordinator) -> None:
    first = post(presto, "SELECT 1 AS one", X_Presto_User="tester").json()
    query_id = first["id"]
    # QueuedStatementResource.postStatement: WAITING_FOR_PREREQUISITES, the slug in ?slug=.
    assert first["stats"]["state"] == "WAITING_FOR_PREREQUISITES"
    assert first["stats"]["waitingForPrerequisites"] is True
    queued = first["nextUri"]
    assert queued.startswith(f"{presto.uri}/v1/statement/queued/{query_id}/1?slug=x")
    slug = queued.split("slug=")[1]
    assert len(slug) == 33
    # The first queued GET dispatches and answers with the executing page of token 0.
    page = requests.get(queued, timeout=10).json()
    assert page["data"] == [[1]]
    assert page["columns"][0]["name"] == "one"
    executing = f"{presto.uri}/v1/statement/executing/{query_id}/1?slug={slug}"
    assert page["nextUri"] == executing
    assert requests.get(queued, timeout=10).json() == page  # token 0 again: the cached page
    last = requests.get(executing, timeout=10).json()
    assert last["stats"]["state"] == "FINISHED" and "nextUri" not in last
    # Query.getCachedResult: an older token is 410 GONE; past the end 404.
    old = f"{presto.uri}/v1/statement/executing/{query_id}/0?slug={slug}"
    assert requests.get(old, timeout=10).status_code == 410
    beyond = f"{presto.uri}/v1/statement/executing/{query_id}/2?slug={slug}"
    assert requests.get(beyond, timeout=10).status_code == 404
    # An unknown query or a wrong slug: 404 "Query not found".
    wrong = requests.get(queued.replace(slug, "x" + "0" * 32), timeout=10)
    assert (wrong.status_code, wrong.text) == (404, "Query not found")
    # Trino's path shape is no PrestoDB resource.
    trino_shape = f"{presto.uri}/v1/statement/queued/{query_id}/{slug}/1"
    assert requests.get(trino_shape, timeout=10).status_code == 404


def _columns(c: Coordinator, sql: str) -> list[dict[str, Any]]:
    body = post(c, sql, X_Presto_User="tester", X_Presto_Catalog="tpch").json()
    page = requests.get(body["nextUri"], timeout=10).json()
    while "columns" not in page:
        page = requests.get(page["nextUri"], timeout=10).json()
    columns: list[dict[str, Any]] = page["columns"]
    return columns


def test_type_signatures_are_client_type_signatures(presto: Coordinator) -> None:
    column = _columns(presto, "SELECT CAST(ROW(1, 'x') AS ROW(a integer, b varchar(3))) AS r")[0]
    # Column(name, TypeSignature): type is TypeSignature.toString(), no spaces after commas.
    assert column["type"] == "row(a integer,b varchar(3))"
    # ClientTypeSignature: rawType, typeArguments, literalArguments, arguments; kinds are the
    # ParameterKind @JsonValue names; a NamedTypeSignature's typeSignature is its text.
    assert column["typeSignature"] == {
        "rawType": "row",
        "typeArguments": [
            {"rawType": "integer", "typeArguments": [], "literalArguments": [], "arguments": []},
            {
                "rawType": "varchar",
                "typeArguments": [],
                "literalArguments": [],
                "arguments": [{"kind": "LONG_LITERAL", "value": 3}],
            },
        ],
        "literalArguments": ["a", "b"],
        "arguments": [
            {
                "kind": "NAMED_TYPE_SIGNATURE",
                "value": {
                    "fieldName": {"name": "a", "delimited": False},
                    "typeSignature": "integer",
                },
            },
            {
                "kind": "NAMED_TYPE_SIGNATURE",
                "value": {
                    "fieldName": {"name": "b", "delimited": False},
                    "typeSignature": "varchar(3)",
                },
            },
        ],
    }
    array = _columns(presto, "SELECT ARRAY['a']")[0]
    assert array["type"] == "array(varchar(1))"
    assert array["typeSignature"]["arguments"][0]["kind"] == "TYPE_SIGNATURE"
    unbounded = _columns(presto, "SELECT CAST('a' AS varchar)")[0]
    # TypeSignature.toString leaves out the unbounded length; the argument stays.
    assert unbounded["type"] == "varchar"
    assert unbounded["typeSignature"]["arguments"] == [
        {"kind": "LONG_LITERAL", "value": 2147483647}
    ]


VALUES = [
    # (SQL expression, columns[].type, the value prestodb.dbapi returns = the wire value)
    # QueryResourceUtil.parseToJson: structural values become JSON text (airlift JsonCodec,
    # Jackson INDENT_OUTPUT: "[ 1, 2 ]", objects one entry a line), at every level.
    ("ARRAY[1, 2]", "array(integer)", "[ 1, 2 ]"),
    ("ARRAY[ARRAY[1], NULL]", "array(array(integer))", '[ "[ 1 ]", null ]'),
    ("CAST(ARRAY[] AS array(integer))", "array(integer)", "[ ]"),
    # Jackson writes a Double with Double.toString.
    ("ARRAY[1.5E10, 0.25]", "array(double)", "[ 1.5E10, 0.25 ]"),
    ("MAP(ARRAY['a', 'b'], ARRAY[1, 2])", "map(varchar(1),integer)", '{\n  "a" : 1,\n  "b" : 2\n}'),
    # The entries go through a java.util.HashMap: "a" (hash 97) iterates before "b" (98).
    ("MAP(ARRAY['b', 'a'], ARRAY[1, 2])", "map(varchar(1),integer)", '{\n  "a" : 2,\n  "b" : 1\n}'),
    (
        "CAST(ROW(1, 'x') AS ROW(a integer, b varchar))",
        "row(a integer,b varchar)",
        '[ 1, "x" ]',
    ),
    ("ARRAY[ROW(1)]", "array(row(integer))", '[ "[ 1 ]" ]'),
    # Scalars are Jackson's rendering of SqlDecimal, SqlTimestamp (uuuu-MM-dd HH:mm:ss.SSS),
    # SqlTimestampWithTimeZone and SqlTimeWithTimeZone (a zone id after a space).
    ("CAST(1.5 AS decimal(5,2))", "decimal(5,2)", "1.50"),
    ("TIMESTAMP '2020-01-02 03:04:05.123'", "timestamp", "2020-01-02 03:04:05.123"),
    (
        "TIMESTAMP '2020-01-02 03:04:05.123 America/New_York'",
        "timestamp with time zone",
        "2020-01-02 03:04:05.123 America/New_York",
    ),
    ("TIME '01:02:03.456 +05:30'", "time with time zone", "01:02:03.456 +05:30"),
    ("TIME '01:02:03.456 +00:00'", "time with time zone", "01:02:03.456 UTC"),
    ("nan()", "double", "NaN"),
    ("X'0102'", "varbinary", "AQI="),
    ("DATE '2024-05-06'", "date", "2024-05-06"),
    ("CAST(NULL AS array(integer))", "array(integer)", None),
]


@pytest.mark.parametrize(("expression", "type_text", "value"), VALUES, ids=[v[0] for v in VALUES])
def test_values(presto: Coordinator, expression: str, type_text: str, value: Any) -> None:
    cur = connect(presto).cursor()
    cur.execute(f"SELECT {expression}")
    assert cur.fetchall() == [[value]]
    assert cur.description[0][1] == type_text


def test_no_output_statement_and_session_properties(presto: Coordinator) -> None:
    conn = connect(presto, session_properties={"query_max_run_time": "1h"})
    cur = conn.cursor()
    cur.execute("SHOW SESSION LIKE 'query_max_run_time'")
    assert cur.fetchall()[0][:2] == ["query_max_run_time", "1h"]
    cur.execute("SET SESSION query_max_run_time = '2h'")
    # Query.getNextResult: a statement without output answers result boolean [[true]].
    assert cur.fetchall() == [[True]]
    assert cur.description[0][:2] == ("result", "boolean")
    assert conn._client_session.properties["query_max_run_time"] == "2h"


def test_prepared_statements_with_parameters(presto: Coordinator) -> None:
    before = n_queries(presto)
    cur = connect(presto).cursor()
    cur.execute("SELECT name FROM nation WHERE nationkey = ?", (3,))
    assert cur.fetchall() == [["CANADA"]]
    ran = sqls_since(presto, before)
    assert [s.split()[0] for s in ran] == ["PREPARE", "EXECUTE", "DEALLOCATE"], ran
    cur.execute("SELECT ?, ?, ?, ?", ("it's", 1.5, dt.datetime(2024, 5, 6, 7, 8, 9, 123000), None))
    assert cur.fetchall() == [["it's", 1.5, "2024-05-06 07:08:09.123", None]]


def test_execute_immediate_is_a_syntax_error(presto: Coordinator) -> None:
    # PrestoDB's grammar has EXECUTE identifier [USING ...] only: IMMEDIATE is the name.
    cur = connect(presto).cursor()
    with pytest.raises(prestodb.exceptions.PrestoUserError) as err:
        cur.execute("EXECUTE IMMEDIATE 'SELECT 1'")
    assert err.value.error_name == "SYNTAX_ERROR"
    assert err.value.message.startswith("line 1:19: mismatched input ''SELECT 1''")


def test_user_error_shape(presto: Coordinator) -> None:
    cur = connect(presto).cursor()
    with pytest.raises(prestodb.exceptions.PrestoUserError) as err:
        cur.execute("SELECT * FROM no_such_table")
    e = err.value
    # SemanticException is a PrestoException of SYNTAX_ERROR (code 1), name printed bare.
    assert (e.error_name, e.error_code, e.error_type) == ("SYNTAX_ERROR", 1, "USER_ERROR")
    assert e.message == "line 1:15: Table tpch.tiny.no_such_table does not exist"
    assert e.error_location == (1, 15)
    assert e.failure_info["type"].startswith("com.facebook.presto.")
    assert e.query_id is not None
    # QueryError carries ErrorCode.isRetriable().
    body = post(presto, "SELECT * FROM no_such_table", X_Presto_User="t", X_Presto_Catalog="tpch")
    page = requests.get(body.json()["nextUri"], timeout=10).json()
    while "error" not in page:
        page = requests.get(page["nextUri"], timeout=10).json()
    assert page["error"]["retriable"] is False


def test_transactions(presto: Coordinator) -> None:
    setup = connect(presto, catalog="memory", schema="default").cursor()
    setup.execute("CREATE TABLE presto_tx (a bigint)")
    setup.fetchall()
    conn = connect(
        presto, catalog="memory", schema="default", isolation_level=IsolationLevel.READ_COMMITTED
    )
    cur = conn.cursor()
    assert conn.transaction is not None and conn.transaction.id != "NONE"
    cur.execute("INSERT INTO presto_tx VALUES (1)")
    assert cur.fetchall() == [[1]]
    conn.rollback()
    cur = conn.cursor()
    cur.execute("INSERT INTO presto_tx VALUES (2)")
    cur.fetchall()
    conn.commit()
    setup.execute("SELECT a FROM presto_tx")
    assert setup.fetchall() == [[2]]


def test_cancel_by_query_id(presto: Coordinator) -> None:
    body = post(presto, "SELECT 1", X_Presto_User="tester").json()
    # QueryResource.cancelQuery (presto-python-client's cancel()): 204, the query fails.
    deleted = requests.delete(f"{presto.uri}/v1/query/{body['id']}", timeout=10)
    assert deleted.status_code == 204
    page = requests.get(body["nextUri"], timeout=10).json()
    assert page["error"]["errorName"] == "USER_CANCELED"
