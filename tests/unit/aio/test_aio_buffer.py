"""The read-ahead queue of an asynchronous attempt: strictly bounded by the prefetch limit
(as the threads' queue is), and never in the way of a cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from prestoha.execution import PrefetchLimit
from prestoha.execution._async import _AsyncBuffer
from prestoha.execution._runner import AttemptEnded


def _page(n: int) -> Any:
    """A queue item standing for page ``n`` (the queue never looks inside)."""
    return ("page", n)


async def _produce(buffer: _AsyncBuffer, sizes: list[tuple[int, int]], put: list[int]) -> None:
    """The read-ahead task's loop: wait for room for a page like the last one, then put
    the next page."""
    last = (0, 0)
    for n, (nbytes, nrows) in enumerate(sizes):
        if not await buffer.wait_for_room(*last) or not buffer.put(_page(n), nbytes, nrows):
            return
        put.append(n)
        last = (nbytes, nrows)


async def _settled() -> None:
    """Let every task that can run, run (a producer with room goes on)."""
    for _ in range(20):
        await asyncio.sleep(0)


def test_a_rows_limit_holds_the_producer_back_until_the_consumer_takes_a_page() -> None:
    async def body() -> None:
        buffer = _AsyncBuffer(PrefetchLimit(rows=25))
        put: list[int] = []
        producer = asyncio.create_task(_produce(buffer, [(0, 10)] * 10, put))
        await _settled()
        assert put == [0, 1]  # 20 rows: a third page like the others would pass 25
        assert buffer.buffered == (0, 20)
        assert await buffer.get(1) == _page(0)
        await _settled()
        assert put == [0, 1, 2]
        assert buffer.buffered == (0, 20)
        buffer.close()
        await asyncio.wait_for(producer, 5)
        assert put == [0, 1, 2]

    asyncio.run(body())


def test_a_bytes_limit_holds_the_producer_back() -> None:
    async def body() -> None:
        buffer = _AsyncBuffer(PrefetchLimit(bytes=3000))
        put: list[int] = []
        producer = asyncio.create_task(_produce(buffer, [(1000, 1)] * 10, put))
        await _settled()
        assert put == [0, 1, 2]
        assert buffer.buffered == (3000, 3)
        for n in range(3):
            assert await buffer.get(1) == _page(n)
        await _settled()
        assert put == [0, 1, 2, 3, 4, 5]
        buffer.close()
        await asyncio.wait_for(producer, 5)

    asyncio.run(body())


def test_one_page_larger_than_the_limit_always_fits_an_empty_queue() -> None:
    async def body() -> None:
        buffer = _AsyncBuffer(PrefetchLimit(rows=5))
        put: list[int] = []
        producer = asyncio.create_task(_produce(buffer, [(0, 100), (0, 1)], put))
        await _settled()
        assert put == [0]
        assert await buffer.get(1) == _page(0)
        await asyncio.wait_for(producer, 5)
        assert put == [0, 1]
        assert await buffer.get(1) == _page(1)

    asyncio.run(body())


def test_get_on_an_empty_queue_gives_none_after_its_timeout_or_a_wake() -> None:
    async def body() -> None:
        buffer = _AsyncBuffer(PrefetchLimit(rows=5))
        assert await buffer.get(0.01) is None
        getter = asyncio.create_task(buffer.get(60))
        await _settled()
        assert not getter.done()
        buffer.wake()
        assert await asyncio.wait_for(getter, 5) is None
        ended = AttemptEnded()
        assert buffer.put(ended)
        assert await buffer.get(60) is ended

    asyncio.run(body())


def test_close_releases_a_waiting_producer_and_refuses_more() -> None:
    async def body() -> None:
        buffer = _AsyncBuffer(PrefetchLimit(rows=1))
        put: list[int] = []
        producer = asyncio.create_task(_produce(buffer, [(0, 1)] * 5, put))
        await _settled()
        assert put == [0]
        assert not producer.done()  # waiting for room
        buffer.close()
        await asyncio.wait_for(producer, 5)
        assert put == [0]
        assert buffer.buffered == (0, 0)
        assert not buffer.put(_page(9), 0, 1)
        assert await buffer.get(0.01) is None

    asyncio.run(body())


def test_a_cancelled_get_raises_even_when_a_page_arrives_in_the_same_turn() -> None:
    # A fetch loop cancelled (by asyncio.timeout, task.cancel()) as the read-ahead puts a
    # page must still end: asyncio.wait_for of Python < 3.12 returned the page instead
    # (python/cpython#86296) and the loop read on.
    async def body() -> None:
        buffer = _AsyncBuffer(PrefetchLimit(rows=100))
        getter = asyncio.create_task(buffer.get(60))
        await asyncio.sleep(0)  # the getter waits on the empty queue
        buffer.put(_page(0), 0, 1)
        getter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await getter
        # the page stays for whoever reads next
        assert await buffer.get(1) == _page(0)

    asyncio.run(body())
