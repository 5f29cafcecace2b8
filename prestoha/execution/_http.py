"""The HTTP transport: the Trino (or PrestoDB) client protocol over requests, one try per
request.

It speaks through the official client's ``TrinoRequest`` (authentication, the headers of
the client session) with ``max_attempts=1``: prestoha owns every retry. Every failure is
turned into a :class:`~prestoha.execution.TransportError` with its :class:`Cause`, read
from the exception types, never from their messages.
"""

from __future__ import annotations

import errno
import http.client
import logging
import socket
import ssl
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import requests.adapters
import trino.client
import trino.constants
import trino.exceptions

from prestoha import events
from prestoha.execution._interrupt import InFlightRequest, track_connections
from prestoha.execution._origin import Origin
from prestoha.execution._transport import Answer, Cause, TransportError
from prestoha.protocol import TRINO, Dialect, read_status, session_headers

log = logging.getLogger("prestoha.execution")

__all__ = ["HttpTransport", "cause_of", "new_http_session", "server_retry_of"]


class _DefaultHeadersOnly(requests.Session):
    """A session whose default headers cannot be changed.

    ``TrinoRequest`` copies the headers of its own query into the session's defaults.
    Every request passes its headers explicitly anyway, so the defaults are kept to
    requests' own: otherwise one query's headers (a prepared statement, a transaction
    id) would leak into another query that shares the connection pool.
    """

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[Any, Any] = {}

    @property
    def headers(self) -> Any:
        return requests.utils.default_headers()

    @headers.setter
    def headers(self, value: Any) -> None:
        pass

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        # requests reads the proxy variables of the environment at every request (a scan
        # of os.environ: a good part of a small query's time in the client). A pool talks
        # to one coordinator, so the answer is read once per origin and kept: a proxy
        # variable changed later takes effect in new connections.
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, _frozen(proxies), stream, verify, _frozen(cert))
        cached = self._environment.get(key)
        if cached is None:
            cached = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self._environment[key] = cached
        settings = dict(cached)
        settings["proxies"] = dict(settings["proxies"] or {})
        return settings


class _DialectRequest(trino.client.TrinoRequest):
    """The official client's request, its headers written in the coordinator's dialect
    (``X-Presto-*`` for PrestoDB, see :class:`~prestoha.protocol.Dialect`)."""

    def __init__(self, *args: Any, dialect: Dialect, **kwargs: Any) -> None:
        self._dialect = dialect
        # The base class copies its headers into the session's defaults, which a
        # ``_DefaultHeadersOnly`` session drops: not worth building them for that.
        self._built = False
        super().__init__(*args, **kwargs)
        self._built = True

    @property
    def http_headers(self) -> Any:
        if not self._built:
            return {}
        return self._dialect.request_headers(super().http_headers)

    def post(self, sql: str, additional_http_headers: dict[str, Any] | None = None) -> Any:
        extra = self._dialect.request_headers(additional_http_headers or {})
        return super().post(sql, dict(extra))

    def statement_headers(
        self, additional: Mapping[str, Any], base: Mapping[str, Any] | None = None
    ) -> dict[str, str]:
        """The headers :meth:`post` sends with a statement (for another HTTP client):
        ``base`` (default: :attr:`http_headers`, the headers of every request) and the
        statement's own."""
        headers = self.http_headers if base is None else dict(base)
        headers.update(self._dialect.request_headers(additional))
        headers.setdefault("Content-Type", trino.constants.CONTENT_TYPE_TEXT_UTF8)
        return dict(headers)


#: Connections kept open to one coordinator for reuse. requests keeps 10: a connection
#: shared by more threads than that opened a new one for most requests and dropped it after,
#: logging a urllib3 warning ("Connection pool is full") each time. Only connections that
#: were needed at once are ever opened.
POOL_SIZE = 256


def new_http_session(verify: bool | str) -> requests.Session:
    """An HTTP connection pool for one coordinator."""
    session = _DefaultHeadersOnly()
    session.verify = verify
    for prefix in ("http://", "https://"):
        session.mount(prefix, requests.adapters.HTTPAdapter(pool_maxsize=POOL_SIZE))
    track_connections(session)
    return session


