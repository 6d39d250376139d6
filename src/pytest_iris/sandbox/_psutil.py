"""Point the real psutil at a sandbox's procfs, and route its signals there.

``psutil.PROCFS_PATH`` is a module global that every Linux call reads
(``_common.get_procfs_path``), so swapping it makes ``pids()``,
``Process().children()``, ``net_connections()`` ... read the fake tree.
``process_iter`` keeps a module cache of Process objects, cleared on the
way in and out. psutil signals with ``os.kill`` (``send_signal``,
``terminate``, ``kill``, and ``pid_exists`` with signal 0), so while pointed
``os.kill`` delivers to the fake kernel when the PID is one of the host's;
an existence probe (signal 0) for a PID the host does not have fails with
ESRCH, and any other signal goes to the real ``os.kill`` (and so meets the
containment guard).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

_lock = threading.RLock()


class _Host(Protocol):
    @property
    def root(self) -> Path: ...

    @property
    def proc(self) -> Path: ...


@contextlib.contextmanager
def pointed_at(host: _Host, *, real: bool = False) -> Iterator[None]:
    """Swap ``psutil.PROCFS_PATH`` for ``host.proc`` until the block ends.

    ``real=True`` (live sandbox): the PIDs are real processes, so signals are
    real too; only existence probes of PIDs outside the view answer ESRCH.
    """
    import psutil

    from pytest_iris.sandbox import guard
    from pytest_iris.sandbox._commands import deliver_signal
    from pytest_iris.sandbox._state import load_state

    with _lock:
        saved_path = psutil.PROCFS_PATH
        saved_kill: Callable[[int, int], None] = os.kill
        saved_lowest = getattr(psutil, "_LOWEST_PID", None)
        root = host.root

        def routed_kill(pid: int, sig: int, /) -> None:
            if real:
                if (
                    sig == 0
                    and not os.path.lexists(f"{host.proc}/{pid}")
                    and not guard.may_signal(pid)
                ):
                    raise ProcessLookupError(3, "No such process")
                saved_kill(pid, sig)
                return
            if pid > 0 and pid in load_state(root).processes:
                deliver_signal(root, pid, sig)
                return
            if sig == 0 and not guard.may_signal(pid):
                # an existence probe: on this host that PID does not exist
                raise ProcessLookupError(3, "No such process")
            saved_kill(pid, sig)

        psutil.PROCFS_PATH = str(host.proc)
        psutil.process_iter.cache_clear()
        setattr(psutil, "_LOWEST_PID", None)  # noqa: B010 (private, untyped)
        os.kill = routed_kill
    try:
        yield
    finally:
        with _lock:
            psutil.PROCFS_PATH = saved_path
            psutil.process_iter.cache_clear()
            setattr(psutil, "_LOWEST_PID", saved_lowest)  # noqa: B010
            os.kill = saved_kill
