"""The agent's health check of its coordinator, and the rise/fall rule that debounces it.

Healthy means ``GET /v1/info`` answers 200 with ``coordinator == true`` and
``starting == false``. Trino and PrestoDB answer it with the same fields and no authentication
(``io.trino.server.ServerInfoResource``, ``com.facebook.presto.server.ServerInfoResource``);
PrestoDB's ``/v1/status`` has no ``starting`` and needs the internal role
(``com.facebook.presto.server.StatusResource``), ``/v1/info/state`` the admin role: the agent
asks neither. A refused connection means the process is gone: it counts as ``fall``
failures at once, there is nothing to wait for.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from prestoha.protocol import protocol_of_version

__all__ = ["CheckResult", "HealthCheck", "Outcome", "RiseFall", "classify_info"]


class Outcome(Enum):
    """What one check found."""

    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    REFUSED = "refused"


@dataclass(frozen=True)
class CheckResult:
    """One health check: its outcome, why, and what the coordinator said about itself."""

    outcome: Outcome
    reason: str = ""
    environment: str = ""
    version: str = ""
    latency: float = 0.0

    @property
    def protocol(self) -> str | None:
        """The client protocol the coordinator speaks, told by its version: PrestoDB's
        look like ``0.289``, Trino's like ``475`` (None when the version says neither)."""
        return protocol_of_version(self.version)

    @property
    def healthy(self) -> bool:
        """Whether the check passed."""
        return self.outcome is Outcome.HEALTHY


def classify_info(status: int, body: bytes) -> CheckResult:
    """Judge a ``/v1/info`` answer (pure: no I/O)."""
    if status != 200:
        return CheckResult(Outcome.UNHEALTHY, f"/v1/info answered HTTP {status}")
    try:
        info = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return CheckResult(Outcome.UNHEALTHY, "/v1/info answered something that is not JSON")
    if not isinstance(info, dict):
        return CheckResult(Outcome.UNHEALTHY, "/v1/info answered JSON that is not an object")
    environment = info.get("environment")
    node_version = info.get("nodeVersion")
    version = node_version.get("version") if isinstance(node_version, dict) else None
    env_text = environment if isinstance(environment, str) else ""
    version_text = str(version) if isinstance(version, (str, int)) else ""
    if info.get("coordinator") is not True:
        # a worker, or a PrestoDB resource manager (coordinator=false, starting always true:
        # com.facebook.presto.server.ServerInfoResource.getInfo)
        return CheckResult(Outcome.UNHEALTHY, "not a coordinator", env_text, version_text)
    if info.get("starting") is not False:
        return CheckResult(Outcome.UNHEALTHY, "starting", env_text, version_text)
    return CheckResult(Outcome.HEALTHY, "", env_text, version_text)


class HealthCheck:
    """``GET <coordinator>/v1/info`` with a timeout, over a fresh connection each time."""

    def __init__(self, coordinator: str, timeout: float = 2.0, *, verify_tls: bool = True) -> None:
        parts = urlsplit(coordinator)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {coordinator!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.https = parts.scheme == "https"
        self.timeout = timeout
        self._context = ssl.create_default_context() if self.https else None
        if self._context is not None and not verify_tls:
            self._context.check_hostname = False
            self._context.verify_mode = ssl.CERT_NONE

    def __call__(self) -> CheckResult:
        """Check once; never raises for network trouble."""
        started = time.monotonic()
        conn: http.client.HTTPConnection
        if self.https:
            conn = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=self._context
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request("GET", "/v1/info", headers={"Accept": "application/json"})
            response = conn.getresponse()
            body = response.read(1 << 20)
            result = classify_info(response.status, body)
        except ConnectionRefusedError:
            result = CheckResult(Outcome.REFUSED, "connection refused")
        except TimeoutError:
            result = CheckResult(Outcome.UNHEALTHY, f"no answer within {self.timeout:g} s")
        except (OSError, http.client.HTTPException) as exc:
            result = CheckResult(Outcome.UNHEALTHY, f"{type(exc).__name__}: {exc}"[:200])
        finally:
            conn.close()
        latency = time.monotonic() - started
        return CheckResult(
            result.outcome, result.reason, result.environment, result.version, latency
        )


class RiseFall:
    """Debounce checks: up after ``rise`` healthy ones in a row, down after ``fall`` failed.

    A refused connection takes it down at once. It starts down.
    """

    def __init__(self, rise: int = 2, fall: int = 2) -> None:
        if rise < 1 or fall < 1:
            raise ValueError("rise and fall are at least 1")
        self.rise = rise
        self.fall = fall
        self.up = False
        self._healthy_run = 0
        self._failed_run = 0

    def observe(self, result: CheckResult) -> bool | None:
        """Record one check; returns True when it just went up, False when it just went down."""
        if result.healthy:
            self._healthy_run += 1
            self._failed_run = 0
            if not self.up and self._healthy_run >= self.rise:
                self.up = True
                return True
            return None
        self._healthy_run = 0
        self._failed_run = self.fall if result.outcome is Outcome.REFUSED else self._failed_run + 1
        if self.up and self._failed_run >= self.fall:
            self.up = False
            return False
        return None
