"""How the driver finds coordinators: ZooKeeper (written by ``prestoha agent``) or a fixed list."""

from __future__ import annotations

from prestoha.discovery._base import Discovery, Leader, Member, Topology

__all__ = ["Discovery", "Leader", "Member", "Topology"]