class HttpTransport:
    """One statement's requests to one coordinator (see :class:`Transport`)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        scheme: str,
        client_session: trino.client.ClientSession,
        http_session: requests.Session,
        auth: Any,
        connect_timeout: float,
        read_timeout: float,
        next_uri_hosts: Iterable[str] = (),
        dialect: Dialect = TRINO,
    ) -> None:
        self._host = host
        self._node = f"{scheme}://{host}:{port}"
        self._connect_timeout = connect_timeout
        self._max_wait: str | None = None
        self._inflight = InFlightRequest()
        self._origin = Origin(scheme, host, port, next_uri_hosts)
        self._request = _DialectRequest(
            dialect=dialect,
            host=host,
            port=port,
            client_session=client_session,
            http_session=http_session,
            http_scheme=scheme,
            auth=auth,
            max_attempts=1,
            request_timeout=(connect_timeout, read_timeout),
        )

    def limit_wait(self, max_wait: float, read_timeout: float) -> None:
        """Ask the coordinator to answer every page request within ``max_wait`` seconds
        (Trino's and PrestoDB's ``maxWait``, on queued and executing URIs), and wait at
        most ``read_timeout`` for any answer: a silent node is then told from a busy one
        within about ``read_timeout``."""
        self._max_wait = f"{max(1, round(max_wait * 1000))}ms"
        # The official request reads its (connect, read) timeout from this attribute at
        # every request; it has no other way to change it.
        self._request._request_timeout = (self._connect_timeout, read_timeout)

    def interrupt(self) -> None:
        """Break the request in flight (made on another thread) and any made after it."""
        self._inflight.interrupt()

    def submit(self, sql: str, headers: Mapping[str, str]) -> Answer:
        return self._answer(lambda: self._request.post(sql, dict(headers)))

    def _statement(
        self, headers: Mapping[str, str], base: Mapping[str, str] | None = None
    ) -> tuple[str, dict[str, str]]:
        """The URL and headers of the POST of a statement (for another HTTP client), on
        ``base`` (default: :meth:`_page_headers`)."""
        return self._request.statement_url, self._request.statement_headers(headers, base)

    def _page_headers(self) -> dict[str, str]:
        """The headers of the GET of a page (for another HTTP client)."""
        return dict(self._request.http_headers)

    def fetch(self, uri: str) -> Answer:
        uri = self._next_uri(uri)
        return self._fetched(uri, self._answer(lambda: self._request.get(uri)))

    def _next_uri(self, uri: str) -> str:
        """The URI to GET for ``uri`` (a ``nextUri``), once it is checked to be the node's."""
        self._origin.check(uri)
        return uri if self._max_wait is None else _with_max_wait(uri, self._max_wait)

    def _fetched(self, uri: str, answer: Answer) -> Answer:
        retried = server_retry_of(uri)
        if retried is not None:
            _record_server_retry(self._node, retried, answer.status.get("id"))
        return answer

    def cancel(self, uri: str) -> None:
        self._origin.check(uri)
        try:
            self._request.delete(uri)
        except requests.RequestException as exc:
            raise _transport_error(exc) from exc
        except (OSError, ValueError) as exc:
            raise _not_sent(exc) from exc

    def segment_rows(self, data: Mapping[str, Any], mapper: Any) -> tuple[list[Any], int]:
        if mapper is None or not data.get("segments"):
            return [], 0
        client: Any = trino.client  # its segment classes are not typed
        encoding = data["encoding"]
        metadata = data.get("metadata")
        segments = []
        size = 0
        for raw in data["segments"]:
            kind = raw.get("type")
            segment: Any
            if kind == "inline":
                segment = client.InlineSegment(raw)
            elif kind == "spooled":
                segment = client.SpooledSegment(
                    raw,
                    self._request.unauthenticated(),  # type: ignore[no-untyped-call]
                    coordinator_host=self._host,
                    custom_headers={},
                )
            else:
                raise TransportError(Cause.MALFORMED, f"unknown result segment type {kind!r}")
            size += int(raw.get("metadata", {}).get("segmentSize", 0))
            segments.append(client.DecodableSegment(encoding, metadata, segment))
        try:
            return list(client.SegmentIterator(segments, mapper)), size
        except requests.RequestException as exc:
            raise _transport_error(exc) from exc

    def _answer(self, send: Any) -> Answer:
        try:
            with self._inflight.sending():
                response: requests.Response = send()
                body = response.content
        except requests.RequestException as exc:
            raise _transport_error(exc) from exc
        except (OSError, ValueError) as exc:
            # Raised while the request was being built (a header http.client cannot encode,
            # a CA bundle that cannot be read): nothing reached the coordinator.
            raise _not_sent(exc) from exc
        return self._read(response.status_code, body, _headers_of(response), lambda: response)

    def _read(
        self,
        code: int,
        body: bytes,
        headers: dict[str, list[str]],
        response: Callable[[], requests.Response],
    ) -> Answer:
        """The answer of HTTP status ``code`` with ``body`` and session ``headers``;
        ``response`` gives it as requests' response, for the official client to read an
        error answer."""
        if code != 200:
            raise TransportError(
                Cause.HTTP_STATUS,
                status=code,
                body=body[:200].decode("utf-8", "replace"),
            )
        try:
            status = read_status(body)
        except ValueError as exc:
            raise TransportError(Cause.MALFORMED, _one_line(str(exc))) from exc
        if status is None:
            # An empty body or an error answer: the official client raises its own typed
            # error for it (a TrinoQueryError for a failed query).
            try:
                self._request.process(response())
            except trino.exceptions.TrinoConnectionError as exc:
                raise TransportError(Cause.NO_STATUS, _one_line(str(exc))) from exc
            except (ValueError, KeyError, TypeError) as exc:
                raise TransportError(Cause.MALFORMED, _one_line(str(exc))) from exc
            raise TransportError(Cause.NO_STATUS, "the coordinator answered no status")
        return Answer(status, headers, len(body))


