"""Where dispatched calls run: shared worker threads, one loop per calling thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from pytest_iris.tools._workers import in_worker, run_sync
from pytest_iris.tracing import current_trace_id, trace


async def _worker_thread_and_trace() -> tuple[str, str | None]:
    return await in_worker(lambda: (threading.current_thread().name, current_trace_id()))


def test_calls_reuse_worker_threads_and_carry_the_callers_trace_id() -> None:
    names: set[str] = set()
    with trace() as trace_id:
        for _ in range(50):
            name, seen = run_sync(_worker_thread_and_trace())
            names.add(name)
            assert seen == trace_id
    assert all(name.startswith("iris-tool") for name in names)
    assert len(names) <= 4  # sequential calls: a thread per call would give 50


def _slow_call() -> tuple[
    threading.Event, threading.Event, Callable[[], Coroutine[Any, Any, None]]
]:
    """A call still running when its caller gives up on it, and for 0.2 s after.

    It cannot end before the caller's ``wait_for`` timed out (it waits for
    ``given_up``), so the timeout is no race with it on a loaded machine; the
    0.2 s after leave a caller that did not join it time to see ``done`` unset.
    """
    given_up, done = threading.Event(), threading.Event()

    def slow() -> None:
        given_up.wait(60)
        done.wait(0.2)
        done.set()

    async def gives_up() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(in_worker(slow), timeout=0.01)
        given_up.set()

    return given_up, done, gives_up


def test_run_sync_returns_only_after_the_calls_it_started_ended() -> None:
    given_up, done, gives_up = _slow_call()
    run_sync(gives_up())
    assert given_up.is_set()
    assert done.is_set()  # like asyncio.run joining its executor


def test_asyncio_run_still_joins_a_call_it_stopped_waiting_for() -> None:
    """A caller's own ``asyncio.run`` returns after the tool's thread, as with to_thread."""
    given_up, done, gives_up = _slow_call()
    asyncio.run(gives_up())
    assert given_up.is_set()
    assert done.is_set()


def test_run_sync_refuses_a_running_loop() -> None:
    async def inside() -> None:
        coroutine = _worker_thread_and_trace()
        with pytest.raises(RuntimeError, match="running event loop"):
            run_sync(coroutine)

    asyncio.run(inside())


def test_each_thread_gets_its_own_loop() -> None:
    results: list[str | None] = []

    def call() -> None:
        with trace() as trace_id:
            _, seen = run_sync(_worker_thread_and_trace())
            results.append("ok" if seen == trace_id else seen)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == ["ok", "ok", "ok"]
