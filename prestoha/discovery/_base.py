"""What discovery tells the driver: the members, the leader, and how fresh that is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Discovery", "Leader", "Member", "Topology"]


@dataclass(frozen=True)
class Member:
    """A coordinator that its agent found healthy and registered."""

    node_id: str
    uri: str
    environment: str = ""
    version: str = ""
    state: str = "ACTIVE"
    registered_at: str = ""
    zone: str | None = None
    weight: int = 100
    #: The client protocol the coordinator speaks, ``"trino"`` or ``"presto"`` (PrestoDB),
    #: as its agent found out; None in records of older agents.
    protocol: str | None = None


@dataclass(frozen=True)
class Leader:
    """The coordinator elected to take queries in ``leader`` mode.

    ``epoch`` only grows from one election to the next, so a client can refuse a leader
    record older than one it has already seen. ``counter`` names the epoch counter znode the
    epoch was taken from (its czxid): a recreated counter starts again at 1, and a client
    accepts the lower epochs only from the new counter. None in records of older agents.
    """

    node_id: str
    uri: str
    epoch: int
    counter: int | None = None


@dataclass(frozen=True)
class Topology:
    """One consistent view of the cluster.

    ``stale`` is true when the view comes from a cache because the source (ZooKeeper)
    cannot be reached right now; ``version`` grows with every change a source sees.
    """

    members: tuple[Member, ...] = ()
    leader: Leader | None = None
    stale: bool = False
    version: int = 0
    problems: tuple[str, ...] = field(default=(), compare=False)

    def member(self, node_id: str) -> Member | None:
        """The member with this node id, if it is registered."""
        for m in self.members:
            if m.node_id == node_id:
                return m
        return None


class Discovery(Protocol):
    """Where the driver learns which coordinators exist and which one leads.

    Implementations are thread-safe; ``topology()`` never blocks on the network.
    """

    def topology(self) -> Topology:
        """The latest known topology (possibly ``stale``)."""
        ...

    def subscribe(self, callback: Callable[[Topology], None]) -> Callable[[], None]:
        """Call ``callback`` with every new topology; returns a function that unsubscribes."""
        ...

    def wait_for(self, predicate: Callable[[Topology], bool], timeout: float) -> Topology | None:
        """Block until a topology satisfies ``predicate`` or ``timeout`` passes (then None)."""
        ...

    def close(self) -> None:
        """Release this user's share of the source (a shared ZooKeeper session stays up
        while other users hold it)."""
        ...
