"""``prestoha query``: run one statement through the driver and print its rows.

Options carry the names of :func:`prestoha.connect`'s (``--failover-timeout`` is
``failover_timeout``). Rows go to stdout as a table, CSV or JSON lines; progress, failovers and
errors go to stderr. Exit status: 0 on success, 1 when the statement failed, 2 for bad usage,
130 on Ctrl-C.
"""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from prestoha.cli import cli

__all__ = ["CONNECT_OPTIONS", "connect_kwargs", "error_line", "query"]

log = logging.getLogger("prestoha.cli")

#: Options of ``prestoha query`` that map one to one onto ``prestoha.connect()`` keywords.
CONNECT_OPTIONS = (
    "zk",
    "hosts",
    "cluster",
    "root",
    "mode",
    "user",
    "catalog",
    "schema",
    "source",
    "session_properties",
    "roles",
    "timezone",
    "client_tags",
    "http_scheme",
    "verify",
    "allow_insecure_auth",
    "failover_timeout",
    "request_timeout",
    "connect_timeout",
    "allowed_hosts",
    "resume",
    "probe_interval",
    "hedge",
    "prefetch",
    "encoding",
    "legacy_primitive_types",
    "zk_auth",
    "zk_timeout",
)
_PROGRESS_AFTER = 1.0  # seconds before a progress bar appears
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint=option)
        out[name.strip()] = value
    return out


def connect_kwargs(params: dict[str, Any], password: str | None = None) -> dict[str, Any]:
    """The ``prestoha.connect()`` keywords for the command's parameters (unset ones left out)."""
    kwargs: dict[str, Any] = {}
    for name in CONNECT_OPTIONS:
        value = params.get(name)
        if value is None or value == () or value is False:
            continue
        kwargs[name] = value
    if "session_properties" in kwargs:
        kwargs["session_properties"] = _pairs(kwargs["session_properties"], "--session-properties")
    if "roles" in kwargs:
        roles = list(kwargs["roles"])
        kwargs["roles"] = (
            roles[0] if len(roles) == 1 and "=" not in roles[0] else _pairs(roles, "--roles")
        )
    for name in ("hosts", "client_tags", "allowed_hosts"):
        if name in kwargs:
            kwargs[name] = [v.strip() for item in kwargs[name] for v in item.split(",") if v]
    if "verify" in kwargs:
        verify = kwargs["verify"]
        kwargs["verify"] = {"true": True, "false": False}.get(verify.lower(), verify)
    if password is not None:
        from trino.auth import BasicAuthentication

        kwargs["auth"] = BasicAuthentication(kwargs.get("user") or "", password)
    return kwargs


def error_line(exc: BaseException) -> str:
    """One line for an error: its class and message, and where each attempt went."""
    from prestoha import errors

    message = getattr(exc, "message", None) or str(exc)
    text = f"{type(exc).__name__}: {' '.join(str(message).split())}"
    attempts = getattr(exc, "attempts", ())
    if attempts and (len(attempts) > 1 or isinstance(exc, errors.OperationalError)):
        seen: dict[str, int] = {}
        for a in attempts:
            key = f"{a.node}: {a.error or 'ok'}"
            seen[key] = seen.get(key, 0) + 1
        tried = "; ".join(k if n == 1 else f"{k} (x{n})" for k, n in seen.items())
        text += f" [attempts: {tried}]"
    return text


