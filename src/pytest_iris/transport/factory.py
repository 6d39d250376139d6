"""Build the transport the settings name, through the registry.

The built-in factories (:func:`http_transport`, :func:`file_transport`)
are registered by :mod:`pytest_iris.builtin_plugin` through the
``pytest_iris_add_transports`` hook, like a plugin's: every factory is
``factory(settings, **options)`` with the ``transport`` settings section and
what the caller knows (``url=``, ``outbox_dir=``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pytest_iris.errors import ConfigError
from pytest_iris.transport.files import FileTransport
from pytest_iris.transport.http import HttpTransport
from pytest_iris.transport.settings import TransportSettings

if TYPE_CHECKING:
    from pytest_iris.registry import Registry


def http_transport(
    settings: TransportSettings,
    *,
    url: str | None = None,
    outbox_dir: str | os.PathLike[str] | None = None,
    **_: Any,
) -> HttpTransport:
    """``kind: http``: an :class:`HttpTransport` to ``url`` (else ``endpoint_url``)."""
    return HttpTransport.from_settings(settings, url=url, outbox_dir=outbox_dir)


def file_transport(settings: TransportSettings, **_: Any) -> FileTransport:
    """``kind: file``: a :class:`FileTransport` appending to ``file_path``."""
    if settings.file_path is None:  # the model refuses this; kept for direct callers
        raise ConfigError("transport.file_path is required for kind 'file'")
    return FileTransport(
        settings.file_path,
        format=settings.file_format,
        commands_path=settings.commands_path,
        poll_interval_s=settings.poll_interval_s,
    )


def build_transport(
    settings: TransportSettings,
    *,
    registry: Registry | None = None,
    url: str | None = None,
    outbox_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """The transport registered under ``settings.kind`` (``http``, ``file`` or a plugin's)."""
    if registry is None:
        from pytest_iris.registry import Registry

        registry = Registry.default()
    return registry.transport(settings.kind, settings, url=url, outbox_dir=outbox_dir)
