"""A small client for the emulator's admin API (``/_emulator/...``)."""

from __future__ import annotations

from typing import Any

import requests

__all__ = ["EmulatorAdmin"]


class EmulatorAdmin:
    """Talks to the admin API of an emulator started with ``--admin``.

    ``EmulatorAdmin("http://127.0.0.1:41234").set_faults(latency_ms=200)``.
    """

    def __init__(self, uri: str, *, timeout: float = 10.0) -> None:
        self.uri = uri.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._session.request(
            method, f"{self.uri}/_emulator/{path}", json=body, timeout=self.timeout
        )
        if response.status_code != 200:
            raise RuntimeError(
                f"admin {method} /_emulator/{path} failed: {response.status_code} {response.text}"
            )
        return response.json()

    def faults(self) -> dict[str, Any]:
        """The current fault settings."""
        result: dict[str, Any] = self._call("GET", "faults")
        return result

    def set_faults(self, **fields: Any) -> dict[str, Any]:
        """Merge fault fields (``latency_ms=200``, ``fail_post={"status": 503, "count": 3}``...)."""
        result: dict[str, Any] = self._call("POST", "faults", fields)
        return result

    def reset(self) -> dict[str, Any]:
        """Switch every fault off."""
        result: dict[str, Any] = self._call("POST", "reset")
        return result

    def forget(self) -> int:
        """Forget every query; returns how many were known."""
        return int(self._call("POST", "forget")["forgotten"])

    def queries(self) -> list[dict[str, Any]]:
        """Every query the emulator knows, oldest first."""
        result: list[dict[str, Any]] = self._call("GET", "queries")
        return result

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def __enter__(self) -> EmulatorAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
