"""``prestoha query``: option mapping, output formats and the one-line errors.

The tests that need coordinators run the real command in a subprocess against the shared
``local_cluster`` (marked ``integration``); the others need no server.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from prestoha import errors
from prestoha.cli import cli
from prestoha.cli._output import progress_text
from prestoha.cli.query import CONNECT_OPTIONS, connect_kwargs, error_line, query
from prestoha.dbapi.options import Options, parse_options


def test_every_connect_option_of_the_command_is_a_connect_keyword() -> None:
    assert set(CONNECT_OPTIONS) <= set(Options.__dataclass_fields__)
    flags = {o.name for o in query.params}
    assert set(CONNECT_OPTIONS) <= flags


def test_connect_kwargs_maps_the_flags() -> None:
    params: dict[str, Any] = {name: None for name in CONNECT_OPTIONS}
    params.update(
        hosts=("http://a:8080,http://b:8080", "http://c:8080"),
        session_properties=("query_max_run_time=1h", "join_distribution_type=BROADCAST"),
        roles=("hive=admin",),
        client_tags=("etl,nightly",),
        verify="false",
        failover_timeout=12.5,
        allow_insecure_auth=False,
        prefetch="2MiB",
    )
    kwargs = connect_kwargs(params)
    assert kwargs == {
        "hosts": ["http://a:8080", "http://b:8080", "http://c:8080"],
        "session_properties": {
            "query_max_run_time": "1h",
            "join_distribution_type": "BROADCAST",
        },
        "roles": {"hive": "admin"},
        "client_tags": ["etl", "nightly"],
        "verify": False,
        "failover_timeout": 12.5,
        "prefetch": "2MiB",
    }
    parsed = parse_options(kwargs)  # what connect() will accept
    assert parsed.hosts == ("http://a:8080", "http://b:8080", "http://c:8080")
    assert parsed.failover_timeout == 12.5


def test_the_safety_options_have_flags_of_the_same_name() -> None:
    params: dict[str, Any] = {
        "unknown_functions": "write",
        "next_uri_hosts": ("proxy.corp.example.com,*.edge.example.com",),
        "hosts": ("https://c1:8443",),
    }
    kwargs = connect_kwargs(params)
    assert kwargs["unknown_functions"] == "write"
    assert kwargs["next_uri_hosts"] == ["proxy.corp.example.com", "*.edge.example.com"]
    parsed = parse_options(kwargs)
    assert parsed.unknown_functions == "write"


def test_a_single_bare_role_stays_a_role_name_and_a_ca_bundle_path_stays_a_path() -> None:
    params: dict[str, Any] = {"roles": ("admin",), "verify": "/etc/ssl/ca.pem"}
    assert connect_kwargs(params) == {"roles": "admin", "verify": "/etc/ssl/ca.pem"}


def test_password_becomes_basic_auth_and_never_shows() -> None:
    from trino.auth import BasicAuthentication

    kwargs = connect_kwargs({"user": "alice", "zk": "z:2181"}, password="s3cret")
    assert isinstance(kwargs["auth"], BasicAuthentication)
    assert "s3cret" not in repr(parse_options({**kwargs, "allow_insecure_auth": True}))


def test_error_line_is_one_line_with_the_attempts() -> None:
    attempts = [
        errors.Attempt("http://c1:8080", "connection refused", 0.01),
        errors.Attempt("http://c1:8080", "connection refused", 0.01),
        errors.Attempt("http://c2:8080", "HTTP 503", 0.02),
    ]
    exc = errors.NoCoordinatorError("no coordinator could take the query", attempts=attempts)
    line = error_line(exc)
    assert "\n" not in line
    assert line.startswith("NoCoordinatorError: no coordinator could take the query")
    assert "http://c1:8080: connection refused (x2)" in line
    assert "http://c2:8080: HTTP 503" in line
    plain = error_line(errors.ProgrammingError("SYNTAX_ERROR: line 1:1:\n  bad"))
    assert plain == "ProgrammingError: SYNTAX_ERROR: line 1:1: bad"


def test_progress_text_uses_the_percentage_or_the_splits() -> None:
    assert "42.0%" in progress_text({"state": "RUNNING", "progressPercentage": 42.0}, 1.0).plain
    split = progress_text({"state": "RUNNING", "completedSplits": 1, "totalSplits": 4}, 1.0)
    assert "25.0%" in split.plain
    unknown = progress_text({"state": "RUNNING", "processedRows": 1234}, 2.0).plain
    assert "running" in unknown and "1,234 rows" in unknown and "%" not in unknown


def test_no_coordinators_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["query", "SELECT 1"], env={"PRESTOHA_ZK": ""})
    assert result.exit_code == 2
    assert "--zk" in result.output and "--hosts" in result.output


def test_a_bad_option_value_is_one_line_and_exit_1() -> None:
    result = CliRunner().invoke(
        cli, ["query", "SELECT 1", "--hosts", "http://127.0.0.1:1", "--timezone", "Mars/Base"]
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        "prestoha: error: ConfigurationError: timezone: 'Mars/Base' is not a time "
        "zone (accepted: an IANA zone id like 'UTC')"
    ]
    assert "Traceback" not in result.output


def test_an_unreachable_coordinator_fails_in_one_line(unused_port: int) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "query",
            "SELECT 1",
            "--hosts",
            f"http://127.0.0.1:{unused_port}",
            "--failover-timeout",
            "0.5",
            "--connect-timeout",
            "0.2",
        ],
    )
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("prestoha: error: NoCoordinatorError: ")
    assert f"127.0.0.1:{unused_port}: connection refused" in last
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback(unused_port: int) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "prestoha",
            "query",
            "SELECT 1",
            "--debug",
            "--hosts",
            f"http://127.0.0.1:{unused_port}",
            "--failover-timeout",
            "0.3",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "NoCoordinatorError" in result.stderr


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- against the shared local cluster -------------------------------------------------------


def _base(cluster: Any) -> list[str]:
    return [
        sys.executable,
        "-m",
        "prestoha",
        "query",
        "--zk",
        cluster.zk_hosts,
        "--cluster",
        cluster.cluster,
        "--user",
        "cli",
        "--catalog",
        "tpch",
        "--schema",
        "tiny",
    ]


@pytest.mark.integration
@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_formats(local_cluster: Any, fmt: str) -> None:
    sql = (
        "SELECT nationkey, name, DATE '2020-01-02' AS d, CAST(NULL AS varchar) AS n "
        "FROM nation ORDER BY nationkey LIMIT 3"
    )
    result = subprocess.run(
        [*_base(local_cluster), sql, "--format", fmt], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert rows == [
            ["nationkey", "name", "d", "n"],
            ["0", "ALGERIA", "2020-01-02", ""],
            ["1", "ARGENTINA", "2020-01-02", ""],
            ["2", "BRAZIL", "2020-01-02", ""],
        ]
    elif fmt == "json":
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert rows[0] == {"nationkey": 0, "name": "ALGERIA", "d": "2020-01-02", "n": None}
        assert len(rows) == 3
    else:
        assert "ALGERIA" in result.stdout and "BRAZIL" in result.stdout
        assert "NULL" in result.stdout and "nationkey" in result.stdout
    assert "3 rows in" in result.stderr
    node_ids = set(local_cluster.node_ids)
    assert any(f" on {n} (" in result.stderr for n in node_ids)


@pytest.mark.integration
def test_a_query_error_is_one_line(local_cluster: Any) -> None:
    result = subprocess.run(
        [*_base(local_cluster), "SELECT * FROM no_such_table"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("prestoha: error: ProgrammingError: TABLE_NOT_FOUND")


@pytest.mark.integration
def test_a_failover_mid_read_is_reported_and_no_row_repeats(local_cluster: Any) -> None:
    # rows wide enough for several result pages; at most 1,000 rows read ahead
    sql = "SELECT orderkey, linenumber, comment FROM lineitem ORDER BY orderkey, linenumber"
    command = [*_base(local_cluster), sql, "--format", "csv", "--prefetch", "1000"]
    stderr: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        reader = threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True)
        reader.start()
        try:
            lines = _lines(proc.stdout)
            head = [next(lines) for _ in range(2001)]  # the header and 2,000 rows
            # the command soon blocks on the full pipe in the middle of the read: kill its server
            leader = local_cluster.leader()
            local_cluster.kill(local_cluster.index(leader.node_id))
            rest = list(lines)
            assert proc.wait(60) == 0, "".join(stderr)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        reader.join(10)
    rows = [tuple(row[:2]) for row in csv.reader(head[1:] + rest)]
    keys = [(int(a), int(b)) for a, b in rows]
    assert keys == sorted(set(keys)), "a row came twice or out of order"
    assert len(keys) == _count(local_cluster)
    text = "".join(stderr)
    assert f"{leader.node_id} (" in text and "failed over to" in text, text
    assert "verified replay" in text, text


def _lines(stream: Any) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\n")


def _count(cluster: Any) -> int:
    import prestoha

    with prestoha.connect(**cluster.connect_kwargs()) as conn:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM lineitem")
        return int(cur.fetchone()[0])
