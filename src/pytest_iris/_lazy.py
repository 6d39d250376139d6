"""Lazy public names for a package: imported on first use, then kept.

pytest imports ``pytest_iris`` in every suite where the plugin is installed,
and its subpackages re-export names from heavy modules (pydantic, openai,
psutil). Each package maps its public names to the modules that define them
and gets its ``__getattr__`` from :func:`lazy_exports`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) resolving ``exports`` on first access.

    ``exports`` maps a public name to ``"module"`` (the same name there) or
    ``"module:attribute"`` (another name there). The value is stored in
    ``namespace`` (the package's globals) so the lookup happens once.
    """

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = target.partition(":")
        value = getattr(importlib.import_module(module), attribute or name)
        namespace[name] = value
        return value

    return __getattr__
