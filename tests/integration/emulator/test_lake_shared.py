"""The ``lake`` catalog shared by several emulator processes, driven by the real trino client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trino

from prestoha.testing.coordinator.process import EmulatorProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lake_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[EmulatorProcess]]:
    """Four emulator processes sharing one lake directory."""
    lake = tmp_path_factory.mktemp("lake")
    logs = tmp_path_factory.mktemp("logs")
    procs: list[EmulatorProcess] = []
    try:
        for i in range(4):
            proc = EmulatorProcess(
                node_id=f"lake{i}",
                lake_dir=str(lake),
                admin=False,
                log_path=str(Path(logs) / f"lake{i}.log"),
            )
            procs.append(proc.start())
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        assert not any(p.alive for p in procs)


def _cursor(proc: EmulatorProcess) -> Any:
    host, port = proc.uri.removeprefix("http://").rsplit(":", 1)
    conn = trino.dbapi.connect(
        host=host, port=int(port), user="lake-test", catalog="lake", schema="default"
    )
    return conn.cursor()


def _run(proc: EmulatorProcess, sql: str) -> list[list[Any]]:
    cur = _cursor(proc)
    cur.execute(sql)
    rows: list[list[Any]] = cur.fetchall()
    return rows


def test_rows_written_by_one_process_are_read_by_another(
    lake_processes: list[EmulatorProcess],
) -> None:
    first, second = lake_processes[:2]
    _run(first, "CREATE TABLE shared_t (id bigint, name varchar(10), at timestamp(3))")
    inserted = _run(
        first,
        "INSERT INTO shared_t VALUES (1, 'one', TIMESTAMP '2024-01-02 03:04:05.678'), "
        "(2, 'two', NULL)",
    )
    assert inserted == [[2]]
    cur = _cursor(second)
    cur.execute("SELECT id, name, at FROM lake.default.shared_t ORDER BY id")
    rows = cur.fetchall()
    assert [r[:2] for r in rows] == [[1, "one"], [2, "two"]]
    assert rows[0][2].isoformat() == "2024-01-02T03:04:05.678000"
    assert [d.type_code for d in cur.description] == ["bigint", "varchar(10)", "timestamp(3)"]
    assert ["shared_t"] in _run(lake_processes[3], "SHOW TABLES FROM lake.default")
    _run(second, "ALTER TABLE shared_t ADD COLUMN extra double")
    assert _run(first, "SELECT id, extra FROM shared_t ORDER BY id") == [[1, None], [2, None]]
    assert _run(second, "DELETE FROM shared_t WHERE id = 1") == [[1]]
    assert _run(first, "SELECT id FROM shared_t") == [[2]]


def test_concurrent_inserts_from_four_processes_lose_nothing(
    lake_processes: list[EmulatorProcess],
) -> None:
    _run(lake_processes[0], "CREATE TABLE concurrent_t (writer bigint, batch bigint, x bigint)")
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            for batch in range(8):
                rows = _run(
                    lake_processes[writer],
                    f"INSERT INTO concurrent_t SELECT {writer}, {batch}, x "
                    "FROM UNNEST(sequence(1, 50)) AS u(x)",
                )
                assert rows == [[50]]
        except BaseException as exc:  # surfaced by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert _run(
        lake_processes[3], "SELECT count(*), count(DISTINCT (writer, batch, x)) FROM concurrent_t"
    ) == [[1600, 1600]]
    per_batch = _run(
        lake_processes[1],
        "SELECT writer, batch, count(*) FROM concurrent_t GROUP BY writer, batch",
    )
    assert len(per_batch) == 32 and all(r[2] == 50 for r in per_batch)


def test_a_reader_never_sees_part_of_an_insert(lake_processes: list[EmulatorProcess]) -> None:
    writer, reader = lake_processes[2], lake_processes[3]
    _run(writer, "CREATE TABLE atomic_t (batch bigint, x bigint)")
    done = threading.Event()
    seen: list[list[list[Any]]] = []
    failures: list[BaseException] = []

    def read() -> None:
        try:
            while not done.is_set():
                seen.append(_run(reader, "SELECT batch, count(*) FROM atomic_t GROUP BY batch"))
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for batch in range(12):
            sql = f"INSERT INTO atomic_t SELECT {batch}, x FROM UNNEST(sequence(1, 2000)) AS u(x)"
            assert _run(writer, sql) == [[2000]]
    finally:
        done.set()
        thread.join(timeout=60)
    assert not failures
    assert len(seen) > 1
    partial = [r for snapshot in seen for r in snapshot if r[1] != 2000]
    assert partial == []
    assert sorted(r[0] for r in _run(reader, "SELECT DISTINCT batch FROM atomic_t")) == list(
        range(12)
    )


def test_rewrites_racing_inserts_lose_no_rows(lake_processes: list[EmulatorProcess]) -> None:
    inserter, updater = lake_processes[0], lake_processes[1]
    _run(inserter, "CREATE TABLE rewrite_t (batch bigint, x bigint, touched bigint)")
    done = threading.Event()
    updates: list[int] = []
    failures: list[BaseException] = []

    def update() -> None:
        try:
            while not done.is_set():
                rows = _run(updater, "UPDATE rewrite_t SET touched = touched + 1 WHERE x = 1")
                updates.append(rows[0][0])
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=update)
    thread.start()
    try:
        for batch in range(10):
            sql = (
                f"INSERT INTO rewrite_t SELECT {batch}, x, 0 FROM UNNEST(sequence(1, 100)) AS u(x)"
            )
            assert _run(inserter, sql) == [[100]]
    finally:
        done.set()
        thread.join(timeout=60)
    assert not failures
    assert any(n > 0 for n in updates)
    assert _run(
        lake_processes[2], "SELECT count(*), count(DISTINCT (batch, x)) FROM rewrite_t"
    ) == [[1000, 1000]]
    assert _run(lake_processes[3], "SELECT max(touched) FROM rewrite_t WHERE x <> 1") == [[0]]
