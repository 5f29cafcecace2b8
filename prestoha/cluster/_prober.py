"""The prober: one background thread per cluster asking each coordinator ``GET /v1/info``."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable

import requests

from prestoha.discovery import Topology
from prestoha.routing import Router

__all__ = ["Prober", "tls_failure"]

log = logging.getLogger("prestoha.cluster")

_told: set[tuple[str, str]] = set()


def tls_failure(exc: BaseException, uri: str, verify: bool | str) -> bool:
    """Whether ``exc`` is a TLS certificate that did not verify, said once per node at
    WARNING: a configuration error (``verify=``, or the certificate), not a dead node."""
    cur: BaseException | None = exc
    seen = 0
    while cur is not None and seen < 10:
        if isinstance(cur, ssl.SSLCertVerificationError):
            break
        nested = cur.__cause__ or cur.__context__ or getattr(cur, "reason", None)
        if nested is None:
            nested = next((a for a in cur.args if isinstance(a, BaseException)), None)
        cur = nested if isinstance(nested, BaseException) else None
        seen += 1
    if not isinstance(cur, ssl.SSLCertVerificationError):
        return False
    if (uri, str(verify)) not in _told:
        _told.add((uri, str(verify)))
        log.warning(
            "the TLS certificate of %s does not verify (%s): not counted against the node; "
            "fix verify= (a CA bundle that signed it) or the certificate",
            uri,
            getattr(cur, "verify_message", None) or cur.strerror or "certificate not verified",
        )
    return True


class Prober:
    """One background thread per cluster that asks each coordinator ``GET /v1/info``.

    Its round trips feed the latency estimates (a long-poll GET would say nothing about a
    node), a good answer brings an ejected node back after its ejection time, and a
    refused connection marks a node down before any query has to find out. In ``leader``
    mode only the leader is probed: the others take no queries anyway. A node marked down
    that answers a probe is back in service at once.
    """

    def __init__(
        self,
        router: Router,
        topology: Callable[[], Topology],
        interval: float,
        *,
        leader_only: bool,
        verify: bool | str,
        on_down: Callable[[str], None] = lambda uri: None,
    ) -> None:
        self._router = router
        self._on_down = on_down
        self._topology = topology
        self._interval = interval
        self._leader_only = leader_only
        self._verify = verify
        self._stop = threading.Event()
        self._session = requests.Session()
        self._session.verify = verify
        self._thread = threading.Thread(target=self._run, name="prestoha-prober", daemon=True)

    def start(self) -> None:
        """Start probing every ``interval`` seconds."""
        self._thread.start()

    def stop(self) -> None:
        """Stop probing and wait (briefly) for the thread to end."""
        self._stop.set()
        self._thread.join(self._interval + 2.0)
        self._session.close()

    def _targets(self) -> list[str]:
        topo = self._topology()
        if self._leader_only:
            return [topo.leader.uri] if topo.leader else []
        return [m.uri for m in topo.members]

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            for uri in self._targets():
                if self._stop.is_set():
                    return
                self.probe(uri)

    def probe(self, uri: str) -> bool:
        """Ask one coordinator; True when it answered that it is ready."""
        router = self._router
        started = time.monotonic()
        try:
            answer = self._session.get(
                f"{uri}/v1/info", timeout=(1.0, max(1.0, min(self._interval, 5.0)))
            )
            info = answer.json() if answer.status_code == 200 else {}
        except requests.exceptions.ConnectionError as exc:
            if tls_failure(exc, uri, self._verify):
                return False
            if not isinstance(exc, requests.exceptions.ConnectTimeout):
                router.mark_down(uri)
                self._on_down(uri)
                return False
            router.record_failure(uri)
            return False
        except (requests.exceptions.RequestException, ValueError):
            router.record_failure(uri)
            return False
        ready = isinstance(info, dict) and info.get("starting") is False
        if not ready:
            router.record_failure(uri)
            return False
        router.observe_latency(uri, time.monotonic() - started)
        if router.state(uri) == "down":
            # It was marked down for a refused or silent connection, and answers again (a
            # restart, a paused process resumed): without this, a leader that came back
            # before its agent noticed anything would stay out for the whole ejection.
            router.reinstate(uri)
            log.info("coordinator %s answers again: back in service", uri)
        router.record_success(uri)
        return True