@cli.command()
@click.argument("sql")
@click.option("--zk", envvar="PRESTOHA_ZK", help="ZooKeeper hosts: h1:2181,h2:2181[/chroot]")
@click.option(
    "--hosts", multiple=True, help="coordinator URLs instead of --zk (repeat or comma list)"
)
@click.option("--cluster", help="cluster name in ZooKeeper [default: default]")
@click.option("--root", help="root znode [default: /prestoha]")
@click.option(
    "--mode", type=click.Choice(["leader", "any", "leader-preferred"]), help="routing mode"
)
@click.option("--user", envvar="TRINO_USER", help="user name [default: your login]")
@click.option(
    "--password", is_flag=True, help="ask for a password (or PRESTOHA_PASSWORD): basic auth"
)
@click.option("--catalog", help="default catalog")
@click.option("--schema", help="default schema")
@click.option("--source", help="query source [default: prestoha]")
@click.option("--session-properties", multiple=True, metavar="NAME=VALUE", help="session property")
@click.option("--roles", multiple=True, metavar="[CATALOG=]ROLE", help="role, or catalog=role")
@click.option("--timezone", help="session time zone, e.g. UTC")
@click.option("--client-tags", multiple=True, help="client tags (repeat or comma list)")
@click.option(
    "--http-scheme", type=click.Choice(["http", "https"]), help="scheme for bare host:port"
)
@click.option("--verify", metavar="true|false|CA_BUNDLE", help="TLS verification [default: true]")
@click.option("--allow-insecure-auth", is_flag=True, help="allow credentials over http")
@click.option("--failover-timeout", type=float, help="seconds to find a coordinator [default: 30]")
@click.option("--request-timeout", type=float, help="seconds without an answer [default: 5]")
@click.option("--connect-timeout", type=float, help="seconds to connect [default: 2]")
@click.option("--allowed-hosts", multiple=True, help="coordinator hosts discovery may return")
@click.option(
    "--resume", type=click.Choice(["verify", "restart-only", "never"]), help="mid-stream loss"
)
@click.option("--probe-interval", type=float, help="seconds between /v1/info probes; 0: off")
@click.option("--hedge", metavar="p95|p99|SECONDS", help="send a slow read to a second coordinator")
@click.option("--prefetch", metavar="ROWS|SIZE", help="read ahead: rows, or bytes like 4MiB")
@click.option("--encoding", metavar="LIST", help="spooled results: json, json+zstd, json+lz4")
@click.option("--legacy-primitive-types", is_flag=True, help="values as Trino's strings")
@click.option(
    "--zk-auth", envvar="PRESTOHA_ZK_AUTH", metavar="USER:PASSWORD", help="ZooKeeper digest"
)
@click.option("--zk-timeout", type=float, help="seconds to reach ZooKeeper [default: 5]")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="json: one object per line",
)
@click.option(
    "--progress/--no-progress", default=None, help="progress bar [default: on a terminal]"
)
@click.option("--quiet", "-q", is_flag=True, help="no summary line on stderr")
@click.option("--debug", is_flag=True, help="debug logs and tracebacks on stderr")
def query(sql: str, **params: Any) -> None:
    """Run SQL (or - to read it from stdin) through prestoha and print its rows.

    A failover is reported on stderr; a failed query prints one line and exits 1.
    """
    debug = bool(params.pop("debug"))
    err = Console(stderr=True, highlight=False)
    if debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    else:
        logging.getLogger("prestoha").setLevel(logging.ERROR)
        logging.getLogger("kazoo").setLevel(logging.CRITICAL)
    if sql == "-":
        sql = sys.stdin.read()
    password = None
    if params.pop("password"):
        password = _password()
    kwargs = connect_kwargs(params, password)
    if not kwargs.get("zk") and not kwargs.get("hosts"):
        raise click.UsageError(
            "say where the coordinators are: --zk HOSTS (or PRESTOHA_ZK) or --hosts URL"
        )
    try:
        code = _run(sql, kwargs, params, err)
    except KeyboardInterrupt:
        err.print("prestoha: interrupted; the query was cancelled", markup=False)
        code = 130
    except Exception as exc:
        if debug:
            raise
        err.print(f"prestoha: error: {error_line(exc)}", markup=False, soft_wrap=True)
        code = 1
    sys.exit(code)


def _password() -> str:
    import os

    found = os.environ.get("PRESTOHA_PASSWORD")
    if found:
        return found
    value: str = click.prompt("password", hide_input=True, err=True)
    return value


def _run(sql: str, kwargs: dict[str, Any], params: dict[str, Any], err: Console) -> int:
    import prestoha
    from prestoha import events

    began = time.monotonic()
    connection = prestoha.connect(**kwargs)
    names = {m.uri: m.node_id for m in connection.cluster.topology().members}
    unsubscribe = events.subscribe(
        _failover_reporter(err, names), frozenset({"attempt", "resubmission"})
    )
    show_progress = params["progress"]
    if show_progress is None:
        show_progress = err.is_terminal
    try:
        with connection:
            cursor = connection.cursor()
            with _Progress(cursor, err, enabled=bool(show_progress)) as progress:
                cursor.execute(sql)
                count = _write_rows(cursor, params["output_format"], progress.rows_coming)
            if not params["quiet"]:
                node = cursor.coordinator
                where = _where(node, names)
                what = f"{count:,} rows" if cursor.description else _update_text(cursor)
                moved = len(cursor.attempts) - 1
                extra = f", {moved} failover{'s' if moved != 1 else ''}" if moved > 0 else ""
                err.print(
                    f"{what} in {time.monotonic() - began:.2f} s on {where}{extra}",
                    markup=False,
                    style="dim",
                    soft_wrap=True,
                )
    finally:
        unsubscribe()
    return 0


def _where(uri: str | None, names: dict[str, str]) -> str:
    node = names.get(uri or "")
    return f"{node} ({uri})" if node and node not in str(uri) else str(uri)


