"""Build the transport the settings name, through the registry.

Every transport, built-in or a plugin's, is a factory registered through
the ``pytest_iris_add_transports`` hook (the built-ins ``file`` and ``http``
by :mod:`pytest_iris.builtin_plugin`): ``factory(settings, **options)`` with
the ``transport`` settings section and what the caller knows (``url=``,
``outbox_dir=``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pytest_iris.registry import Registry

if TYPE_CHECKING:
    from pytest_iris.transport.settings import TransportSettings


def build_transport(
    settings: TransportSettings,
    *,
    registry: Registry | None = None,
    url: str | None = None,
    outbox_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """The transport registered under ``settings.kind`` (``http``, ``file`` or a plugin's).

    Without ``registry``: the built-ins and the plugins of the ``pytest_iris``
    entry-point group (:meth:`Registry.default`).
    """
    if registry is None:
        registry = Registry.default()
    return registry.transport(settings.kind, settings, url=url, outbox_dir=outbox_dir)
