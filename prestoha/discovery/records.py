"""The znode layout and the JSON records the agent writes and clients read (contract version 1).

Under a root path (default ``/prestoha``) and a cluster name (default ``default``)::

    <root>/<cluster>/members/<node_id>   EPHEMERAL   member record
    <root>/<cluster>/election/...        kazoo Lock contenders, data = node_id
    <root>/<cluster>/leader              EPHEMERAL   leader record
    <root>/<cluster>/epoch               PERSISTENT  the last epoch handed out (decimal)

An epoch is the version the epoch counter znode got when the epoch was taken, so no epoch is
ever above the counter's version, and the leader record names the counter (its czxid): a
reader refuses a leader whose epoch its counter never handed out.

Readers accept any record version from 1 up, read the version 1 fields and ignore keys they
do not know: a later version may add fields, never change these. Whatever cannot be read
raises :class:`RecordError` (and only that), so a caller can skip the record and go on.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from prestoha.discovery._base import Leader, Member
from prestoha.errors import ConfigurationError

__all__ = [
    "DEFAULT_CLUSTER",
    "DEFAULT_ROOT",
    "MAX_EPOCH",
    "MAX_RECORD_BYTES",
    "RECORD_VERSION",
    "ClusterPaths",
    "RecordError",
    "check_node_id",
    "decode_epoch",
    "decode_leader",
    "decode_member",
    "encode_leader",
    "encode_member",
    "host_port",
    "normalize_uri",
]

RECORD_VERSION = 1
DEFAULT_ROOT = "/prestoha"
DEFAULT_CLUSTER = "default"
#: A record larger than this is not ours (ours are a few hundred bytes); refuse to parse it.
MAX_RECORD_BYTES = 64 * 1024
_MAX_NAME = 200
#: Epochs are versions of the epoch counter znode, a signed 32-bit number in ZooKeeper.
MAX_EPOCH = 2**31 - 1
_MAX_ZXID = 2**63 - 1


class RecordError(ValueError):
    """A znode's content is not a record this version of prestoha can use."""


def _name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if len(name) > _MAX_NAME:
        return f"is longer than {_MAX_NAME} characters"
    if name in (".", "..", "zookeeper"):
        return f"{name!r} is reserved"
    if "/" in name or any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in name):
        return "must not contain '/' or control characters"
    return None


def check_node_id(node_id: str, option: str = "node_id") -> str:
    """Return ``node_id`` if it can name a znode, else raise :class:`ConfigurationError`."""
    problem = _name_problem(node_id)
    if problem:
        raise ConfigurationError(option, f"{node_id!r} {problem}", "letters, digits, '-', '_', '.'")
    return node_id


@dataclass(frozen=True)
class ClusterPaths:
    """The znode paths of one cluster under one root."""

    root: str
    cluster: str

    @classmethod
    def of(cls, root: str = DEFAULT_ROOT, cluster: str = DEFAULT_CLUSTER) -> ClusterPaths:
        """Validate ``root`` and ``cluster``; raise :class:`ConfigurationError` when unusable."""
        if not isinstance(root, str) or not root.startswith("/"):
            raise ConfigurationError("root", f"{root!r} is not an absolute znode path", "/prestoha")
        parts = [part for part in root.split("/") if part]
        clean = "/" + "/".join(parts)
        for part in parts:
            problem = _name_problem(part)
            if problem:
                raise ConfigurationError("root", f"path element {part!r} {problem}")
        problem = _name_problem(cluster)
        if problem:
            raise ConfigurationError("cluster", f"{cluster!r} {problem}", "default")
        return cls(root=clean, cluster=cluster)

    @property
    def base(self) -> str:
        """``<root>/<cluster>``."""
        return f"{self.root.rstrip('/')}/{self.cluster}"

    @property
    def members(self) -> str:
        """The parent of the member znodes."""
        return f"{self.base}/members"

    @property
    def election(self) -> str:
        """The parent of the election (lock) contenders."""
        return f"{self.base}/election"

    @property
    def leader(self) -> str:
        """The ephemeral leader znode."""
        return f"{self.base}/leader"

    @property
    def epoch(self) -> str:
        """The persistent epoch counter."""
        return f"{self.base}/epoch"

    def member(self, node_id: str) -> str:
        """The member znode of ``node_id``."""
        return f"{self.members}/{node_id}"


