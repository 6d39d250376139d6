"""A coherent sandboxed IRIS host: fake procfs, process tree, commands, guard.

* :class:`SandboxHost` — the fake host (procfs in the real format, an IRIS
  instance with its process tree and sockets, ``iris``/``sysctl``/``sudo``/
  ``kill`` executables on its own PATH);
* :mod:`~pytest_iris.sandbox.guard` — the containment guard (audit hook);
* :class:`~pytest_iris.sandbox.snapshot.Snapshot` and :func:`diff`;
* :class:`LiveSandbox` — the same host made of real processes and sockets
  inside Linux namespaces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_iris._lazy import lazy_exports

_NAMES = {
    "SandboxHost": "pytest_iris.sandbox.host",
    "Snapshot": "pytest_iris.sandbox.snapshot",
    "SnapshotDiff": "pytest_iris.sandbox.snapshot",
    "diff": "pytest_iris.sandbox.snapshot",
    "LiveSandbox": "pytest_iris.sandbox.live",
    "namespaces_available": "pytest_iris.sandbox.live",
}

__all__ = ["LiveSandbox", "SandboxHost", "Snapshot", "SnapshotDiff", "diff", "namespaces_available"]


__getattr__ = lazy_exports(__name__, _NAMES, globals())

if TYPE_CHECKING:
    from pytest_iris.sandbox.host import SandboxHost as SandboxHost
    from pytest_iris.sandbox.live import LiveSandbox as LiveSandbox
    from pytest_iris.sandbox.live import namespaces_available as namespaces_available
    from pytest_iris.sandbox.snapshot import Snapshot as Snapshot
    from pytest_iris.sandbox.snapshot import SnapshotDiff as SnapshotDiff
    from pytest_iris.sandbox.snapshot import diff as diff
