"""``prestoha agent``, ``prestoha sandbox`` and ``prestoha status``: the cluster commands."""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import click

from prestoha.cli import cli
from prestoha.discovery.records import DEFAULT_CLUSTER, DEFAULT_ROOT

__all__ = ["agent", "sandbox", "status"]


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def agent(args: tuple[str, ...]) -> None:
    """Run beside a coordinator: health-check it, register it in ZooKeeper, elect a leader.

    prestoha agent --coordinator URL --zk HOSTS [--cluster NAME] [--node-id ID] ...
    (see prestoha agent --help).
    """
    from prestoha.agent import main

    sys.exit(main(list(args), prog="prestoha agent"))


@cli.command()
@click.option("--coordinators", default=3, show_default=True, type=click.IntRange(1, 16))
@click.option("--zookeeper-nodes", default=1, show_default=True, type=click.IntRange(1, 7))
@click.option("--cluster", default=DEFAULT_CLUSTER, show_default=True, help="cluster name")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object line")
def sandbox(coordinators: int, zookeeper_nodes: int, cluster: str, as_json: bool) -> None:
    """Run a local cluster (ZooKeeper, emulated coordinators, agents) until Ctrl-C."""
    from prestoha.testing.cluster import LocalCluster, ProcessError
    from prestoha.testing.zookeeper import ZooKeeperError

    try:
        with LocalCluster(coordinators, zookeeper_nodes=zookeeper_nodes, cluster=cluster) as c:
            info = _sandbox_info(c)
            if as_json:
                click.echo(json.dumps(info))
            else:
                _print_sandbox(info)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("sandbox stopped", err=True)
    except (ZooKeeperError, ProcessError) as exc:
        raise click.ClickException(str(exc)) from None


def _sandbox_info(c: Any) -> dict[str, Any]:
    leader = c.leader()
    return {
        "zk": c.zk_hosts,
        "cluster": c.cluster,
        "root": c.root,
        "sqlalchemy_url": c.sqlalchemy_url(),
        "connect": c.connect_kwargs(),
        "leader": leader.node_id if leader else None,
        "coordinators": [
            {"node_id": c.node_ids[i], "uri": uri, "pid": c.coordinator(i).pid}
            for i, uri in enumerate(c.coordinators)
        ],
        "zookeeper_pids": c.zookeeper.pids(),
        "pids": c.pids(),
        "directory": str(c.directory),
    }


def _print_sandbox(info: dict[str, Any]) -> None:
    click.echo(f"ZooKeeper:      {info['zk']}")
    click.echo(f"cluster:        {info['cluster']} (root {info['root']})")
    click.echo(f"SQLAlchemy URL: {info['sqlalchemy_url']}")
    args = ", ".join(f"{k}={v!r}" for k, v in info["connect"].items())
    click.echo(f"Python:         prestoha.connect({args})")
    for c in info["coordinators"]:
        mark = "  (leader)" if c["node_id"] == info["leader"] else ""
        click.echo(f"coordinator {c['node_id']}: {c['uri']}  pid {c['pid']}{mark}")
    click.echo(f"status:         prestoha status --zk {info['zk']} --cluster {info['cluster']}")
    click.echo("Press Ctrl-C to stop.")


@cli.command()
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
        raise click.ClickException(str(exc)) from None
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
        return {"info": info, "latency_ms": latency, "error": error}
    except requests.RequestException as exc:
        latency = round((time.monotonic() - started) * 1000, 1)
        return {"info": None, "latency_ms": latency, "error": type(exc).__name__}


def _print_status(result: dict[str, Any]) -> None:
    leader = result["leader"]
    click.echo(f"cluster {result['cluster']} under {result['root']} in ZooKeeper {result['zk']}")
    if leader is None:
        click.echo("leader: none")
    else:
        click.echo(f"leader: {leader['node_id']} {leader['uri']} (epoch {leader['epoch']})")
    click.echo(f"members: {len(result['members'])}")
    for m in result["members"]:
        info = m["info"] or {}
        if m["error"]:
            state = f"error: {m['error']}"
        else:
            starting = " starting" if info.get("starting") else ""
            state = f"version {info.get('nodeVersion', {}).get('version', '?')}{starting}"
        click.echo(f"  {m['node_id']:<12} {m['uri']:<28} {m['latency_ms']:>7.1f} ms  {state}")
    for problem in result["problems"]:
        click.echo(f"problem: {problem}")
