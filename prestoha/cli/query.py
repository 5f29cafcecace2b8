"""``prestoha query``: run one statement through the driver and print its rows.

Options carry the names of :func:`prestoha.connect`'s (``--failover-timeout`` is
``failover_timeout``). Rows go to stdout as a table, CSV or JSON lines; progress, failovers and
errors go to stderr. Exit status: 0 on success, 1 when the statement failed, 2 for bad usage,
130 on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click
from rich.console import Console

from prestoha.cli._output import Progress, write_rows
from prestoha.execution import ResumeMode
from prestoha.routing import RoutingMode

__all__ = ["CONNECT_OPTIONS", "connect_kwargs", "error_line", "query"]

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
    "protocol",
    "legacy_primitive_types",
    "zk_auth",
    "zk_timeout",
    "zk_tls",
    "zk_ca",
    "zk_cert",
    "zk_key",
    "next_uri_hosts",
    "unknown_functions",
)


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
    for name in ("hosts", "client_tags", "allowed_hosts", "next_uri_hosts"):
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
    name = type(exc).__name__
    if isinstance(exc, errors.QueryError):
        # Its message is Trino's alone, without the error name; its first base is the
        # PEP 249 class (ProgrammingError ...), which says more than UserError.
        message = str(exc).split("\n", 1)[0]
        name = type(exc).__bases__[0].__name__
    text = f"{name}: {' '.join(str(message).split())}"
    attempts = getattr(exc, "attempts", ())
    if attempts and (len(attempts) > 1 or isinstance(exc, errors.OperationalError)):
        seen: dict[str, int] = {}
        for a in attempts:
            key = f"{a.node}: {a.error or 'ok'}"
            seen[key] = seen.get(key, 0) + 1
        tried = "; ".join(k if n == 1 else f"{k} (x{n})" for k, n in seen.items())
        text += f" [attempts: {tried}]"
    return text


@click.command()
@click.argument("sql")
@click.option("--zk", envvar="PRESTOHA_ZK", help="ZooKeeper hosts: h1:2181,h2:2181[/chroot]")
@click.option(
    "--hosts", multiple=True, help="coordinator URLs instead of --zk (repeat or comma list)"
)
@click.option("--cluster", help="cluster name in ZooKeeper [default: default]")
@click.option("--root", help="root znode [default: /prestoha]")
@click.option(
    "--mode", type=click.Choice([mode.value for mode in RoutingMode]), help="routing mode"
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
@click.option("--next-uri-hosts", multiple=True, help="other hosts a nextUri may point to")
@click.option(
    "--unknown-functions",
    type=click.Choice(["read", "write"]),
    help="a call to a function not known to be pure: read or write [default: read]",
)
@click.option(
    "--resume", type=click.Choice([resume.value for resume in ResumeMode]), help="mid-stream loss"
)
@click.option("--probe-interval", type=float, help="seconds between /v1/info probes; 0: off")
@click.option(
    "--hedge", metavar="p90|p95|p99|SECONDS", help="send a slow read to a second coordinator"
)
@click.option("--prefetch", metavar="ROWS|SIZE", help="read ahead: rows, or bytes like 4MiB")
@click.option("--encoding", metavar="LIST", help="spooled results: json, json+zstd, json+lz4")
@click.option(
    "--protocol",
    type=click.Choice(["trino", "presto", "auto"]),
    help="the coordinators' client protocol (default: auto)",
)
@click.option("--legacy-primitive-types", is_flag=True, help="values as Trino's strings")
@click.option(
    "--zk-auth", envvar="PRESTOHA_ZK_AUTH", metavar="USER:PASSWORD", help="ZooKeeper digest"
)
@click.option("--zk-timeout", type=float, help="seconds to reach ZooKeeper [default: 5]")
@click.option("--zk-tls", is_flag=True, help="ZooKeeper over TLS (implied by --zk-ca/cert/key)")
@click.option("--zk-ca", metavar="PEM", help="CA of the ZooKeeper servers' certificates")
@click.option("--zk-cert", metavar="PEM", help="client certificate for ZooKeeper")
@click.option("--zk-key", metavar="PEM", help="key of --zk-cert")
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
    with _library_logs(quiet=not debug):
        _query(sql, params, err, debug)


@contextlib.contextmanager
def _library_logs(*, quiet: bool) -> Iterator[None]:
    """Without --debug, the library's warnings stay out of the way: the command reports itself.
    The levels are put back afterwards (the command may run inside another program)."""
    loggers = [logging.getLogger("prestoha"), logging.getLogger("kazoo")]
    before = [logger.level for logger in loggers]
    if quiet:
        loggers[0].setLevel(logging.ERROR)
        loggers[1].setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, before, strict=True):
            logger.setLevel(level)


def _query(sql: str, params: dict[str, Any], err: Console, debug: bool) -> None:
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
            with Progress(cursor, err, enabled=bool(show_progress)) as progress:
                cursor.execute(sql)
                count = write_rows(cursor, params["output_format"], progress.rows_coming)
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