def host_port(uri: str) -> tuple[str, int]:
    """The host (lower case, without IPv6 brackets) and port of an ``http(s)://`` URI.

    Raises :class:`ValueError` when the URI is not one a coordinator can have.
    """
    if not isinstance(uri, str) or len(uri) > 2048:
        raise ValueError("not a string of reasonable length")
    try:
        parts = urlsplit(uri.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"unparseable URI ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("scheme must be http or https")
    if not parts.hostname:
        raise ValueError("no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials are not allowed in a coordinator URI")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("a coordinator URI has no path, query or fragment")
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    if port == 0:
        raise ValueError("port 0")
    return parts.hostname.lower(), port


def normalize_uri(uri: str) -> str:
    """``scheme://host:port`` with the default port made explicit; :class:`ValueError` if bad."""
    host, port = host_port(uri)
    scheme = urlsplit(uri.strip()).scheme
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def encode_member(member: Member) -> bytes:
    """The znode data of a member record."""
    record = {
        "v": RECORD_VERSION,
        "node_id": member.node_id,
        "uri": member.uri,
        "environment": member.environment,
        "version": member.version,
        "state": member.state,
        "registered_at": member.registered_at,
        "zone": member.zone,
        "weight": member.weight,
    }
    if member.protocol is not None:
        record["protocol"] = member.protocol
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode_leader(leader: Leader) -> bytes:
    """The znode data of the leader record."""
    record = {
        "v": RECORD_VERSION,
        "node_id": leader.node_id,
        "uri": leader.uri,
        "epoch": leader.epoch,
    }
    if leader.counter is not None:
        record["counter"] = leader.counter
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_member(data: bytes | None, *, node_id: str | None = None) -> Member:
    """Read a member record; ``node_id`` is the znode's name, which the record must match."""
    record = _load(data)
    member = Member(
        node_id=_node_id(record),
        uri=_uri(record),
        environment=_opt_str(record, "environment", ""),
        version=_opt_str(record, "version", ""),
        state=_opt_str(record, "state", "ACTIVE"),
        registered_at=_opt_str(record, "registered_at", ""),
        zone=_zone(record),
        weight=_weight(record),
        protocol=_protocol(record),
    )
    if node_id is not None and member.node_id != node_id:
        raise RecordError(f"record names node {member.node_id!r} but sits under {node_id!r}")
    return member


def decode_leader(data: bytes | None) -> Leader:
    """Read the leader record."""
    record = _load(data)
    epoch = record.get("epoch")
    if not _is_int(epoch) or not 0 <= epoch <= MAX_EPOCH:
        raise RecordError(f"'epoch' must be an integer from 0 to {MAX_EPOCH}")
    counter = record.get("counter")
    if counter is not None and (not _is_int(counter) or not 0 < counter <= _MAX_ZXID):
        raise RecordError("'counter' must be a positive integer (a znode's czxid)")
    return Leader(node_id=_node_id(record), uri=_uri(record), epoch=epoch, counter=counter)


def decode_epoch(data: bytes | None) -> int:
    """Read the epoch counter znode (an ASCII decimal; empty means 0)."""
    if not data:
        return 0
    try:
        text = data.decode("ascii").strip()
        value = int(text) if text.isdigit() and len(text) < 20 else -1
    except UnicodeDecodeError:
        value = -1
    if value < 0:
        raise RecordError("the epoch counter is not a non-negative decimal integer")
    return value


def _load(data: bytes | None) -> dict[str, Any]:
    if data is None or len(data) == 0:
        raise RecordError("empty")
    if not isinstance(data, (bytes, bytearray)):
        raise RecordError("not bytes")
    if len(data) > MAX_RECORD_BYTES:
        raise RecordError(f"{len(data)} bytes, more than {MAX_RECORD_BYTES}")
    try:
        record = json.loads(bytes(data).decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RecordError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(record, dict):
        raise RecordError("not a JSON object")
    version = record.get("v")
    if not _is_int(version) or version < 1:
        raise RecordError(f"record version {version!r} is not an integer >= 1")
    return record


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _node_id(record: dict[str, Any]) -> str:
    value = record.get("node_id")
    problem = _name_problem(value)
    if problem:
        raise RecordError(f"'node_id' {problem}")
    assert isinstance(value, str)
    return value


def _uri(record: dict[str, Any]) -> str:
    value = record.get("uri")
    if not isinstance(value, str):
        raise RecordError("'uri' must be a string")
    try:
        return normalize_uri(value)
    except ValueError as exc:
        raise RecordError(f"'uri' {value[:100]!r}: {exc}") from None


def _opt_str(record: dict[str, Any], key: str, default: str) -> str:
    value = record.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str) or len(value) > 1000:
        raise RecordError(f"{key!r} must be a string")
    if not value.isprintable():
        raise RecordError(f"{key!r} must not contain control or format characters")
    return value


def _zone(record: dict[str, Any]) -> str | None:
    value = record.get("zone")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 1000:
        raise RecordError("'zone' must be a string or null")
    if not value.isprintable():
        raise RecordError("'zone' must not contain control or format characters")
    return value


#: The values of a member record's optional ``protocol`` (added without a version bump:
#: older readers ignore it, and a record without it reads as None).
_PROTOCOLS = ("trino", "presto")


def _protocol(record: dict[str, Any]) -> str | None:
    value = record.get("protocol")
    # A protocol a later agent may name and this reader does not know reads as unknown,
    # so the client finds it out itself rather than skipping the member.
    return value if value in _PROTOCOLS else None


def _weight(record: dict[str, Any]) -> int:
    value = record.get("weight", 100)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not _is_int(value) or not 0 <= value <= 1_000_000:
        raise RecordError("'weight' must be an integer from 0 to 1000000")
    assert isinstance(value, int)
    return value
