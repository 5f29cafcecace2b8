"""The agent's ZooKeeper side: its member znode, its place in the election, the leader znode.

One thread reconciles what ZooKeeper holds with what the agent wants, level-triggered: it wakes
on any watch, state change or request (and every ``tick`` seconds anyway) and fixes whatever
differs. A lost session, a znode deleted by hand, a create that timed out but happened after
all: each is found and repaired on the next pass, with no special case.

Contenders are kazoo ``Lock`` contenders (``<uuid>__lock__<sequence>``, data = node id), so
``kazoo.recipe.lock.Lock(client, election_path).contenders()`` lists the node ids in order.
The lowest sequence leads. A new leader takes the next epoch from a persistent counter
(a versioned set, so two writers can never hand out the same number; the epoch is the version
the counter then has) and writes the leader znode with it and the counter's czxid.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from typing import Any

from prestoha.agent._acl import AclRefused, secure_tree
from prestoha.discovery import (
    Leader,
    Member,
    ZkAuth,
    ZkHosts,
    make_acl,
    make_ancestor_acl,
    make_client,
)
from prestoha.discovery.records import (
    ClusterPaths,
    encode_leader,
    encode_member,
)

__all__ = ["Registrar"]

log = logging.getLogger("prestoha.agent")
_LOCK_NAME = "__lock__"


def _sequence(child: str) -> int | None:
    _head, sep, tail = child.rpartition(_LOCK_NAME)
    if not sep or len(tail) != 10 or not tail.lstrip("-").isdigit():
        return None
    return int(tail)


class Registrar:
    """Keeps one node's member, contender and leader znodes in line with what it wants.

    With ``election=False`` it holds the member znode only: it never contends, so it never
    leads (coordinators that are all active, whose clients route in ``any`` mode).
    """

    def __init__(
        self,
        hosts: ZkHosts,
        paths: ClusterPaths,
        node_id: str,
        *,
        session_timeout: float,
        auth: ZkAuth | None = None,
        world_read: bool = True,
        read_auth: ZkAuth | None = None,
        op_timeout: float = 3.0,
        tick: float = 1.0,
        election: bool = True,
    ) -> None:
        self.paths = paths
        self.node_id = node_id
        self.election = election
        self._acl = make_acl(auth, world_read, read_auth)
        self._client: Any = make_client(
            hosts, session_timeout=session_timeout, auth=auth, default_acl=self._acl
        )
        self._client.add_listener(self._on_state)
        self._auth = auth
        self._ancestor_acl = make_ancestor_acl(auth, world_read)
        self._hosts = hosts
        self._disconnected_since: float | None = None
        self._warned_disconnected = False
        self._base_ready: int | None = None
        self._op_timeout = op_timeout
        self._tick = tick
        self._prefix = uuid.uuid4().hex + _LOCK_NAME
        self._guard = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._want: Member | None = None
        # what this session holds: (session id, value)
        self._member_written: tuple[int, bytes] | None = None
        self._contender: tuple[int, str] | None = None
        self._leading: tuple[int, int, int] | None = None  # (session id, epoch, counter czxid)
        self._thread = threading.Thread(target=self._run, name="prestoha-agent-zk", daemon=True)
        self.last_error = ""
        #: why the agent must stop (a znode's ACL it cannot repair); empty while all is well
        self.refused = ""

    # -- used by the agent's main loop ----------------------------------------------------

    def start(self) -> None:
        """Start connecting (in the background, forever) and reconciling."""
        self._client.start_async()
        self._thread.start()

    def want(self, member: Member | None) -> None:
        """Be registered (and contend) as ``member``; None withdraws everything."""
        with self._guard:
            self._want = member
        self._wake.set()

    @property
    def connected(self) -> bool:
        """Whether the ZooKeeper session is connected."""
        return bool(self._client.connected)

    @property
    def leader_epoch(self) -> int | None:
        """The epoch while this node leads in the current session, else None."""
        leading, sid = self._leading, self._session_id()
        return leading[1] if leading is not None and leading[0] == sid else None

    @property
    def client_id(self) -> tuple[int, bytes] | None:
        """The ZooKeeper session as kazoo names it, ``(session id, password)``; None before the
        first connection. With it another client can take the session over (which is how a
        test expires it from outside, as ZooKeeper does after a long partition)."""
        client_id = self._client.client_id
        return None if not client_id else (int(client_id[0]), bytes(client_id[1]))

    @property
    def registered(self) -> bool:
        """Whether the member znode is held by the current session."""
        written, sid = self._member_written, self._session_id()
        return written is not None and written[0] == sid

    def shutdown(self) -> None:
        """Delete this node's znodes (leader first), close the session. Quick, never raises."""
        with self._guard:
            self._stopping = True
            self._want = None
        self._wake.set()
        self._thread.join(timeout=self._op_timeout)
        if self._client.connected:
            try:
                self._withdraw(timeout=1.0)
            except Exception as exc:
                log.debug("deleting znodes at shutdown failed: %s", exc)
        # closing the session removes every ephemeral znode of ours that is left
        try:
            self._client.stop()
            self._client.close()
        except Exception as exc:
            log.debug("closing the ZooKeeper session failed: %s", exc)

    # -- the reconciler -------------------------------------------------------------------

    def _on_state(self, state: str) -> None:
        if self._stopping:
            return
        if state != "CONNECTED":
            log.warning("ZooKeeper session %s", state.lower())
        else:
            log.info("ZooKeeper session connected")
        self._wake.set()

    def _on_watch(self, event: object) -> None:
        self._wake.set()

    def _session_id(self) -> int | None:
        client_id = self._client.client_id
        return int(client_id[0]) if client_id else None

    def _run(self) -> None:
        timeout = self._tick
        while True:
            self._wake.wait(timeout)
            self._wake.clear()
            with self._guard:
                if self._stopping:
                    return
                want = self._want
            timeout = self._tick
            if not self._client.connected:
                self._note_disconnected()
                continue
            self._disconnected_since = None
            try:
                if want is None:
                    self._withdraw(timeout=self._op_timeout)
                elif not self.refused:
                    self._reconcile(want)
                self.last_error = ""
            except AclRefused as exc:
                log.error("refusing to run with --zk-auth: %s", exc)
                self.refused = str(exc)
            except Exception as exc:
                text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if text != self.last_error:
                    log.warning("ZooKeeper update failed (will retry): %s", text)
                self.last_error = text
                timeout = 0.2

    def _note_disconnected(self) -> None:
        now = time.monotonic()
        if self._disconnected_since is None:
            self._disconnected_since, self._warned_disconnected = now, False
        elif not self._warned_disconnected and now - self._disconnected_since >= 5.0:
            self._warned_disconnected = True
            log.warning(
                "no ZooKeeper connection to %s for %.0f s; still trying",
                self._hosts,
                now - self._disconnected_since,
            )

    def _op(self, result: Any, timeout: float | None = None) -> Any:
        return result.get(timeout=timeout or self._op_timeout)

    def _reconcile(self, member: Member) -> None:
        sid = self._session_id()
        if sid is None:
            return
        if self._base_ready != sid:
            self._ensure_base()
            self._base_ready = sid
        self._ensure_member(member, sid)
        if not self.election:
            return
        if self._is_first_contender(sid):
            self._ensure_leader(member, sid)
        elif self._leading is not None:
            log.warning("lost leadership (epoch %d)", self._leading[1])
            self._leading = None

    def _ensure_base(self) -> None:
        """Create ``<root>/<cluster>``: the root's parts readable by all, the cluster with our
        ACL; with auth, check and repair the ACLs of every znode we rely on."""
        from kazoo.exceptions import NodeExistsError

        c = self._client
        if self._auth is not None and self._acl is not None and self._ancestor_acl is not None:
            secure_tree(c, self.paths, self._auth, self._acl, self._ancestor_acl, self._op)
            return
        parts = self.paths.base.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            path = "/" + "/".join(parts[:depth])
            if self._op(c.exists_async(path)) is None:
                with contextlib.suppress(NodeExistsError):
                    self._op(c.create_async(path, b""))

    def _ensure_member(self, member: Member, sid: int) -> None:
        from kazoo.exceptions import NodeExistsError, NoNodeError

        c, path = self._client, self.paths.member(member.node_id)
        data = encode_member(member)
        stat = self._op(c.exists_async(path, watch=self._on_watch))
        if stat is not None and stat.ephemeralOwner != sid:
            log.warning(
                "member znode %s belongs to another session (an earlier run of this agent, or "
                "a second agent with the same --node-id): replacing it",
                path,
            )
            with contextlib.suppress(NoNodeError):
                self._op(c.delete_async(path))
            stat = None
        if stat is None:
            try:
                self._op(c.create_async(path, data, ephemeral=True, makepath=True))
            except NodeExistsError:
                self._wake.set()
                return
            log.info("registered %s as %s", member.uri, path)
        elif self._member_written != (sid, data):
            self._op(c.set_async(path, data))
        self._member_written = (sid, data)

    def _is_first_contender(self, sid: int) -> bool:
        from kazoo.exceptions import NoNodeError

        c, parent = self._client, self.paths.election
        children = self._op(c.get_children_async(parent)) if self._contender else []
        if self._contender is not None and self._contender[0] == sid:
            mine = self._contender[1]
            if mine not in children:
                self._contender = None
        else:
            self._contender = None
        if self._contender is None:
            created = self._op(
                c.create_async(
                    f"{parent}/{self._prefix}",
                    self.node_id.encode("utf-8"),
                    ephemeral=True,
                    sequence=True,
                    makepath=True,
                )
            )
            self._contender = (sid, created.rsplit("/", 1)[1])
            children = self._op(c.get_children_async(parent))
        mine = self._contender[1]
        # a create that timed out earlier may have happened anyway: drop such twins
        for child in children:
            if child.startswith(self._prefix) and child != mine:
                with contextlib.suppress(NoNodeError):
                    self._op(c.delete_async(f"{parent}/{child}"))
        my_seq = _sequence(mine)
        ahead = sorted(
            (seq, child)
            for child in children
            if (seq := _sequence(child)) is not None
            and my_seq is not None
            and seq < my_seq
            and not child.startswith(self._prefix)
        )
        if not ahead:
            return True
        predecessor = f"{parent}/{ahead[-1][1]}"
        if self._op(c.exists_async(predecessor, watch=self._on_watch)) is None:
            self._wake.set()
        return False

    def _ensure_leader(self, member: Member, sid: int) -> None:
        from kazoo.exceptions import NodeExistsError, NoNodeError

        c, path = self._client, self.paths.leader
        counter = self._op(c.exists_async(self.paths.epoch, watch=self._on_watch))
        held = self._leading
        if held is None or held[0] != sid or counter is None or int(counter.czxid) != held[2]:
            # a new session, or the counter was deleted or recreated: clients accept only an
            # epoch the current counter handed out
            epoch, czxid = self._next_epoch()
            self._leading = held = (sid, epoch, czxid)
            log.info("elected leader with epoch %d", epoch)
        leader = Leader(node_id=member.node_id, uri=member.uri, epoch=held[1], counter=held[2])
        data = encode_leader(leader)
        try:
            current, stat = self._op(c.get_async(path, watch=self._on_watch))
        except NoNodeError:
            current, stat = None, None
        if stat is not None and stat.ephemeralOwner == sid and current == data:
            return
        if stat is not None:
            # we hold the lowest contender: whatever sits there is out of date
            with contextlib.suppress(NoNodeError):
                self._op(c.delete_async(path))
        try:
            self._op(c.create_async(path, data, ephemeral=True, makepath=True))
        except NodeExistsError:
            self._wake.set()
            return
        self._op(c.exists_async(path, watch=self._on_watch))

    def _next_epoch(self) -> tuple[int, int]:
        """The next epoch and the counter's czxid. The epoch is the version the counter
        takes with this increment (a versioned set: no two leaders get the same one), so
        clients can bound every epoch by the counter's version."""
        from kazoo.exceptions import BadVersionError, NodeExistsError

        c, path = self._client, self.paths.epoch
        with contextlib.suppress(NodeExistsError):
            self._op(c.create_async(path, b"0", makepath=True))
        while True:
            _data, stat = self._op(c.get_async(path))
            epoch = int(stat.version) + 1
            try:
                self._op(c.set_async(path, str(epoch).encode("ascii"), version=stat.version))
                return epoch, int(stat.czxid)
            except BadVersionError:
                continue

    def _withdraw(self, timeout: float) -> None:
        from kazoo.exceptions import NoNodeError

        c, sid = self._client, self._session_id()
        if sid is None:
            return
        steps: list[str] = []
        if self._leading is not None:
            steps.append(self.paths.leader)
        if self._contender is not None and self._contender[0] == sid:
            steps.append(f"{self.paths.election}/{self._contender[1]}")
        if self._member_written is not None and self._member_written[0] == sid:
            steps.append(self.paths.member(self.node_id))
        for path in steps:
            try:
                stat = self._op(c.exists_async(path), timeout)
                if stat is not None and stat.ephemeralOwner == sid:
                    self._op(c.delete_async(path), timeout)
            except NoNodeError:
                pass
            if path == self.paths.leader and self._leading is not None:
                log.info("resigned leadership (epoch %d)", self._leading[1])
                self._leading = None
            elif path.startswith(self.paths.election):
                self._contender = None
            else:
                log.info("deregistered %s", path)
                self._member_written = None
