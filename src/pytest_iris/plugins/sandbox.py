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
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from pytest_iris.plugins.core import settings_for

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


def _bad_host(request: pytest.FixtureRequest, problem: str) -> NoReturn:
    """Fail setup in one line naming the test and the marker (no traceback: it is the user's)."""
    pytest.fail(f"{request.node.nodeid}: @pytest.mark.iris_host: {problem}", pytrace=False)


def host_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The SandboxHost keywords for this test: ``iris_host_kwargs``, then the markers; a node-id seed."""
    import difflib

    kwargs: dict[str, Any] = dict(request.getfixturevalue("iris_host_kwargs"))
    for marker in reversed(list(request.node.iter_markers("iris_host"))):
        if marker.args:
            _bad_host(request, f"takes keywords only, got positional {marker.args!r}")
        kwargs.update(marker.kwargs)
    for name in sorted(set(kwargs) - _HOST_KEYS):
        close = difflib.get_close_matches(name, sorted(_HOST_KEYS), n=1)
        _bad_host(
            request,
            f"unknown keyword {name!r}; allowed: {', '.join(sorted(_HOST_KEYS))}"
            + (f"; did you mean {close[0]}?" if close else ""),
        )
    _check_shortcuts(request, kwargs)
    kernel = dict(kwargs.pop("kernel", None) or {})
    if "hugepages" in kwargs:
        kernel["vm.nr_hugepages"] = kwargs.pop("hugepages")
    if kernel:
        kwargs["kernel"] = kernel
    if "memory_mb" in kwargs:
        kwargs["total_ram_mb"] = kwargs.pop("memory_mb")
    if "seed" not in kwargs:
        from pytest_iris.seeds import seed_for  # not at start-up

        kwargs["seed"] = seed_for(request.config, request.node.nodeid, "sandbox")
    return kwargs


def _check_shortcuts(request: pytest.FixtureRequest, kwargs: dict[str, Any]) -> None:
    """What SandboxHost cannot name as the user wrote it: ``hugepages``, ``kernel``, ``start``."""
    from datetime import datetime

    from pytest_iris._limits import MAX_KERNEL, MAX_RAM_MB

    hugepages = kwargs.get("hugepages")
    if "hugepages" in kwargs and (
        isinstance(hugepages, bool) or not isinstance(hugepages, int) or hugepages < 0
    ):
        _bad_host(request, f"hugepages={hugepages!r}: allowed a whole number in 0..{MAX_KERNEL}")
    for name in ("memory_mb", "total_ram_mb"):
        value = kwargs.get(name)
        if name in kwargs and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RAM_MB
        ):
            _bad_host(request, f"{name}={value!r}: allowed a whole number in 1..{MAX_RAM_MB}")
    kernel = kwargs.get("kernel")
    if kernel is not None and not isinstance(kernel, dict):
        _bad_host(request, f"kernel={kernel!r}: must be a dict of sysctl names to values")
    if "start" in kwargs and not isinstance(kwargs["start"], datetime):
        _bad_host(request, f"start={kwargs['start']!r}: must be a datetime.datetime")


def _nearest_tunable(problem: str) -> str:
    """``unknown tunable 'kernel.shmmx'`` ... gains ``; did you mean kernel.shmmax?``."""
    import difflib
    import re

    found = re.search(r"unknown tunable '([^']*)'; known: (.*)$", problem)
    if not found:
        return problem
    close = difflib.get_close_matches(found[1], found[2].split(", "), n=1)
    return problem + (f"; did you mean {close[0]}?" if close else "")


def _build(request: pytest.FixtureRequest, factory: Any, root: Path) -> Any:
    """``factory(root, **keywords)``; a keyword it refuses fails the test in one line."""
    from pytest_iris.errors import ConfigError, SandboxError

    kwargs = host_kwargs(request)
    try:
        host = factory(root, **kwargs)
        if factory.__name__ == "SandboxHost":
            # built here (idempotent, __enter__ reuses it): a CPF the start cannot use
            # (iris_host(cpf={"config": {"globals": "lots"}})) was a traceback from __enter__
            host.build()
        return host
    except (SandboxError, ConfigError, ValueError) as error:
        # "SandboxHost(kernel=...): ..." -> "kernel=...: ...": the keyword as the marker has it
        problem = (
            str(error).replace("SandboxHost(", "").replace("...)", "...").replace("...})", "...}")
        )
    _bad_host(request, _nearest_tunable(problem))  # outside the except: no chained traceback


@pytest.fixture
def iris_sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SandboxHost]:
    """A fake IRIS host (function scope): psutil reads its procfs, the guard is on.

    ``host.env`` runs its ``iris``/``sysctl``/``sudo``; see ``SandboxHost``.
    """
    from pytest_iris.sandbox.host import SandboxHost

    with _build(request, SandboxHost, tmp_path / "iris-host") as host, host.procfs():
        yield host


@pytest.fixture
def iris_live_sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveSandbox]:
    """The host made of real processes and sockets in Linux namespaces (skips where not permitted)."""
    from pytest_iris.sandbox.live import LiveSandbox, namespaces_available

    reason = namespaces_available()
    if reason:
        pytest.skip(f"live sandbox needs Linux namespaces: {reason}")
    with _build(request, LiveSandbox, tmp_path / "iris-live") as host:
        yield host
