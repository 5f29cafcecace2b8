"""What one user of a shared ZooKeeper session is shown: allowed hosts, https, epochs.

The epoch rules: a leader record is used only when the epoch counter znode exists, the
record's epoch is not above the counter's version (every epoch is a version the counter took,
so a record claiming more was not written by an agent), the record names this counter (when it
names one) and its epoch is not below one this user was already shown. When the counter itself
is recreated (a new czxid: the tree was deleted and built again, epochs restart at 1) the
epochs seen before no longer count; that is logged once.
"""

from __future__ import annotations

import logging

from prestoha.discovery._base import Leader, Member, Topology
from prestoha.discovery._hostmatch import HostFilter
from prestoha.discovery._zksession import RawView, WarnOnce

__all__ = ["UserView"]

log = logging.getLogger("prestoha.discovery")
_warn_once = WarnOnce(log)


class UserView:
    """What one user of a shared session may see: its ``allowed_hosts`` (and with
    ``https_only`` no plain http coordinator), and never a leader older than one it has
    already been shown from the same epoch counter.

    The epoch guard sits after the host filter on purpose: a record pointing outside the
    allowed hosts must not be able to raise the epoch and so lock out the real leaders.
    """

    def __init__(self, host_filter: HostFilter, *, https_only: bool = False) -> None:
        self.filter = host_filter
        self.https_only = https_only
        self.max_epoch = -1
        self.max_epoch_node = ""
        self.counter_id: int | None = None

    def apply(self, raw: RawView) -> Topology:
        """The topology this user gets from ``raw`` (updates the epoch seen)."""
        problems = list(raw.problems)
        members: tuple[Member, ...] = raw.members
        leader: Leader | None = raw.leader
        if self.filter or self.https_only:
            kept = []
            for member in members:
                problem = self._refusal("member", member.node_id, member.uri)
                if problem is None:
                    kept.append(member)
                else:
                    problems.append(problem)
            members = tuple(kept)
            if leader is not None:
                problem = self._refusal("leader", leader.node_id, leader.uri)
                if problem is not None:
                    problems.append(problem)
                    leader = None
        self._follow_counter(raw.counter)
        if leader is not None:
            problem = self._epoch_problem(leader, raw.counter)
            if problem is not None:
                problems.append(problem)
                _warn_once(f"epoch#{leader.node_id}#{leader.epoch}#{raw.counter}", "%s", problem)
                leader = None
            else:
                self.max_epoch, self.max_epoch_node = leader.epoch, leader.node_id
        return Topology(
            members=members,
            leader=leader,
            stale=raw.stale,
            version=raw.version,
            problems=tuple(problems),
        )

    def _follow_counter(self, counter: tuple[int, int] | None) -> None:
        if counter is None:
            return
        if self.counter_id is not None and counter[0] != self.counter_id:
            _warn_once(
                f"counter#{self.counter_id}#{counter[0]}",
                "the epoch counter was recreated (epochs start again at 1): epoch %d seen "
                "before no longer counts",
                self.max_epoch,
            )
            self.max_epoch, self.max_epoch_node = -1, ""
        self.counter_id = counter[0]

    def _epoch_problem(self, leader: Leader, counter: tuple[int, int] | None) -> str | None:
        who = f"leader record of {leader.node_id} with epoch {leader.epoch}"
        if counter is None:
            return f"{who}: there is no epoch counter, so the epoch cannot be checked: ignored"
        czxid, version = counter
        if leader.counter is not None and leader.counter != czxid:
            return f"{who} was taken from another epoch counter than the current one: ignored"
        if leader.epoch > version:
            return f"{who}: the epoch counter never went past {version}: ignored"
        older = leader.epoch < self.max_epoch or (
            leader.epoch == self.max_epoch and leader.node_id != self.max_epoch_node
        )
        if older:
            return (
                f"{who}, but epoch {self.max_epoch} ({self.max_epoch_node}) was already "
                "seen: ignored"
            )
        return None

    def _refusal(self, what: str, node_id: str, uri: str) -> str | None:
        if self.https_only and not uri.startswith("https:"):
            why = "is plain http and credentials (auth) must not go there in the clear"
        elif not self.filter.allows(uri):
            why = "is outside allowed_hosts"
        else:
            return None
        problem = f"{what} {node_id} at {uri} {why}: ignored"
        _warn_once(f"{self.filter.patterns}#{self.https_only}#{what}#{uri}", "%s", problem)
        return problem
