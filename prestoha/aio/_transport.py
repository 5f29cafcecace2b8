"""The asynchronous HTTP transport: the client protocol over an ``aiohttp.ClientSession``.

It is the synchronous :class:`~prestoha.execution.HttpTransport` with its requests
awaited: the same statement URL and headers (the official client's ``TrinoRequest``
builds them), the same ``nextUri`` checks, ``maxWait`` and reading of an answer. Only the
sending differs, and how a failed send is told apart (:func:`cause_of`), so that the
failure taxonomy sees the same :class:`~prestoha.execution.Cause` whichever client met it.

Why aiohttp and not httpx: a page request to a local coordinator took 0.18 ms with
aiohttp, 1.2 ms with ``httpx.AsyncClient`` and 0.7 ms with requests (docs/async.md).
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import aiohttp
import requests
from requests.structures import CaseInsensitiveDict

from prestoha.execution import Answer, Cause, HttpTransport, TransportError
from prestoha.protocol import session_headers

__all__ = ["Access", "AsyncHttpTransport", "cause_of", "new_client"]


def new_client(verify: bool | str) -> aiohttp.ClientSession:
    """The HTTP client of one asynchronous connection (every coordinator): no limit on
    connections (each query in flight holds one), certificates checked as ``verify``
    says (as requests takes it: a flag, or a CA bundle)."""
    tls: ssl.SSLContext | bool = verify if isinstance(verify, bool) else True
    if isinstance(verify, str):
        tls = ssl.create_default_context(cafile=verify)
    connector = aiohttp.TCPConnector(limit=0, ssl=tls)
    # Not trust_env: with it aiohttp reads ~/.netrc and the proxy variables on a worker
    # thread at every request (two thread hops per request: half of a small query's time
    # in the client). A connection takes both from the environment once per coordinator,
    # at its first query there (see Access).
    return aiohttp.ClientSession(connector=connector)


class AsyncHttpTransport(HttpTransport):
    """One statement's requests to one coordinator, awaited (see ``AsyncTransport``)."""

    def __init__(
        self,
        *,
        client: aiohttp.ClientSession,
        access: dict[str, Access] | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self._client = client
        self._timeout = _timeout(self._connect_timeout, settings["read_timeout"])
        found = None if access is None else access.get(self._node)
        if found is None:
            pool: requests.Session = settings["http_session"]
            found = Access(_authorization(pool, self._node), _proxy(pool, self._node))
            if access is not None:
                access[self._node] = found
        self._auth = found.authorization
        self._proxy = found.proxy
        #: The headers of every request of the attempt (its session does not change).
        self._base: dict[str, str] | None = None

    def limit_wait(self, max_wait: float, read_timeout: float) -> None:
        super().limit_wait(max_wait, read_timeout)
        self._timeout = _timeout(self._connect_timeout, read_timeout)

    def interrupt(self) -> None:
        """Nothing to do: the attempt cancels the task of its request in flight."""

    def _headers(self) -> dict[str, str]:
        if self._base is None:
            # The official client leaves a header it has no value for as None (no schema,
            # no catalog): requests drops those, aiohttp would refuse to send them.
            built = {**self._page_headers(), **self._auth}
            self._base = {k: v for k, v in built.items() if v is not None}
        return self._base

    async def submit_async(self, sql: str, headers: Mapping[str, str]) -> Answer:
        url, sent = self._statement(headers, self._headers())
        sent = {k: v for k, v in {**sent, **self._auth}.items() if v is not None}
        return await self._send("POST", url, sent, sql.encode("utf-8"))

    async def fetch_async(self, uri: str) -> Answer:
        uri = self._next_uri(uri)
        answer = await self._send("GET", uri, self._headers())
        return self._fetched(uri, answer)

    async def cancel_async(self, uri: str) -> None:
        self._origin.check(uri)
        try:
            async with self._client.delete(
                uri, headers=self._auth, timeout=self._timeout, proxy=self._proxy
            ):
                pass
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _error(exc) from exc

    async def _send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None = None
    ) -> Answer:
        try:
            async with self._client.request(
                method,
                url,
                headers=headers,
                data=None if body is None else aiohttp.payload.BytesPayload(body),
                timeout=self._timeout,
                proxy=self._proxy,
            ) as response:
                content = await response.read()
                status = response.status
                received = response.headers
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _error(exc) from exc

        # The answer is read by the synchronous transport's code: the same checks, the same
        # errors, whichever client fetched it. An error answer is read by the official
        # client, from a requests response.
        def shim() -> requests.Response:
            response = requests.Response()
            response.status_code = status
            response._content = content
            response.headers = CaseInsensitiveDict(received)
            response.encoding = "utf-8"
            response.url = url
            return response

        return self._read(status, content, session_headers(received.items()), shim)


