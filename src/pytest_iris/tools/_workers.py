"""Where dispatched tool calls run: the loop's executor, and one event loop per thread.

``asyncio.to_thread`` runs on the *event loop's* default executor, and
``asyncio.run`` makes a new loop each time and shuts its executor down at
the end: a synchronous dispatch (``asyncio.run`` around ``to_thread``)
started and joined two threads and built an event loop per call, most of
its cost (bench/tools.py). :func:`run_sync` instead reuses one loop per
calling thread, and with it that loop's worker threads; the loop is closed
when its thread ends or the interpreter exits. Like ``asyncio.run``, it
returns only after every tool call it started has ended.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import threading
import weakref
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_local = threading.local()
#: worker calls started under run_sync, joined before it returns
_joining: contextvars.ContextVar[list[threading.Event] | None] = contextvars.ContextVar(
    "pytest_iris_joining", default=None
)
#: every thread's loop still open (closed when its thread ends, or at exit)
_holders: weakref.WeakSet[_Loop] = weakref.WeakSet()


class _Loop:
    """A thread's own event loop, closed when the thread's locals go.

    A bare loop rather than ``asyncio.Runner``: the runner swaps the SIGINT
    handler in and out on every call, a fifth of a dispatch's own cost.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="iris-tool"))

    def run(self, coroutine: Coroutine[Any, Any, T], context: contextvars.Context) -> T:
        if asyncio._get_running_loop() is not None:
            coroutine.close()
            raise RuntimeError("run_sync() cannot be called from a running event loop")
        return self.loop.run_until_complete(self.loop.create_task(coroutine, context=context))

    def close(self) -> None:
        if not self.loop.is_closed():
            self.loop.close()

    def __del__(self) -> None:
        self.close()


def in_worker(call: Callable[..., T], /, *args: Any) -> asyncio.Future[T]:
    """``call(*args)`` on the running loop's executor, in a copy of the caller's context.

    The loop's default executor, as ``asyncio.to_thread`` uses: ``asyncio.run``
    joins its threads at the end, as it always did; :func:`run_sync`'s loop
    lives on, so its threads are reused from one call to the next.
    """
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    joining = _joining.get()
    if joining is None:  # nobody joins this call: no event to set
        return loop.run_in_executor(None, context.run, call, *args)
    ended = threading.Event()
    joining.append(ended)

    def work() -> T:
        try:
            return context.run(call, *args)
        finally:
            ended.set()

    return loop.run_in_executor(None, work)


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion from synchronous code, on this thread's own loop.

    Like ``asyncio.run`` (whose executor shutdown joins its threads), it returns
    only once every worker call the coroutine started has ended, even one it
    stopped waiting for at its time budget.
    """
    holder: _Loop | None = getattr(_local, "loop", None)
    if holder is None:
        holder = _Loop()
        _local.loop = holder
        _holders.add(holder)
    # the caller's context (its trace id), as asyncio.run would give it
    context = contextvars.copy_context()
    started: list[threading.Event] = []
    context.run(_joining.set, started)
    try:
        return holder.run(coroutine, context)
    finally:
        for ended in started:
            ended.wait()


@atexit.register
def _close() -> None:
    for holder in list(_holders):
        holder.close()