def _update_text(cursor: Any) -> str:
    kind = cursor.update_type or "done"
    return f"{kind}: {cursor.rowcount} rows" if cursor.rowcount >= 0 else kind


def _failover_reporter(err: Console, names: dict[str, str]) -> Callable[..., None]:
    last: list[str] = []

    def label(uri: Any) -> str:
        node = names.get(uri)
        return f"{node} ({uri})" if node and node not in str(uri) else str(uri)

    def say(line: str) -> None:
        if last and last[-1] == line:
            return  # the same failure again: once is enough
        last[:] = [line]
        err.print(line, markup=False, style="yellow", soft_wrap=True)

    def report(event: str, **f: Any) -> None:
        if event == "attempt" and f.get("outcome") not in ("ok", "query failed"):
            say(f"prestoha: {label(f.get('node'))} failed: {f.get('reason')}; trying again")
        elif event == "resubmission":
            rows = f.get("replay_rows") or 0
            how = f" (verified replay of the {rows:,} rows already read)" if rows else ""
            say(f"prestoha: failed over to {label(f.get('node'))}{how}")

    return report


# -- rows ----------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, default=_json_value)
    return str(value)


def _rows(cursor: Any) -> Iterator[list[Any]]:
    while True:
        batch = cursor.fetchmany(1000)
        if not batch:
            return
        yield from batch


def _write_rows(cursor: Any, output_format: str, rows_coming: Callable[[], None]) -> int:
    if not cursor.description:
        return 0
    columns = [d[0] for d in cursor.description]
    out = sys.stdout
    count = 0
    if output_format != "table":
        rows_coming()
    if output_format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in _rows(cursor):
            writer.writerow(["" if v is None else _csv_value(v) for v in row])
            count += 1
    elif output_format == "json":
        for row in _rows(cursor):
            out.write(json.dumps(dict(zip(columns, row, strict=True)), default=_json_value))
            out.write("\n")
            count += 1
    else:
        from prestoha import NUMBER

        table = Table(header_style="bold")
        for name, d in zip(columns, cursor.description, strict=True):
            table.add_column(name, justify="right" if d[1] == NUMBER else "left")
        for row in _rows(cursor):
            table.add_row(*(Text(_text(v), "dim" if v is None else "") for v in row))
            count += 1
        rows_coming()
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=100_000)
        console.print(table)
    out.flush()
    return count


def _csv_value(value: Any) -> Any:
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, default=_json_value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return value


# -- progress ------------------------------------------------------------------------------


class _Progress:
    """A live bar on stderr from the coordinator's statistics, once a query runs a while."""

    def __init__(self, cursor: Any, console: Console, *, enabled: bool) -> None:
        self._cursor = cursor
        self._console = console
        self._enabled = enabled
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prestoha-progress", daemon=True)
        self._began = time.monotonic()

    def __enter__(self) -> _Progress:
        if self._enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Take the bar away (and wait until it is gone)."""
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def rows_coming(self) -> None:
        """Rows are about to be printed: stop the bar if it shares the terminal with them."""
        if sys.stdout.isatty():
            self.stop()

    def _run(self) -> None:
        if self._done.wait(_PROGRESS_AFTER):
            return
        # rows keep going to the real stdout, never through the bar's console
        with Live(
            self._frame(),
            console=self._console,
            refresh_per_second=8,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        ) as live:
            while not self._done.wait(0.125):
                live.update(self._frame())

    def _frame(self) -> Text:
        return progress_text(self._cursor.stats, time.monotonic() - self._began)


def progress_text(stats: dict[str, Any], elapsed: float, width: int = 30) -> Text:
    """One line: state, a bar from ``progressPercentage`` (or splits), rows, elapsed."""
    state = str(stats.get("state") or "STARTING")
    percent = stats.get("progressPercentage")
    total = stats.get("totalSplits") or 0
    if not isinstance(percent, (int, float)) and total:
        percent = 100.0 * (stats.get("completedSplits") or 0) / total
    text = Text(f"{state:<9} ", "bold")
    # a 0 % while rows are being processed means "not known yet" (as before scheduling)
    if isinstance(percent, (int, float)) and (percent > 0 or state == "FINISHED"):
        filled = max(0, min(width, round(width * percent / 100)))
        text.append("━" * filled, "green")
        text.append("━" * (width - filled), "grey37")
        text.append(f" {percent:5.1f}%")
    else:
        spin = _SPINNER[int(elapsed * 8) % len(_SPINNER)]
        text.append(f"{spin} running".ljust(width + 7), "yellow")
    rows = stats.get("processedRows")
    if isinstance(rows, int):
        text.append(f"  {rows:,} rows", "cyan")
    text.append(f"  {elapsed:.1f} s", "dim")
    return text
