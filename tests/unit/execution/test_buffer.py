from __future__ import annotations

import threading
import time

from prestoha.execution import PageBuffer, PrefetchLimit


def _fill(buffer: PageBuffer[int], sizes: list[tuple[int, int]], done: list[int]) -> None:
    for i, (nbytes, nrows) in enumerate(sizes):
        if not buffer.put(i, nbytes=nbytes, nrows=nrows):
            return
        done.append(i)


def _settle(done: list[int], expected: int) -> None:
    deadline = time.monotonic() + 5
    while len(done) < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # a producer that could go further would have done so by now


def test_bytes_limit_holds_the_producer_back() -> None:
    buffer: PageBuffer[int] = PageBuffer(PrefetchLimit(bytes=3000))
    done: list[int] = []
    t = threading.Thread(target=_fill, args=(buffer, [(1000, 10)] * 10, done), daemon=True)
    t.start()
    _settle(done, 3)
    assert done == [0, 1, 2]
    assert buffer.buffered == (3000, 30)
    assert buffer.get(1) == 0
    _settle(done, 4)
    assert done == [0, 1, 2, 3]
    buffer.close()
    t.join(2)
    assert not t.is_alive()


def test_rows_limit_and_one_page_always_fits() -> None:
    buffer: PageBuffer[int] = PageBuffer(PrefetchLimit(rows=5))
    done: list[int] = []
    t = threading.Thread(target=_fill, args=(buffer, [(0, 100), (0, 1)], done), daemon=True)
    t.start()
    _settle(done, 1)
    assert done == [0]  # a page larger than the limit still goes in when the buffer is empty
    assert buffer.get(1) == 0
    _settle(done, 2)
    assert done == [0, 1]
    t.join(2)


def test_get_times_out_empty_and_close_refuses_the_producer() -> None:
    buffer: PageBuffer[str] = PageBuffer(PrefetchLimit(rows=1))
    assert buffer.get(0.01) is None
    assert buffer.put("a", nrows=1)
    buffer.close()
    assert not buffer.put("b", nrows=1)
    assert buffer.get(0.01) is None


def _room_later(buffer: PageBuffer[int], nbytes: int, nrows: int, got: list[bool]) -> None:
    got.append(buffer.wait_for_room(nbytes, nrows))


def test_the_producer_waits_until_the_next_page_fits_within_the_limit() -> None:
    # The next page is fetched only when one like the last fits beside what is buffered:
    # with pages of 2500 bytes and a limit of 4000, one waits, never two (5000 bytes).
    buffer: PageBuffer[int] = PageBuffer(PrefetchLimit(bytes=4000))
    assert buffer.wait_for_room(2500, 10)  # nothing buffered: any page goes
    assert buffer.put(0, nbytes=2500, nrows=10)
    assert buffer.wait_for_room(1500, 10)  # exactly fits
    got: list[bool] = []
    t = threading.Thread(target=_room_later, args=(buffer, 2500, 10, got), daemon=True)
    t.start()
    time.sleep(0.2)  # a producer with room would have gone on by now
    assert got == []
    assert buffer.get(1) == 0
    _settle(got, 1)
    assert got == [True]
    t.join(2)


def test_a_rows_limit_counts_the_next_page_too_and_close_ends_the_wait() -> None:
    buffer: PageBuffer[int] = PageBuffer(PrefetchLimit(rows=100))
    assert buffer.put(0, nrows=60)
    assert buffer.wait_for_room(0, 40)
    got: list[bool] = []
    t = threading.Thread(target=_room_later, args=(buffer, 0, 60, got), daemon=True)
    t.start()
    time.sleep(0.2)
    assert got == []
    buffer.close()
    _settle(got, 1)
    assert got == [False]
    t.join(2)
