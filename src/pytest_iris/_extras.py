"""Say which extra to install when a part's optional dependency is missing.

openai, vcrpy, httpx and Faker are extras (``pytest-iris[llm]``, ``[http]``,
``[faker]``; ``[all]`` for everything): each, or what it brings (anyio), would
otherwise add a pytest plugin that every pytest run imports. Their imports
stay plain ``import httpx`` inside the parts that need them; this finder,
last on ``sys.meta_path``, is asked only when no other finder found such a
module, and turns the bare "No module named 'httpx'" into one that names
the extra. Any other module is left to the usual error, and a probe
(``importlib.util.find_spec``) gets None, as without the finder.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

#: top-level module -> (extra, what needs it)
EXTRAS: dict[str, tuple[str, str]] = {
    "httpx": ("http", "the HTTP transport"),
    "openai": ("llm", "the LLM generator"),
    "vcr": ("llm", "LLM cassettes"),
    "faker": ("faker", "regenerating the value pools"),
}


class MissingExtraFinder:
    """A meta path finder that only ever raises, for the modules of :data:`EXTRAS`."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname not in EXTRAS or _probing():
            return None
        extra, part = EXTRAS[fullname]
        raise ModuleNotFoundError(
            f"No module named {fullname!r}: {part} needs it; "
            f"install it with: pip install 'pytest-iris[{extra}]'",
            name=fullname,
        )


def _probing() -> bool:
    """Whether ``importlib.util.find_spec`` is asking (a library probing for an optional
    dependency, which expects None), not an ``import`` statement.

    The finder is installed in every pytest run: raising here made every such probe
    fail in the user's suite, for modules pytest-iris does not even need then.
    """
    frame = sys._getframe(2)  # past find_spec and this function
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module == "importlib.util":
            return True
        if module != "importlib" and not module.startswith("importlib."):
            return False
        frame = frame.f_back  # type: ignore[assignment]
    return False


_FINDER = MissingExtraFinder()


def install() -> None:
    """Put the finder last on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, MissingExtraFinder) for finder in sys.meta_path):
        sys.meta_path.append(_FINDER)
