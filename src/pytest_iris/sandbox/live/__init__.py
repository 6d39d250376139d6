"""The live sandbox: the host made of real processes and sockets in Linux namespaces.

* :mod:`.sandbox` — :class:`LiveSandbox` (namespaces, psutil view, sysctl);
* :mod:`._iris` — its ``iris`` command and ``bin/`` entry point;
* :mod:`._role` — the stdlib-only script every namespace process runs.
"""

from __future__ import annotations

from pytest_iris.sandbox.live.sandbox import IPC_KEYS, LiveSandbox, main, namespaces_available

__all__ = ["IPC_KEYS", "LiveSandbox", "main", "namespaces_available"]
