"""The ``protocol`` option: its values, how ``auto`` finds the protocol out, the member
record field it reads, and how parameters are bound on PrestoDB (no ``EXECUTE IMMEDIATE``:
``PREPARE``, then ``EXECUTE ... USING``)."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from typing import Any

import pytest
import requests
import responses

from prestoha import ConfigurationError
from prestoha.agent._health import classify_info
from prestoha.dbapi._cursor import Cursor
from prestoha.dbapi._protocol import ProtocolResolver, probe_protocol
from prestoha.dbapi.options import parse_options
from prestoha.discovery import Member, Topology
from prestoha.discovery.records import decode_member, encode_member
from prestoha.protocol import PRESTO, TRINO, Dialect, protocol_of_version


def test_the_option_defaults_to_auto_and_takes_three_values() -> None:
    assert parse_options({"hosts": "c1:8080"}).protocol == "auto"
    for value in ("trino", "presto", "auto"):
        assert parse_options({"hosts": "c1:8080", "protocol": value}).protocol == value
    with pytest.raises(ConfigurationError, match="protocol"):
        parse_options({"hosts": "c1:8080", "protocol": "prestodb"})


def test_presto_refuses_the_spooling_encoding() -> None:
    with pytest.raises(ConfigurationError, match="no spooling"):
        parse_options({"hosts": "c1:8080", "protocol": "presto", "encoding": "json"})
    assert parse_options({"hosts": "c1:8080", "protocol": "auto", "encoding": "json"}).encoding


@pytest.mark.parametrize(
    ("version", "protocol"),
    [
        ("0.289", "presto"),
        ("0.296-SNAPSHOT", "presto"),
        ("0.289-edge2", "presto"),
        ("475", "trino"),
        ("476-SNAPSHOT", "trino"),
        ("351", "trino"),  # the first release with X-Trino-* headers
        ("350", "presto"),  # PrestoSQL, which spoke X-Presto-*
        ("testversion", None),
        ("", None),
        (None, None),
        ("12", None),
    ],
)
def test_the_version_tells_the_protocol(version: str | None, protocol: str | None) -> None:
    assert protocol_of_version(version) == protocol


# -- the member record --------------------------------------------------------------------


def test_the_agent_records_the_protocol_from_the_coordinators_version() -> None:
    info = {"nodeVersion": {"version": "0.289"}, "coordinator": True, "starting": False}
    assert classify_info(200, json.dumps(info).encode()).protocol == "presto"
    info["nodeVersion"] = {"version": "475"}
    assert classify_info(200, json.dumps(info).encode()).protocol == "trino"


def test_the_protocol_field_round_trips_and_old_records_read_without_it() -> None:
    member = Member("c1", "http://c1:8080", version="0.289", protocol="presto")
    assert decode_member(encode_member(member)).protocol == "presto"
    old = {"v": 1, "node_id": "c1", "uri": "http://c1:8080", "version": "0.289"}
    assert decode_member(json.dumps(old).encode()).protocol is None
    unknown = {**old, "protocol": "velox"}  # a later agent's value: unknown, not an error
    assert decode_member(json.dumps(unknown).encode()).protocol is None
    record = json.loads(encode_member(Member("c1", "http://c1:8080")))
    assert "protocol" not in record  # agents that do not know it write nothing


# -- auto ---------------------------------------------------------------------------------


def resolver(members: list[Member], probe: Any = None, option: str = "auto") -> ProtocolResolver:
    topology = Topology(members=tuple(members))
    return ProtocolResolver(option, lambda: topology, probe or (lambda uri: None))


def test_a_forced_protocol_asks_nothing() -> None:
    def probe(uri: str) -> str | None:
        raise AssertionError("probed")

    assert resolver([Member("c1", "http://c1:8080")], probe, "presto").dialect() is PRESTO
    assert (
        resolver([Member("c1", "http://c1:8080", protocol="presto")], probe, "trino").dialect()
        is TRINO
    )


def test_auto_reads_the_member_record_then_the_version() -> None:
    def probe(uri: str) -> str | None:
        raise AssertionError("probed")

    assert resolver([Member("c1", "http://c1:8080", protocol="presto")], probe).dialect() is PRESTO
    assert resolver([Member("c1", "http://c1:8080", version="0.287")], probe).dialect() is PRESTO
    assert resolver([Member("c1", "http://c1:8080", version="475")], probe).dialect() is TRINO


def test_auto_probes_static_hosts_once_and_speaks_trino_until_one_answers() -> None:
    asked: list[str] = []
    answers: dict[str, str | None] = {"http://c1:8080": None, "http://c2:8080": None}

    def probe(uri: str) -> str | None:
        asked.append(uri)
        return answers[uri]

    r = resolver([Member("c1", "http://c1:8080"), Member("c2", "http://c2:8080")], probe)
    assert r.dialect() is TRINO  # nobody answered: not remembered
    assert asked == ["http://c1:8080", "http://c2:8080"]
    answers["http://c2:8080"] = "presto"
    assert r.dialect() is PRESTO
    assert r.dialect() is PRESTO
    assert asked == ["http://c1:8080", "http://c2:8080", "http://c1:8080", "http://c2:8080"]


@responses.activate
def test_the_probe_reads_v1_info_without_credentials_once_per_process() -> None:
    uri = "http://probe-once.example:8080"
    info = {"nodeVersion": {"version": "0.289"}, "environment": "p", "coordinator": True}
    responses.get(f"{uri}/v1/info", json=info)
    pool = requests.Session()
    assert probe_protocol(pool, uri, (1.0, 1.0)) == "presto"
    assert probe_protocol(pool, uri, (1.0, 1.0)) == "presto"
    assert len(responses.calls) == 1
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_a_probe_that_fails_is_not_remembered() -> None:
    uri = "http://probe-fails.example:8080"
    responses.get(f"{uri}/v1/info", status=503)
    assert probe_protocol(requests.Session(), uri, (1.0, 1.0)) is None
    responses.replace(responses.GET, f"{uri}/v1/info", json={"nodeVersion": {"version": "475"}})
    assert probe_protocol(requests.Session(), uri, (1.0, 1.0)) == "trino"


# -- binding parameters -------------------------------------------------------------------


class _Ran:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.update_count = 1
        self.on_stats: Any = None

    def start_steps(self) -> Iterator[Any]:
        yield from ()

    def fetchall_steps(self) -> Generator[Any, Any, list[Any]]:
        yield from ()
        return []

    def close(self) -> None:
        pass


class _Connection:
    """What a cursor needs of its connection, recording the statements it is given."""

    arraysize = 10

    def __init__(self, dialect: Dialect, legacy_prepared_statements: bool = False) -> None:
        self.dialect = dialect
        self.legacy_prepared_statements = legacy_prepared_statements
        self.statements: list[tuple[str, str]] = []
        self.forgotten: list[str] = []

    def _check_open(self) -> None:
        pass

    def _execution(
        self, sql: str, source_sql: str, idempotent: bool | None
    ) -> Generator[Any, Any, _Ran]:
        self.statements.append((sql, source_sql))
        yield from ()
        return _Ran(sql)

    def _forget_prepared(self, name: str) -> None:
        self.forgotten.append(name)


def test_on_presto_parameters_are_bound_with_prepare_and_execute_using() -> None:
    connection = _Connection(PRESTO)
    cursor = Cursor(connection)
    cursor.execute("SELECT * FROM t WHERE a = ? AND b = ?", [1, "x'y"])
    (prepare, _), (execute, source) = connection.statements
    name = prepare.split()[1]
    assert prepare == f"PREPARE {name} FROM SELECT * FROM t WHERE a = ? AND b = ?"
    assert execute == f"EXECUTE {name} USING 1,'x''y'"
    assert source == "SELECT * FROM t WHERE a = ? AND b = ?"  # classified as the operation
    assert not any("IMMEDIATE" in sql for sql, _ in connection.statements)
    assert connection.forgotten == []  # kept while the execution may be resubmitted


def test_on_presto_executemany_prepares_once_and_forgets_it_after() -> None:
    connection = _Connection(PRESTO)
    cursor = Cursor(connection)
    cursor.executemany("INSERT INTO t VALUES (?)", [[1], [2], [3]])
    prepares = [sql for sql, _ in connection.statements if sql.startswith("PREPARE")]
    executes = [sql for sql, _ in connection.statements if sql.startswith("EXECUTE")]
    assert len(prepares) == 1
    assert [e.rsplit(" ", 1)[1] for e in executes] == ["1", "2", "3"]
    name = prepares[0].split()[1]
    cursor.execute("SELECT 1")
    assert connection.forgotten == [name]
    cursor.close()
    assert connection.forgotten == [name]


def test_a_new_operation_forgets_the_previous_prepared_statement() -> None:
    connection = _Connection(PRESTO)
    cursor = Cursor(connection)
    cursor.execute("SELECT ?", [1])
    cursor.execute("SELECT ? + 1", [1])
    first, second = (s.split()[1] for s, _ in connection.statements if s.startswith("PREPARE"))
    assert first != second
    assert connection.forgotten == [first]
    cursor.close()
    assert connection.forgotten == [first, second]


def test_on_trino_parameters_go_in_one_execute_immediate() -> None:
    connection = _Connection(TRINO)
    cursor = Cursor(connection)
    cursor.execute("SELECT ?", [1])
    assert connection.statements == [("EXECUTE IMMEDIATE 'SELECT ?' USING 1", "SELECT ?")]


def test_on_trino_legacy_prepared_statements_prepare_and_execute_using() -> None:
    connection = _Connection(TRINO, legacy_prepared_statements=True)
    cursor = Cursor(connection)
    cursor.executemany("INSERT INTO t VALUES (?)", [[1], [2]])
    statements = [sql for sql, _ in connection.statements]
    assert len(statements) == 3 and statements[0].startswith("PREPARE st_")
    name = statements[0].split()[1]
    assert statements[1:] == [f"EXECUTE {name} USING 1", f"EXECUTE {name} USING 2"]
    assert not any("IMMEDIATE" in sql for sql in statements)