#: PrestoDB's server-side retry: a failed query's last page carries no error and points
#: here, and this URI answers with a new query (a new id and slug) running the same SQL
#: (``com.facebook.presto.server.protocol.Query.getNextResultWithRetry``,
#: ``QueuedStatementResource.retryFailedQuery``).
_SERVER_RETRY_PATH = "/v1/statement/queued/retry/"


def server_retry_of(uri: str) -> str | None:
    """The id of the query a PrestoDB coordinator retries at ``uri``, else None."""
    if _SERVER_RETRY_PATH not in uri:
        return None
    path = urlsplit(uri).path
    if not path.startswith(_SERVER_RETRY_PATH):
        return None
    return path[len(_SERVER_RETRY_PATH) :].split("/", 1)[0] or None


def _record_server_retry(node: str, old_id: str, new_id: object) -> None:
    # Not a failure: the coordinator runs the statement again by itself, before any row
    # was produced (PrestoDB retries only then), and the attempt follows it.
    log.info("%s retried query %s on its own as %s", node, old_id, new_id)
    events.emit("server_retry", node=node, query_id=old_id, new_query_id=new_id)


def _frozen(value: Any) -> Any:
    """A hashable form of a requests setting (a dict of proxies, a cert pair, a path)."""
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    if isinstance(value, list):
        return tuple(value)
    return value


def _with_max_wait(uri: str, max_wait: str) -> str:
    """``uri`` with its ``maxWait`` query parameter set to ``max_wait`` (an airlift
    Duration such as ``200ms``), which ``ExecutingStatementResource`` and
    ``QueuedStatementResource`` read (both cap it at one second)."""
    if "?" not in uri and "#" not in uri:  # Trino's nextUri: no query string
        return f"{uri}?maxWait={max_wait}"
    parts = urlsplit(uri)
    kept = [p for p in parts.query.split("&") if p and not p.startswith("maxWait=")]
    query = "&".join([*kept, f"maxWait={max_wait}"])
    return urlunsplit(parts._replace(query=query))


def _headers_of(response: requests.Response) -> dict[str, list[str]]:
    raw = response.raw
    if raw is not None and hasattr(raw, "headers") and hasattr(raw.headers, "items"):
        # urllib3 keeps repeated headers apart (one X-Trino-Set-Session per property).
        return session_headers(raw.headers.items())
    return session_headers(response.headers.items())


def _transport_error(exc: requests.RequestException) -> TransportError:
    cause = cause_of(exc)
    if cause is Cause.NOT_SENT:
        return _not_sent(exc)
    return TransportError(cause, _one_line(str(exc)))


def _not_sent(exc: BaseException) -> TransportError:
    # Only the type: the message of an invalid header repeats its value, maybe a credential.
    return TransportError(Cause.NOT_SENT, f"{type(exc).__name__} before anything was sent")


#: Errors requests raises while it builds a request, before any byte is sent.
_NOT_SENT = (
    requests.exceptions.InvalidHeader,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
)


def cause_of(exc: requests.RequestException) -> Cause:
    """What a requests exception says happened on the connection."""
    # Order matters: ConnectTimeout is a ConnectionError too, and so is an SSLError.
    if isinstance(exc, _NOT_SENT):
        return Cause.NOT_SENT
    if isinstance(exc, requests.exceptions.SSLError) and any(
        isinstance(c, ssl.SSLCertVerificationError) for c in _chain(exc)
    ):
        return Cause.TLS
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Cause.CONNECT_TIMEOUT
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return Cause.NO_ANSWER
    if isinstance(
        exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
    ):
        return Cause.CUT
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return Cause.LOST
    chain = list(_chain(exc))
    for cur in chain:
        if isinstance(cur, socket.gaierror) or type(cur).__name__ == "NameResolutionError":
            return Cause.UNRESOLVED
        if isinstance(cur, ConnectionRefusedError) or (
            isinstance(cur, OSError) and cur.errno == errno.ECONNREFUSED
        ):
            return Cause.REFUSED
        if isinstance(cur, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
            return Cause.RESET
        if (isinstance(cur, socket.timeout) or type(cur).__name__ == "ConnectTimeoutError") and any(
            type(c).__name__ == "NewConnectionError" for c in chain
        ):
            return Cause.CONNECT_TIMEOUT
    if any(type(cur).__name__ == "NewConnectionError" for cur in chain):
        return Cause.UNREACHABLE
    return Cause.LOST


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (causes, contexts, urllib3 reasons, args)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        cur = todo.pop(0)
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        for nested in (cur.__cause__, cur.__context__, getattr(cur, "reason", None)):
            if isinstance(nested, BaseException):
                todo.append(nested)
        todo.extend(a for a in getattr(cur, "args", ()) if isinstance(a, BaseException))


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:197] + "..."
