"""Build the transport the settings name."""

from __future__ import annotations

import os

from pytest_iris.errors import ConfigError
from pytest_iris.transport.files import FileTransport
from pytest_iris.transport.http import HttpTransport
from pytest_iris.transport.settings import TransportSettings


def build_transport(
    settings: TransportSettings,
    *,
    url: str | None = None,
    outbox_dir: str | os.PathLike[str] | None = None,
) -> FileTransport | HttpTransport:
    """An :class:`HttpTransport` or :class:`FileTransport` from the ``transport`` section."""
    if settings.kind == "file":
        if settings.file_path is None:  # the model refuses this; kept for direct callers
            raise ConfigError("transport.file_path is required for kind 'file'")
        return FileTransport(
            settings.file_path,
            format=settings.file_format,
            commands_path=settings.commands_path,
            poll_interval_s=settings.poll_interval_s,
        )
    return HttpTransport.from_settings(settings, url=url, outbox_dir=outbox_dir)
