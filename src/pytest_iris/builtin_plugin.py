"""The built-in plugin: pytest-iris's own parts registered through its own hooks.

Third-party plugins implement the same ``pytest_iris_*`` functions, and
every consumer finds built-ins and theirs alike through
:class:`pytest_iris.registry.Registry`. Every part loads inside the hook
call, so registering this module costs nothing at pytest start-up; a part
that fails to import is an error, never a silent gap.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_iris.transport.files import FileTransport
    from pytest_iris.transport.http import HttpTransport
    from pytest_iris.transport.settings import TransportSettings

#: Where the built-in scenario library lives (package data).
SCENARIO_DIR = Path(__file__).parent / "chaos" / "scenarios"


def pytest_iris_add_scenarios() -> Iterable[str | Path]:
    return [SCENARIO_DIR]


def pytest_iris_add_remediators() -> Mapping[str, Callable[..., Any]]:
    from pytest_iris.chaos.llm_remediator import LLMRemediator
    from pytest_iris.chaos.rules import RuleBasedRemediator

    return {"rules": RuleBasedRemediator, "llm": LLMRemediator}


def pytest_iris_add_sequences() -> Mapping[str, Callable[..., Any]]:
    from pytest_iris.generation.sequences import render_sequence, sequence_names

    return {name: functools.partial(render_sequence, name) for name in sequence_names()}


def pytest_iris_add_transports() -> Mapping[str, Callable[..., Any]]:
    """``file`` and ``http``: ``factory(settings, **options)`` like a plugin's."""
    return {"file": file_transport, "http": http_transport}


def http_transport(
    settings: TransportSettings,
    *,
    url: str | None = None,
    outbox_dir: str | os.PathLike[str] | None = None,
    **_: Any,
) -> HttpTransport:
    """``kind: http``: an :class:`HttpTransport` to ``url`` (else ``endpoint_url``)."""
    from pytest_iris.transport.http import HttpTransport

    return HttpTransport.from_settings(settings, url=url, outbox_dir=outbox_dir)


def file_transport(settings: TransportSettings, **_: Any) -> FileTransport:
    """``kind: file``: a :class:`FileTransport` appending to ``file_path``."""
    from pytest_iris.errors import ConfigError
    from pytest_iris.transport.files import FileTransport

    if settings.file_path is None:  # the settings model refuses this; kept for direct callers
        raise ConfigError("transport.file_path is required for kind 'file'")
    return FileTransport(
        settings.file_path,
        format=settings.file_format,
        commands_path=settings.commands_path,
        poll_interval_s=settings.poll_interval_s,
    )


def pytest_iris_add_tools() -> Mapping[str, Callable[..., Any]]:
    """The three tools, as the dispatcher builds them for a host."""
    from pytest_iris.tools.actions import TOOL_FACTORIES

    return dict(TOOL_FACTORIES)


def pytest_iris_add_templates() -> Iterable[Any]:
    # the catalog shipped with pytest_iris.generation is the base every extra
    # template is added to (Registry.catalog), so there is nothing extra here
    return ()
