from __future__ import annotations

import threading
import time

from prestoha.execution._workers import WorkerPool


def _until(predicate, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_threads_are_reused_and_leave_when_idle() -> None:
    pool = WorkerPool("t", idle_timeout=0.3)
    names: list[str] = []
    done = threading.Event()
    pool.submit(lambda: names.append(threading.current_thread().name))
    assert _until(lambda: pool.busy == 0 and len(names) == 1)
    ident = []
    pool.submit(lambda: (ident.append(threading.get_ident()), done.set()))
    assert done.wait(5)
    assert pool.threads == 1  # the idle thread took the second task
    assert _until(lambda: pool.threads == 0)


def test_concurrent_tasks_get_their_own_threads() -> None:
    pool = WorkerPool("t", idle_timeout=0.3)
    release = threading.Event()
    started = threading.Semaphore(0)

    def task() -> None:
        started.release()
        release.wait(5)

    for _ in range(5):
        pool.submit(task)
    for _ in range(5):
        assert started.acquire(timeout=5)
    assert pool.busy == 5
    release.set()
    assert _until(lambda: pool.busy == 0)
    assert _until(lambda: pool.threads == 0)


def test_a_failing_task_does_not_kill_the_pool(caplog) -> None:  # type: ignore[no-untyped-def]
    pool = WorkerPool("t", idle_timeout=0.3)

    def boom() -> None:
        raise RuntimeError("boom")

    pool.submit(boom)
    ran = threading.Event()
    assert _until(lambda: pool.busy == 0)
    pool.submit(ran.set)
    assert ran.wait(5)
    assert "background task failed" in caplog.text


def test_idle_threads_can_be_released_at_once() -> None:
    pool = WorkerPool("test-release", idle_timeout=60)
    done = threading.Event()
    pool.submit(done.set)
    assert done.wait(5)
    assert _until(lambda: pool.busy == 0)
    assert pool.threads == 1
    assert pool.release_idle() == 1
    assert pool.threads == 0
    assert _until(lambda: not any(t.name == "test-release" for t in threading.enumerate()))
    again = threading.Event()
    pool.submit(again.set)  # a new thread serves the next task
    assert again.wait(5)
    assert pool.threads == 1
