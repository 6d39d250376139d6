"""pytest face of the sandbox: ``iris_sandbox``, ``iris_live_sandbox``, ``@pytest.mark.iris_host``.

``@pytest.mark.iris_host(...)`` sets the starting state of the host either
fixture builds; its keywords are :class:`pytest_iris.sandbox.SandboxHost`'s
(``cpf``, ``kernel``, ``total_ram_mb``, ``running``, ``users``, ``web_users``,
``user``, ``sudo``, ``instance``, ``seed``, ``version``, ``timezone``,
``mirror``) plus two shortcuts:
``hugepages=N`` (``vm.nr_hugepages``) and ``memory_mb=N`` (``total_ram_mb``).
Defaults come from the ``sandbox`` settings section (``SandboxSettings``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_iris.plugins.core import settings_for
from pytest_iris.seeds import seed_for

if TYPE_CHECKING:
    from pytest_iris.sandbox.host import SandboxHost
    from pytest_iris.sandbox.live import LiveSandbox

_HOST_KEYS = frozenset({"cpf", "cpf_text", "kernel", "total_ram_mb", "running", "users", "web_users",
                        "user", "sudo", "instance", "seed", "start", "hugepages", "memory_mb",
                        "instances", "version", "timezone", "mirror"})  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "iris_host(cpf=None, kernel=None, memory_mb=16384, hugepages=0, running=True, users=0, "
        "web_users=0, user='root', sudo='nopasswd', version='2023.1', timezone='UTC', "
        "mirror=None): starting state of the iris_sandbox / "
        "iris_live_sandbox host",
    )


def pytest_report_header(config: pytest.Config) -> str:
    """Which containment child processes get under a sandbox (namespaces, or refuse)."""
    from pytest_iris._startup import import_plain

    # a stdlib-only guess (no probe, no containment/subprocess import) at every start
    mode: Any = import_plain("pytest_iris.sandbox._mode")
    return str(mode.describe())


@pytest.fixture
def iris_host_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Starting state of ``iris_sandbox`` / ``iris_live_sandbox`` hosts: ``iris_host`` keywords.

    From the settings (``sandbox`` section, ``instance``); override this
    fixture in a conftest to change it for a directory,
    ``@pytest.mark.iris_host`` to change it for one test.
    """
    settings = settings_for(request.config)
    return {
        "instance": settings.instance,
        "total_ram_mb": settings.sandbox.total_ram_mb,
        "user": settings.sandbox.user,
        "sudo": settings.sandbox.sudo,
    }


def host_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The SandboxHost keywords for this test: ``iris_host_kwargs``, then the markers; a node-id seed."""
    kwargs: dict[str, Any] = dict(request.getfixturevalue("iris_host_kwargs"))
    for marker in reversed(list(request.node.iter_markers("iris_host"))):
        if marker.args:
            raise pytest.UsageError(
                f"{request.node.nodeid}: iris_host takes keywords only, got {marker.args!r}"
            )
        kwargs.update(marker.kwargs)
    unknown = set(kwargs) - _HOST_KEYS
    if unknown:
        raise pytest.UsageError(
            f"{request.node.nodeid}: unknown iris_host keyword(s) {sorted(unknown)}; "
            f"known: {sorted(_HOST_KEYS)}"
        )
    kernel = dict(kwargs.pop("kernel", None) or {})
    if "hugepages" in kwargs:
        kernel["vm.nr_hugepages"] = kwargs.pop("hugepages")
    if kernel:
        kwargs["kernel"] = kernel
    if "memory_mb" in kwargs:
        kwargs["total_ram_mb"] = kwargs.pop("memory_mb")
    if "seed" not in kwargs:
        kwargs["seed"] = seed_for(request.config, request.node.nodeid, "sandbox")
    return kwargs


@pytest.fixture
def iris_sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SandboxHost]:
    """A fake IRIS host (function scope): psutil reads its procfs, the guard is on.

    ``host.env`` runs its ``iris``/``sysctl``/``sudo``; see ``SandboxHost``.
    """
    from pytest_iris.sandbox.host import SandboxHost

    with SandboxHost(tmp_path / "iris-host", **host_kwargs(request)) as host, host.procfs():
        yield host


@pytest.fixture
def iris_live_sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveSandbox]:
    """The host made of real processes and sockets in Linux namespaces (skips where not permitted)."""
    from pytest_iris.sandbox.live import LiveSandbox, namespaces_available

    reason = namespaces_available()
    if reason:
        pytest.skip(f"live sandbox needs Linux namespaces: {reason}")
    with LiveSandbox(tmp_path / "iris-live", **host_kwargs(request)) as host:
        yield host
