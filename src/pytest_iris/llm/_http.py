"""The HTTP client package the installed openai SDK is built on.

openai 1.x uses ``httpx``; later releases ship on the ``httpx2`` fork. The
replay transport and vcrpy's patch must target the one the SDK really uses.
"""

from __future__ import annotations

import ssl
from functools import cache
from types import ModuleType


def http_module() -> ModuleType:
    """``httpx2`` or ``httpx``, whichever ``openai`` imports.

    Looked up on every call, never cached: the answer must be the module the
    ``openai`` now in ``sys.modules`` uses. When openai is imported again (a
    pytester in-process run drops the modules first imported during it), a
    kept reference to the old ``httpx2`` makes clients of a class the new SDK
    refuses ("Invalid http_client ... got <class 'httpx2.AsyncClient'>").
    After the first import this is two dictionary lookups.
    """
    from openai import _base_client

    module = getattr(_base_client, "httpx2", None) or getattr(_base_client, "httpx", None)
    if not isinstance(module, ModuleType):  # pragma: no cover - a future SDK layout
        import httpx

        return httpx
    return module


def patcher_name() -> str:
    """vcrpy's patcher group for that package (``"httpx2"`` or ``"httpx"``)."""
    return http_module().__name__


@cache
def ssl_context() -> ssl.SSLContext:
    """One verifying SSL context per process: building one (CA bundle) costs ~20 ms."""
    context: ssl.SSLContext = http_module().create_ssl_context()
    return context
