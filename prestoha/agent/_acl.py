"""The ACLs of the znodes the agent relies on, checked and repaired when it runs with auth.

An agent sets its ACL on the znodes it creates, but the root, the cluster and its containers
may have been created earlier: by an agent without ``--zk-auth``, by hand, or by someone who
wants to plant records. Each session, before registering, the agent walks the root's parts, the
cluster, ``members``, ``election`` and ``epoch``:

* a znode that grants everyone (``world:anyone``) more than READ is open: the agent replaces
  its ACL with its own (all rights for its user, READ for the ``--zk-read-auth`` user, READ for
  everyone unless ``--no-world-read``),
  which ZooKeeper allows only while the znode still grants ADMIN to the agent (an open one
  does). A child of ``members`` or ``election`` that is open was not written by an agent with
  auth and is deleted;
* a cluster znode that is not open but does not let the agent's user do what it must
  (create and delete children, write the counter) belongs to someone else;
* any other cluster znode gets what the agent's flags add (the reader's READ) and loses a world
  READ they no longer grant; other users' entries stay.

Whatever it cannot repair ends the agent with :class:`AclRefused`, naming the znode and what
to do. Nothing here ever grants everyone more than READ. Passwords never appear in messages.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from prestoha.discovery import ZkAuth
from prestoha.discovery.records import ClusterPaths

__all__ = ["AclRefused", "is_open", "secure_tree"]

log = logging.getLogger("prestoha.agent")

READ, WRITE, CREATE, DELETE, ADMIN = 1, 2, 4, 8, 16
_NEEDS = {"container": READ | CREATE | DELETE, "epoch": READ | WRITE}


class AclRefused(Exception):
    """The agent must not run with auth: a znode it relies on is open or not its own."""


def is_open(acls: Sequence[Any]) -> bool:
    """Whether an ACL grants everyone more than READ."""
    return any(a.id.scheme == "world" and a.perms & ~READ for a in acls)


def _granted(acls: Sequence[Any], credential: str) -> int:
    perms = 0
    for a in acls:
        if (a.id.scheme, a.id.id) in (("digest", credential), ("world", "anyone")):
            perms |= a.perms
    return perms


def secure_tree(
    client: Any,
    paths: ClusterPaths,
    auth: ZkAuth,
    acl: list[Any],
    ancestor_acl: list[Any],
    op: Callable[[Any], Any],
) -> None:
    """Create what is missing and check (and repair) the ACL of every znode the agent uses.

    ``op`` waits for one kazoo async result. Raises :class:`AclRefused`.
    """
    from kazoo.exceptions import NoAuthError, NodeExistsError
    from kazoo.security import make_digest_acl_credential

    credential = make_digest_acl_credential(auth.user, auth.password)
    parts = paths.root.strip("/").split("/")
    ancestors = ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]
    nodes = [(p, "ancestor") for p in ancestors] + [
        (paths.base, "container"),
        (paths.members, "container"),
        (paths.election, "container"),
        (paths.epoch, "epoch"),
    ]
    for path, kind in nodes:
        wanted = ancestor_acl if kind == "ancestor" else acl
        if op(client.exists_async(path)) is None:
            data = b"0" if kind == "epoch" else b""
            try:
                op(client.create_async(path, data, acl=wanted))
            except NodeExistsError:
                pass
            except NoAuthError:
                parent = path.rsplit("/", 1)[0] or "/"
                raise AclRefused(
                    f"{parent} does not let ZooKeeper user {auth.user!r} create {path}: "
                    f"create {path} with all rights for {auth.user!r}, or grant that user "
                    f"CREATE on {parent}"
                ) from None
        acls, stat = op(client.get_acls_async(path))
        if is_open(acls):
            try:
                op(client.set_acls_async(path, wanted, version=stat.aversion))
            except NoAuthError:
                raise AclRefused(
                    f"{path} lets everyone change it and user {auth.user!r} may not fix its "
                    f"ACL: set it to all rights for {auth.user!r} and at most READ for "
                    "world:anyone"
                ) from None
            log.warning(
                "%s was open to everyone: its ACL now gives only %s all rights", path, auth.user
            )
        elif kind != "ancestor" and _granted(acls, credential) & _NEEDS[kind] != _NEEDS[kind]:
            raise AclRefused(
                f"{path} does not give ZooKeeper user {auth.user!r} the rights the agent needs "
                f"(READ, CREATE, DELETE; WRITE on {paths.epoch}): it belongs to someone else"
            )
        elif kind != "ancestor" and (merged := _merged(acls, wanted)) is not None:
            _update(client, path, merged, stat, op)
        if path in (paths.members, paths.election):
            _drop_open_children(client, path, op)


def _merged(acls: Sequence[Any], wanted: Sequence[Any]) -> list[Any] | None:
    """``acls`` with every entry of ``wanted`` added and any world entry ``wanted`` lacks
    removed (a reader user or ``--no-world-read`` given after the znode was made); None when
    nothing changes. Other users' entries stay: someone granted them on purpose."""
    keep = [a for a in acls if a.id.scheme != "world" or a in wanted]
    add = [w for w in wanted if w not in keep]
    return None if not add and len(keep) == len(acls) else keep + add


def _update(client: Any, path: str, acl: list[Any], stat: Any, op: Callable[[Any], Any]) -> None:
    from kazoo.exceptions import NoAuthError

    try:
        op(client.set_acls_async(path, acl, version=stat.aversion))
    except NoAuthError:
        # not a danger to the agents, only to what a reader sees: go on, and say what to do
        log.warning("%s: no ADMIN right to give readers the ACL the agent's flags ask for", path)
    else:
        log.info("%s: ACL updated for the reader (--zk-read-auth) and world-read settings", path)


def _drop_open_children(client: Any, parent: str, op: Callable[[Any], Any]) -> None:
    from kazoo.exceptions import NoNodeError

    for child in op(client.get_children_async(parent)):
        path = f"{parent}/{child}"
        with contextlib.suppress(NoNodeError):
            acls, _stat = op(client.get_acls_async(path))
            if is_open(acls):
                log.warning("deleting %s: it was written without the agents' auth", path)
                op(client.delete_async(path))
