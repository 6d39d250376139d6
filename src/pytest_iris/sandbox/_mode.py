"""Which containment mode a sandbox will use, guessed without starting a process.

Stdlib-only and cheap: the pytest report header imports it at every start
(the real decision, :func:`pytest_iris.sandbox.containment.mode`, starts a
probe and is made only when a sandbox is first used).
"""

from __future__ import annotations

import os
from typing import Final

#: environment variable forcing (or, in children, telling) the mode
MODE_ENV: Final = "PYTEST_IRIS_CONTAINMENT"
MODES: Final = ("namespaces", "refuse")
_TOOL_DIRS: Final = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


def _have(name: str) -> bool:
    return any(os.access(os.path.join(d, name), os.X_OK) for d in _TOOL_DIRS)


def expected_mode() -> str:
    """``namespaces`` when user namespaces are allowed and util-linux is installed."""
    forced = os.environ.get(MODE_ENV)
    if forced in MODES:
        return forced
    try:
        with open("/proc/sys/user/max_user_namespaces") as handle:
            allowed = int(handle.read().strip() or 0) > 0
    except (OSError, ValueError):
        allowed = False
    tools = all(_have(n) for n in ("unshare", "mount", "awk", "sort", "sh", "setpriv"))
    return "namespaces" if allowed and tools else "refuse"


def describe(current: str | None = None) -> str:
    """One line for the pytest report header."""
    if (current or expected_mode()) == "namespaces":
        return (
            "iris sandbox containment: namespaces (children run in a private mount namespace "
            "with /proc/sys, /sys and /etc/sysctl.d read-only, unable to undo it or to signal "
            "processes outside)"
        )
    return (
        "iris sandbox containment: refuse (user namespaces unavailable: only the sandbox's own "
        "commands may start while a sandbox is active)"
    )
