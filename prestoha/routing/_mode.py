"""The routing modes, defined once: which coordinators may take a query."""

from __future__ import annotations

import enum
from typing import Final

from prestoha.errors import ConfigurationError

__all__ = ["ROUTING_MODES", "RoutingMode", "validate_mode"]


class RoutingMode(str, enum.Enum):
    """Which coordinators may take a query.

    A ``str`` enum: each member equals its value (``RoutingMode.ANY == "any"``), so code
    and settings that pass the plain strings keep working.

    - ``LEADER`` (``"leader"``): only the elected leader (active-standby).
    - ``ANY`` (``"any"``): every healthy member, chosen by latency (multi-active).
    - ``LEADER_PREFERRED`` (``"leader-preferred"``): the leader while it is healthy, else
      any member.
    """

    LEADER = "leader"
    ANY = "any"
    LEADER_PREFERRED = "leader-preferred"

    def __str__(self) -> str:
        # the value, as a plain str would print: messages and logs show "any", not the member
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


#: The values of :class:`RoutingMode`, in declaration order.
ROUTING_MODES: Final[tuple[str, ...]] = tuple(mode.value for mode in RoutingMode)


#: Each mode by its value and by itself (a member is a str equal to its value).
_BY_VALUE: Final[dict[str, RoutingMode]] = {mode.value: mode for mode in RoutingMode}


def validate_mode(mode: object) -> RoutingMode:
    """``mode`` (a :class:`RoutingMode` or its value) as a :class:`RoutingMode`; anything
    else raises :class:`~prestoha.errors.ConfigurationError`."""
    found = _BY_VALUE.get(mode) if isinstance(mode, str) else None
    if found is not None:
        return found
    raise ConfigurationError("routing", f"unknown routing mode {mode!r}", ", ".join(ROUTING_MODES))
