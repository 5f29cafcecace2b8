"""What a failed aiohttp request says happened, against real sockets on loopback: the
failure taxonomy must see the same Cause whichever HTTP client met the failure."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from prestoha.aio._transport import cause_of, new_client
from prestoha.execution import Cause

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _failure(url: str, read_timeout: float = 5.0) -> BaseException:
    """The exception a GET of ``url`` raises with the driver's client."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5.0, sock_read=read_timeout)
    client = new_client(True)
    try:
        async with client.get(url, timeout=timeout) as response:
            await response.read()
    except BaseException as exc:
        return exc
    finally:
        await client.close()
    raise AssertionError(f"GET {url} succeeded")


async def _served(handler: Handler, read_timeout: float = 5.0) -> BaseException:
    """The exception of a GET to a local server whose connections ``handler`` serves."""
    handlers: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await reader.readuntil(b"\r\n\r\n")  # the request's head
            await handler(reader, writer)
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return await _failure(f"http://127.0.0.1:{port}/v1/statement", read_timeout)
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


def test_a_closed_port_is_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # nothing listens there now
    exc = asyncio.run(_failure(f"http://127.0.0.1:{port}/v1/statement"))
    assert isinstance(exc, aiohttp.ClientConnectorError)
    assert cause_of(exc) is Cause.REFUSED


def test_a_name_that_does_not_resolve_is_unresolved() -> None:
    # .invalid never resolves (RFC 2606)
    exc = asyncio.run(_failure("http://coordinator.prestoha.invalid:8080/v1/statement"))
    assert isinstance(exc, aiohttp.ClientConnectorError)
    assert cause_of(exc) is Cause.UNRESOLVED


def test_a_server_that_accepts_and_never_answers_gives_no_answer() -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    exc = asyncio.run(_served(hang, read_timeout=0.2))
    assert isinstance(exc, asyncio.TimeoutError)
    assert cause_of(exc) is Cause.NO_ANSWER


def test_a_server_that_closes_the_connection_without_answering_is_a_reset() -> None:
    async def close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    exc = asyncio.run(_served(close))
    assert isinstance(exc, aiohttp.ServerDisconnectedError)
    assert cause_of(exc) is Cause.RESET


def test_a_server_that_resets_the_connection_is_a_reset() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        # linger 0: close() sends RST instead of FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    exc = asyncio.run(_served(reset))
    assert isinstance(exc, (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError))
    assert cause_of(exc) is Cause.RESET


def test_an_answer_cut_short_is_cut() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n"
            b'{"id": "20240101_000000_00000_abcde", "data": [[1'
        )
        await writer.drain()
        writer.close()

    exc = asyncio.run(_served(cut))
    assert isinstance(exc, aiohttp.ClientPayloadError)
    assert cause_of(exc) is Cause.CUT


@pytest.mark.parametrize(
    ("exc", "cause"),
    [
        (aiohttp.InvalidURL("http://["), Cause.NOT_SENT),
        (aiohttp.ConnectionTimeoutError(), Cause.CONNECT_TIMEOUT),
        (aiohttp.SocketTimeoutError(), Cause.NO_ANSWER),
    ],
)
def test_errors_without_a_socket_to_show_them(exc: BaseException, cause: Cause) -> None:
    # Both timeouts are asyncio.TimeoutError too: a connect timeout (nothing was sent) must
    # not be taken for a node that went silent after the request.
    assert cause_of(exc) is cause
