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
from typing import Any

from pytest_iris.host import Host

_lock = threading.RLock()


@contextlib.contextmanager
def pointed_at(host: Host, *, real: bool = False) -> Iterator[None]:
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

        saved_methods = {} if real else _stand_ins(psutil)
        psutil.PROCFS_PATH = str(host.proc)
        psutil.process_iter.cache_clear()
        setattr(psutil, "_LOWEST_PID", None)  # noqa: B010 (private, untyped)
        os.kill = routed_kill
    try:
        yield
    finally:
        with _lock:
            psutil.PROCFS_PATH = saved_path
            platform_process = getattr(psutil, "_psplatform").Process  # noqa: B009 (untyped, private)
            for name, method in saved_methods.items():
                setattr(platform_process, name, method)
            psutil.process_iter.cache_clear()
            setattr(psutil, "_LOWEST_PID", saved_lowest)  # noqa: B010
            os.kill = saved_kill


def _stand_ins(psutil: Any) -> dict[str, Any]:
    """Replace psutil's C-backed per-process calls while it reads a fake host.

    ``nice``, ``cpu_affinity``, ``ionice`` and ``rlimit`` call the kernel with
    the PID directly (no procfs, no audit event): on a fake host that PID is
    either nobody or an unrelated real process. The getters answer what a
    default process has; the setters refuse with AccessDenied naming why.
    Returns the originals, to put back.
    """
    cls = psutil._psplatform.Process
    ntp = psutil._psplatform.ntp

    def refuse(self: Any, *args: Any) -> None:
        raise psutil.AccessDenied(self.pid, msg="changing a fake sandbox process is not emulated")

    def rlimit(self: Any, resource_: int, limits: Any = None) -> Any:
        if limits is not None:
            refuse(self)
        return (-1, -1)  # RLIM_INFINITY, as for most daemons

    fakes: dict[str, Any] = {
        "nice_get": lambda self: 0,
        "nice_set": refuse,
        "cpu_affinity_get": lambda self: list(range(2)),
        "cpu_affinity_set": refuse,
        "ionice_get": lambda self: ntp.pionice(psutil.IOPRIO_CLASS_NONE, 0),
        "ionice_set": refuse,
        "rlimit": rlimit,
    }
    saved = {}
    for name, fake in fakes.items():
        if hasattr(cls, name):
            saved[name] = getattr(cls, name)
            setattr(cls, name, fake)
    return saved
