"""Client SQL cannot reach the machine through the emulator: no files, extensions or settings."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from prestoha.testing.coordinator.process import EmulatorProcess
from prestoha.testing.coordinator.sql import Engine, QueryError, SessionContext
from prestoha.testing.coordinator.sql import translate as translate_module


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    e = Engine(node_id="sandbox", lake_dir=str(tmp_path_factory.mktemp("lake")))
    yield e
    e.close()


def session(catalog: str = "tpch", schema: str = "tiny") -> SessionContext:
    return SessionContext(user="tester", catalog=catalog, schema=schema)


def fails(engine: Engine, sql: str, sess: SessionContext | None = None) -> QueryError:
    with pytest.raises(QueryError) as info:
        engine.execute(sql, sess or session(), query_id="q")
    return info.value


def rows(engine: Engine, sql: str, sess: SessionContext | None = None) -> list[list[object]]:
    return list(engine.execute(sql, sess or session(), query_id="q").rows)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT read_text('/etc/passwd')", "line 1:8: Function 'read_text' not registered"),
        ("SELECT getenv('HOME')", "line 1:8: Function 'getenv' not registered"),
        (
            "SELECT current_setting('temp_directory')",
            "line 1:8: Function 'current_setting' not registered",
        ),
        (
            "SELECT * FROM read_text('/etc/passwd')",
            "line 1:15: Table function 'read_text' not registered",
        ),
        (
            "SELECT * FROM read_csv('/etc/passwd')",
            "line 1:15: Table function 'read_csv' not registered",
        ),
        (
            "SELECT * FROM TABLE(read_csv('/etc/passwd'))",
            "line 1:21: Table function 'read_csv' not registered",
        ),
        (
            "SELECT x FROM (VALUES 1) t(x)\nWHERE x IN (SELECT 1 FROM read_parquet('/x'))",
            "line 2:27: Table function 'read_parquet' not registered",
        ),
        ("SELECT * FROM query('SELECT 1')", "line 1:15: Table function 'query' not registered"),
        (
            "SELECT * FROM duckdb_settings()",
            "line 1:15: Table function 'duckdb_settings' not registered",
        ),
    ],
)
def test_duckdb_file_and_setting_functions_are_unknown_functions(
    engine: Engine, sql: str, message: str
) -> None:
    err = fails(engine, sql)
    assert (err.error_name, err.error_code, err.error_type) == (
        "FUNCTION_NOT_FOUND",
        6,
        "USER_ERROR",
    )
    assert err.message == message


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 1) TO '/tmp/prestoha-should-not-exist.csv'",
        "ATTACH '/tmp/prestoha-should-not-exist.db' AS a",
        "INSTALL httpfs",
        "LOAD httpfs",
        "PRAGMA version",
        "EXPORT DATABASE '/tmp/prestoha-should-not-exist'",
        "DETACH memory",
        "  -- a comment first\n  checkpoint",
    ],
)
def test_duckdb_only_statements_are_syntax_errors(engine: Engine, sql: str) -> None:
    err = fails(engine, sql)
    assert err.error_name == "SYNTAX_ERROR"
    word = sql.split("\n")[-1].split()[0]
    line = sql.count("\n") + 1
    column = len(sql.split("\n")[-1]) - len(sql.split("\n")[-1].lstrip()) + 1
    assert err.message.startswith(f"line {line}:{column}: mismatched input '{word}'. Expecting: ")
    assert "'SELECT'" not in err.message and err.message.endswith("'WITH', <query>")
    assert not Path("/tmp/prestoha-should-not-exist.csv").exists()


def test_prepared_and_immediate_statements_are_checked_too(engine: Engine) -> None:
    err = fails(engine, "EXECUTE IMMEDIATE 'COPY (SELECT 1) TO ''/tmp/x.csv'''")
    assert err.error_name == "SYNTAX_ERROR"
    err = fails(engine, "EXPLAIN SELECT * FROM read_text('/etc/passwd')")
    assert err.error_name == "FUNCTION_NOT_FOUND"


def test_duckdb_refuses_files_even_when_the_sql_check_misses_them(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(translate_module, "check_functions", lambda tree: None)
    err = fails(engine, "SELECT * FROM read_text('/etc/passwd')")
    assert "root:" not in err.message
    assert "disabled by configuration" in err.message


def test_trino_sql_keeps_working_with_external_access_off(engine: Engine) -> None:
    assert rows(engine, "SELECT count(*) FROM orders") == [[15000]]
    assert rows(engine, "SELECT x FROM UNNEST(sequence(1, 3)) AS u(x)") == [[1], [2], [3]]
    assert rows(engine, "SELECT json_extract_scalar('{\"a\": 7}', '$.a')") == [["7"]]
    zoned = SessionContext(user="t", catalog="tpch", schema="tiny", time_zone="Europe/Berlin")
    assert rows(engine, "SELECT current_timezone()", zoned) == [["Europe/Berlin"]]
    lake = session("lake", "default")
    engine.execute("CREATE TABLE sealed (id bigint, name varchar)", lake, query_id="q")
    engine.execute("INSERT INTO sealed VALUES (1, 'a'), (2, 'b')", lake, query_id="q")
    engine.execute("UPDATE sealed SET name = 'c' WHERE id = 2", lake, query_id="q")
    assert rows(engine, "SELECT id, name FROM sealed ORDER BY id", lake) == [[1, "a"], [2, "c"]]
    engine.execute("DELETE FROM sealed WHERE id = 1", lake, query_id="q")
    assert rows(engine, "SELECT count(*) FROM lake.default.sealed") == [[1]]


def test_the_lake_directory_is_not_open_to_client_sql(engine: Engine) -> None:
    lake = engine.lake_dir
    assert lake is not None
    data = next(Path(lake).rglob("*.parquet"), None) or Path(lake) / "x.parquet"
    err = fails(engine, f"SELECT * FROM read_parquet('{data}')")
    assert err.error_name == "FUNCTION_NOT_FOUND"


def test_emulator_process_logs_go_to_a_private_directory() -> None:
    proc = EmulatorProcess(node_id="private-log")
    folder = Path(proc.log_path).parent
    info = folder.stat()
    assert folder != Path("/tmp")
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == os.getuid()
    assert EmulatorProcess(node_id="other").log_path.startswith(str(folder) + os.sep)
