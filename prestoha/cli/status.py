"""``prestoha status``: the members, the leader and its epoch, and how each coordinator answers."""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import click

from prestoha.discovery.records import DEFAULT_CLUSTER, DEFAULT_ROOT
from prestoha.errors import printable, without_userinfo

__all__ = ["status"]


@click.command()
@click.option("--zk", required=True, envvar="PRESTOHA_ZK", help="ZooKeeper hosts")
@click.option("--cluster", default=DEFAULT_CLUSTER, show_default=True)
@click.option("--root", default=DEFAULT_ROOT, show_default=True)
@click.option(
    "--zk-auth", default=None, envvar="PRESTOHA_ZK_AUTH", help="user:password (digest auth)"
)
@click.option("--timeout", default=5.0, show_default=True, help="seconds for each network step")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option(
    "--watch",
    type=float,
    is_flag=False,
    flag_value=2.0,
    default=None,
    metavar="[SECONDS]",
    help="refresh every SECONDS (2) until Ctrl-C",
)
def status(
    zk: str,
    cluster: str,
    root: str,
    zk_auth: str | None,
    timeout: float,
    as_json: bool,
    watch: float | None,
) -> None:
    """Show the members, the leader and its epoch, and each member's /v1/info and latency.

    Exits 0 when a leader is registered, 1 when none is (with --watch: 0 on Ctrl-C).
    """
    from prestoha.discovery.zookeeper import ZooKeeperDiscovery
    from prestoha.errors import ConfigurationError, DiscoveryError

    if watch is not None and watch <= 0:
        raise click.BadParameter("must be more than 0 seconds", param_hint="--watch")
    try:
        with ZooKeeperDiscovery(
            zk, cluster=cluster, root=root, auth=zk_auth, connect_timeout=timeout
        ) as discovery:
            if watch is not None:
                _watch(lambda: _status(discovery.topology(), zk, cluster, root, timeout),
                       watch, as_json)  # fmt: skip
                return
            topology = discovery.topology()
    except (ConfigurationError, DiscoveryError) as exc:
        raise click.ClickException(printable(without_userinfo(str(exc)), 1000)) from None
    result = _status(topology, zk, cluster, root, timeout)
    if as_json:
        click.echo(json.dumps(result))
    else:
        _print_status(result)
    sys.exit(0 if result["leader"] is not None else 1)


def _status(topology: Any, zk: str, cluster: str, root: str, timeout: float) -> dict[str, Any]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        probes = list(pool.map(lambda m: _probe(m.uri, timeout), topology.members))
    leader = topology.leader
    return {
        "zk": zk,
        "cluster": cluster,
        "root": root,
        "leader": None if leader is None else leader.__dict__,
        "epoch": None if leader is None else leader.epoch,
        "members": [
            {**member.__dict__, **probe}
            for member, probe in zip(topology.members, probes, strict=True)
        ],
        "problems": list(topology.problems),
        "stale": topology.stale,
    }


def _watch(read: Any, every: float, as_json: bool) -> None:
    """Print the status every ``every`` seconds until Ctrl-C (one JSON line each with --json)."""
    terminal = sys.stdout.isatty() and not as_json
    try:
        while True:
            result = read()
            if as_json:
                click.echo(json.dumps(result))
            else:
                if terminal:
                    click.clear()
                else:
                    click.echo(f"--- {time.strftime('%H:%M:%S')}")
                _print_status(result)
                if result["stale"]:
                    click.echo("ZooKeeper unreachable: this is the last view it gave")
                if terminal:
                    click.echo(f"\n{time.strftime('%H:%M:%S')}, every {every:g} s; Ctrl-C stops")
            sys.stdout.flush()
            time.sleep(every)
    except KeyboardInterrupt:
        return


def _probe(uri: str, timeout: float) -> dict[str, Any]:
    import requests

    started = time.monotonic()
    try:
        response = requests.get(f"{uri}/v1/info", timeout=timeout)
        latency = round((time.monotonic() - started) * 1000, 1)
        try:
            info = response.json()
        except ValueError:
            info = None
        error = None if response.status_code == 200 else f"HTTP {response.status_code}"
        if error is None and not isinstance(info, dict):
            info, error = None, "not a /v1/info answer"
        return {"info": info, "latency_ms": latency, "error": error}
    except requests.RequestException as exc:
        latency = round((time.monotonic() - started) * 1000, 1)
        return {"info": None, "latency_ms": latency, "error": type(exc).__name__}


def _print_status(result: dict[str, Any]) -> None:
    # What coordinators and ZooKeeper say is shown through printable(): no escape sequence
    # or line break of theirs reaches the terminal.
    leader = result["leader"]
    zk = without_userinfo(result["zk"])
    click.echo(printable(f"cluster {result['cluster']} under {result['root']} in ZooKeeper {zk}"))
    if leader is None:
        click.echo("leader: none")
    else:
        shown = f"{leader['node_id']} {leader['uri']} (epoch {leader['epoch']})"
        click.echo(f"leader: {printable(shown)}")
    click.echo(f"members: {len(result['members'])}")
    for m in result["members"]:
        state = f"error: {m['error']}" if m["error"] else _version(m["info"])
        node_id, uri = printable(m["node_id"], 40), printable(m["uri"], 80)
        line = f"  {node_id:<12} {uri:<28} {m['latency_ms']:>7.1f} ms  {printable(state)}"
        click.echo(line)
    for problem in result["problems"]:
        click.echo(f"problem: {printable(problem, 400)}")


def _version(info: Any) -> str:
    """``version X [starting]`` from a ``/v1/info`` answer, whatever shape it has."""
    info = info if isinstance(info, dict) else {}
    node_version = info.get("nodeVersion")
    version = node_version.get("version") if isinstance(node_version, dict) else None
    starting = " starting" if info.get("starting") is True else ""
    return f"version {version if isinstance(version, (str, int)) else '?'}{starting}"
