"""What the sandbox's commands share: who the caller is, where procfs lives."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pytest_iris.sandbox._state import HostState

#: set by the sandbox's sudo for the command it runs: the effective uid
EUID_ENV = "PYTEST_IRIS_SANDBOX_EUID"


def euid(state: HostState, env: Mapping[str, str]) -> int:
    """The caller's effective uid on the fake host (sudo's child is 0)."""
    raw = env.get(EUID_ENV)
    if raw is not None and raw.isdigit():
        return int(raw)
    return state.uid


def proc_root(root: Path) -> Path:
    return root / "proc"
