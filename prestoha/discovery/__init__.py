"""How the driver finds coordinators: ZooKeeper (written by ``prestoha agent``) or a fixed list.

It also exports the ZooKeeper settings the agent shares with the reader: host strings, digest
auth, ACLs and the kazoo client with its reconnect policy.
"""

from __future__ import annotations

from prestoha.discovery._base import Discovery, Leader, Member, Topology
from prestoha.discovery._zkconfig import (
    KAZOO_LOGGER,
    ZkAuth,
    ZkHosts,
    ZkTls,
    make_acl,
    make_ancestor_acl,
    make_client,
    parse_auth,
    parse_hosts,
    parse_tls,
)
from prestoha.discovery.records import RecordError
from prestoha.discovery.static import StaticDiscovery
from prestoha.discovery.zookeeper import HostFilter, ZooKeeperDiscovery

__all__ = [
    "KAZOO_LOGGER",
    "Discovery",
    "HostFilter",
    "Leader",
    "Member",
    "RecordError",
    "StaticDiscovery",
    "Topology",
    "ZkAuth",
    "ZkHosts",
    "ZkTls",
    "ZooKeeperDiscovery",
    "make_acl",
    "make_ancestor_acl",
    "make_client",
    "parse_auth",
    "parse_hosts",
    "parse_tls",
]