class Access(NamedTuple):
    """How one connection reaches one coordinator: the ``Authorization`` header and the
    proxy, read from its settings and the environment once (its first query there)."""

    authorization: dict[str, str]
    proxy: str | None


def _authorization(pool: requests.Session, node: str) -> dict[str, str]:
    """The ``Authorization`` header requests would send to ``node``: the connection's
    credentials (Basic, JWT: one header, the same on every request), else those of
    ``~/.netrc`` when the environment is trusted."""
    auth = pool.auth
    if auth is None and pool.trust_env:
        auth = requests.utils.get_netrc_auth(node)
    if auth is None:
        return {}
    probe = requests.Request("GET", node, auth=auth).prepare()
    return {k: v for k, v in probe.headers.items() if k.lower() == "authorization"}


def _proxy(pool: requests.Session, node: str) -> str | None:
    """The proxy requests would take to ``node`` (the pool reads the environment once per
    coordinator, see ``new_http_session``), or None."""
    if not pool.trust_env:
        return None
    proxies = pool.merge_environment_settings(node, {}, None, None, None)["proxies"]
    proxy: str | None = requests.utils.select_proxy(node, proxies)
    return proxy


def _timeout(connect: float, read: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)


def _error(exc: BaseException) -> TransportError:
    cause = cause_of(exc)
    if cause is Cause.NOT_SENT:
        return TransportError(cause, f"{type(exc).__name__} before anything was sent")
    return TransportError(cause, " ".join(str(exc).split())[:200] or type(exc).__name__)


def cause_of(exc: BaseException) -> Cause:
    """What an aiohttp exception says happened on the connection (as
    ``prestoha.execution.cause_of`` says it for requests)."""
    # Order matters: the certificate and DNS errors are connector errors too, and the
    # timeouts are both asyncio's TimeoutError and aiohttp's errors.
    if isinstance(exc, (aiohttp.InvalidURL, ValueError)):
        return Cause.NOT_SENT
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return Cause.TLS
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return Cause.UNRESOLVED
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return Cause.CONNECT_TIMEOUT
    if isinstance(exc, (aiohttp.SocketTimeoutError, asyncio.TimeoutError)):
        return Cause.NO_ANSWER
    if isinstance(exc, aiohttp.ClientPayloadError):
        return Cause.CUT
    if isinstance(exc, aiohttp.ClientConnectorError):
        for cur in _chain(exc):
            if isinstance(cur, ssl.SSLCertVerificationError):
                return Cause.TLS
            if isinstance(cur, socket.gaierror):
                return Cause.UNRESOLVED
            if isinstance(cur, ConnectionRefusedError) or (
                isinstance(cur, OSError) and cur.errno == errno.ECONNREFUSED
            ):
                return Cause.REFUSED
        return Cause.UNREACHABLE
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        # The peer closed or reset the connection before (or while) answering.
        return Cause.RESET
    return Cause.LOST


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        cur = todo.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        nested = (cur.__cause__, cur.__context__, getattr(cur, "os_error", None))
        todo.extend(c for c in nested if isinstance(c, BaseException))
