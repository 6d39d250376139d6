"""A scenario's delivery path, built by the name in its ``transport:`` through the registry.

``direct`` needs no transport. Every other name is a transport registered
with ``pytest_iris_add_transports`` (``file``, ``http`` or a plugin's), built
by its factory as every consumer builds it,
``factory(settings, directory=..., outbox_dir=..., seed=..., url=...)``, with a
``transport`` settings section pointed at the scenario's work directory
(:func:`scenario_settings`) so runs never depend on the user's endpoint. The
remediator sits at the transport's far end: the JSON Lines files for
``file`` (:class:`~pytest_iris.chaos._file.FileFarEnd`), the mock endpoint
for ``http`` (:class:`~pytest_iris.chaos._http.HttpPath`), the transport
itself for a plugin's (:class:`~pytest_iris.chaos.delivery.FarEnd`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_iris.chaos._file import FileFarEnd
from pytest_iris.chaos._http import HttpPath
from pytest_iris.chaos.delivery import DirectPath, FarEnd, Notify, TransportPath
from pytest_iris.registry import Registry
from pytest_iris.transport.protocol import MessageTransport
from pytest_iris.transport.settings import RetryPolicy, TransportSettings

#: what ``transport:`` may name besides the registered transports
DIRECT = "direct"


def scenario_settings(
    kind: str, work: Path, *, seed: int, url: str | None = None
) -> TransportSettings:
    """The ``transport`` section a scenario's transport is built with: files and outbox under
    ``work``, short timeouts and a seeded retry (a scenario waits on the host clock, not on
    real back-off)."""
    return TransportSettings(
        kind=kind,
        endpoint_url=url,
        file_path=work / "transport" / "messages.jsonl",
        file_format="jsonl",
        commands_path=work / "transport" / "commands.jsonl",
        outbox_dir=work / "outbox",
        timeout_s=2.0,
        poll_interval_s=0.01,
        retry=RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=0.05, seed=seed),
    )


def make_path(
    kind: str, registry: Registry, work: Path, notify: Notify, *, seed: int
) -> DirectPath:
    """The delivery path for ``transport: kind`` (unknown names fail, listing the registered)."""
    if kind == DIRECT:
        return DirectPath(notify)
    (work / "transport").mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
        "directory": work / "transport",
        "outbox_dir": work / "outbox",
        "seed": seed,
    }

    def build(url: str | None = None) -> Any:
        extra = {"url": url} if url is not None else {}
        settings = scenario_settings(kind, work, seed=seed, url=url)
        return registry.transport(kind, settings, **options, **extra)

    if kind == "http":
        return HttpPath(build, notify, seed=seed)
    return _FarEndPath(kind, build, notify)


class _FarEndPath(TransportPath):
    """A transport path whose far end is the files of a file transport, or the transport itself."""

    def far_end(self, transport: MessageTransport) -> FarEnd:
        from pytest_iris.transport.files import FileTransport

        if isinstance(transport, FileTransport) and not isinstance(transport, FarEnd):
            return FileFarEnd(transport.path, transport.commands_path)
        return super().far_end(transport)
