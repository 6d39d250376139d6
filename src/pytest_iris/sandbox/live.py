"""Live mode: the sandbox host made of real processes inside Linux namespaces (in progress)."""

from __future__ import annotations

from typing import Any

from pytest_iris.errors import SandboxError


def namespaces_available() -> str:
    """'' when the live sandbox can run here, else the reason it cannot."""
    return "live mode is not built yet"


class LiveSandbox:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise SandboxError("live mode is not built yet")
