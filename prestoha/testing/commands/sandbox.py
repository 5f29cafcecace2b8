"""``prestoha sandbox``: a local cluster (ZooKeeper, emulated coordinators, agents) until Ctrl-C.

It prints how to reach the cluster: the ZooKeeper hosts, a SQLAlchemy URL, the
``prestoha.connect`` keywords and each coordinator's URI and process id.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from prestoha.discovery.records import DEFAULT_CLUSTER
from prestoha.testing.commands import flavor_option

__all__ = ["sandbox"]


@click.command()
@click.option("--coordinators", default=3, show_default=True, type=click.IntRange(1, 16))
@click.option("--zookeeper-nodes", default=1, show_default=True, type=click.IntRange(1, 7))
@click.option("--cluster", default=DEFAULT_CLUSTER, show_default=True, help="cluster name")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object line")
@flavor_option
def sandbox(
    coordinators: int, zookeeper_nodes: int, cluster: str, as_json: bool, flavor: str
) -> None:
    """Run a local cluster (ZooKeeper, emulated coordinators, agents) until Ctrl-C."""
    from prestoha.testing.cluster import LocalCluster, ProcessError
    from prestoha.testing.zookeeper import ZooKeeperError

    try:
        with LocalCluster(
            coordinators, zookeeper_nodes=zookeeper_nodes, cluster=cluster, flavor=flavor
        ) as c:
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
        "flavor": c.flavor,
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
    click.echo(f"cluster:        {info['cluster']} (root {info['root']}, {info['flavor']})")
    click.echo(f"SQLAlchemy URL: {info['sqlalchemy_url']}")
    args = ", ".join(f"{k}={v!r}" for k, v in info["connect"].items())
    click.echo(f"Python:         prestoha.connect({args})")
    for c in info["coordinators"]:
        mark = "  (leader)" if c["node_id"] == info["leader"] else ""
        click.echo(f"coordinator {c['node_id']}: {c['uri']}  pid {c['pid']}{mark}")
    click.echo(f"status:         prestoha status --zk {info['zk']} --cluster {info['cluster']}")
    click.echo("Press Ctrl-C to stop.")
