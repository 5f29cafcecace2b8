"""How the driver finds coordinators: ZooKeeper (written by ``prestoha agent``) or a fixed list."""

from __future__ import annotations

from prestoha.discovery._base import Discovery, Leader, Member, Topology
from prestoha.discovery.records import RecordError
from prestoha.discovery.static import StaticDiscovery
from prestoha.discovery.zookeeper import HostFilter, ZooKeeperDiscovery

__all__ = [
    "Discovery",
    "HostFilter",
    "Leader",
    "Member",
    "RecordError",
    "StaticDiscovery",
    "Topology",
    "ZooKeeperDiscovery",
]
