"""``allowed_hosts``: which coordinator addresses a client may be sent to by ZooKeeper.

Each pattern is one of

* an IP network in CIDR form (``10.0.0.0/24``, ``fd00::/8``) or a single address
  (``10.0.0.7``, ``::1``): an IP host matches when it lies in the network;
* a host name, possibly starting with a ``*`` label (``*.corp.example.com``): the star stands
  for one or more whole labels, so it never matches part of a label and never the bare suffix
  (``corp.example.com`` itself is not matched by ``*.corp.example.com``);

optionally followed by ``:port`` (``[v6-network]:port`` for IPv6), which must then be equal.
Names are compared without case; an IP address never matches a name pattern and a name never
matches a network. Anything else (``10.0.0.*``, ``coord*``, ``*example.com``) is refused: a
glob on the host string lets ``10.0.0.*`` admit ``10.0.0.1.evil.example``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from prestoha.discovery.records import host_port
from prestoha.errors import ConfigurationError

__all__ = ["HostFilter", "HostPattern"]

_ACCEPTED = "10.0.0.0/24, *.corp.example.com, coord1.example.com:8443"
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class HostPattern:
    """One parsed ``allowed_hosts`` entry: a network or a label pattern, and maybe a port."""

    text: str
    network: _Network | None = None
    labels: tuple[str, ...] = ()
    wildcard: bool = False
    port: int | None = None

    @classmethod
    def parse(cls, text: str, option: str = "allowed_hosts") -> HostPattern:
        """Parse one pattern; :class:`ConfigurationError` naming ``option`` if it is neither a
        network nor a label pattern."""
        raw = text.strip().lower()
        host, port = _split_port(raw, text, option)
        if "/" in host or ":" in host or _looks_numeric(host):
            try:
                network = ipaddress.ip_network(host, strict=False)
            except ValueError:
                raise _bad(option, text, "not an IP network (use CIDR: 10.0.0.0/24)") from None
            return cls(text=raw, network=network, port=port)
        labels = tuple(host.rstrip(".").split("."))
        wildcard = labels[0] == "*"
        literal = labels[1:] if wildcard else labels
        if not literal or not all(_LABEL.match(label) for label in literal):
            raise _bad(option, text, "not a host name, '*.' + a host name, or an IP network")
        if literal[-1].isdigit():
            raise _bad(option, text, "looks like part of an IP address (use CIDR: 10.0.0.0/24)")
        return cls(text=raw, labels=literal, wildcard=wildcard, port=port)

    def matches(self, host: str, port: int) -> bool:
        """Whether ``host`` (lower case, no brackets) at ``port`` is allowed by this pattern."""
        if self.port is not None and port != self.port:
            return False
        address = _address(host)
        if self.network is not None:
            return address is not None and address in self.network
        if address is not None:
            return False
        labels = tuple(host.rstrip(".").split("."))
        n = len(self.labels)
        if self.wildcard:
            return len(labels) > n and labels[-n:] == self.labels and all(labels[:-n])
        return labels == self.labels


class HostFilter:
    """The ``allowed_hosts`` a coordinator's address must match (any one of them).

    No pattern (``None``, an empty string or sequence) allows everything.
    """

    def __init__(self, patterns: Iterable[str | HostPattern] = (), option: str = "") -> None:
        option = option or "allowed_hosts"
        parsed = [
            p if isinstance(p, HostPattern) else HostPattern.parse(p, option)
            for p in patterns
            if isinstance(p, HostPattern) or p.strip()
        ]
        self._patterns = tuple(parsed)
        self.patterns: tuple[str, ...] = tuple(p.text for p in parsed)

    @classmethod
    def of(cls, value: str | Iterable[str] | None, option: str = "allowed_hosts") -> HostFilter:
        """From a comma-separated string or a sequence of patterns."""
        if value is None:
            return cls()
        items = value.split(",") if isinstance(value, str) else list(value)
        if not all(isinstance(p, str) for p in items):
            raise ConfigurationError(option, "patterns must be strings", _ACCEPTED)
        return cls(items, option)

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def allows(self, uri: str) -> bool:
        """Whether a coordinator at ``uri`` may be used."""
        if not self._patterns:
            return True
        try:
            host, port = host_port(uri)
        except ValueError:
            return False
        return any(p.matches(host, port) for p in self._patterns)


def _split_port(raw: str, text: str, option: str) -> tuple[str, int | None]:
    port_text: str | None = None
    if raw.startswith("["):
        end = raw.find("]")
        if end < 0:
            raise _bad(option, text, "unclosed '['")
        host, rest = raw[1:end], raw[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise _bad(option, text, "expected ':port' after ']'")
            port_text = rest[1:]
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
    else:
        host = raw
    if not host:
        raise _bad(option, text, "no host")
    if port_text is None:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _bad(option, text, "the port must be a number from 1 to 65535")
    return host, int(port_text)


def _looks_numeric(host: str) -> bool:
    return all(part.isdigit() or part == "*" for part in host.split("."))


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _bad(option: str, text: str, why: str) -> ConfigurationError:
    return ConfigurationError(option, f"pattern {text.strip()!r}: {why}", _ACCEPTED)
