"""The one way pytest-iris reads YAML a user wrote: bounded, plain data, errors with ``file:line``.

PyYAML's ``safe_load`` still expands aliases: a few hundred bytes of nested
anchors (a "billion laughs" file) become billions of nodes, and a recursive
anchor becomes a cycle that hangs whatever walks it. So the composer here
refuses anchors and aliases as it meets them, before anything is built or
walked; it also bounds the file size, the nesting depth and the node count,
and accepts only the plain YAML types (``!!python/object`` and any other
tag is refused, naming the line). Scenario files, the settings file and
any other user YAML go through :func:`compose` / :func:`load`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import yaml

#: largest YAML file read, in bytes (scenarios and settings are a few KB)
MAX_BYTES: Final = 1_048_576
#: deepest nesting of mappings and lists
MAX_DEPTH: Final = 64
#: most nodes (scalars, lists, mappings) in one document
MAX_NODES: Final = 100_000
#: the tags plain YAML data may carry (explicitly or resolved)
_ALLOWED_TAGS: Final = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
)


class YamlInputError(ValueError):
    """YAML a user wrote that pytest-iris refuses; the message starts with ``source:line:``."""

    def __init__(self, source: str, line: int, problem: str) -> None:
        super().__init__(f"{source}:{line}: {problem}")
        self.source = source
        self.line = line
        self.problem = problem


class _Bounds:
    """A composer that refuses anchors, aliases, odd tags and oversized trees (a mixin)."""

    def _bound(self, source: str) -> None:
        self._source = source
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        # the stubs leave peek_event untyped in some versions: call it through a typed name
        peek: Callable[[], Any] = self.peek_event  # type: ignore[attr-defined]
        event = peek()
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.AliasEvent):
            raise YamlInputError(
                self._source, line, f"YAML aliases (*{event.anchor}) are not allowed; "
                "write the value out"
            )  # fmt: skip
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise YamlInputError(
                self._source, line, f"YAML anchors (&{anchor}) are not allowed; write the value out"
            )
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in ("!", *_ALLOWED_TAGS):
            raise YamlInputError(
                self._source, line, f"YAML tag {tag!r} is not allowed (plain data only)"
            )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise YamlInputError(self._source, line, f"more than {MAX_NODES} YAML nodes")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlInputError(self._source, line, f"nested deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1


class _BoundedLoader(_Bounds, yaml.SafeLoader):
    """SafeLoader with the bounded composer."""

    def __init__(self, text: str, source: str) -> None:
        yaml.SafeLoader.__init__(self, text)
        self._bound(source)


try:  # libyaml's parser: the same events (with their marks) ten times faster
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor
    from yaml.cyaml import CParser  # type: ignore[attr-defined]
    from yaml.resolver import Resolver

    class _FastBoundedLoader(_Bounds, Composer, CParser, SafeConstructor, Resolver):
        """The bounded composer (Python) over libyaml's parser (C)."""

        def __init__(self, text: str, source: str) -> None:
            CParser.__init__(self, text)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)
            self._bound(source)

    _Composing: type[_BoundedLoader] | type[_FastBoundedLoader] = _FastBoundedLoader
except ImportError:  # PyYAML built without libyaml
    _Composing = _BoundedLoader


def compose(text: str, source: str = "<yaml>") -> yaml.Node | None:
    """The node tree of ``text`` (``None`` when empty), every node with its line."""
    if len(text) > MAX_BYTES:
        raise YamlInputError(source, 1, f"larger than {MAX_BYTES} bytes ({len(text)})")
    loader = _Composing(text, source)
    try:
        node: yaml.Node | None = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlInputError(source, line, f"is not valid YAML: {error.problem}") from None
    except yaml.YAMLError as error:
        raise YamlInputError(source, 1, f"is not valid YAML: {error}") from None
    finally:
        loader.dispose()
    if node is not None:
        _check_tags(node, source)
    return node


def construct(node: yaml.Node | None, source: str = "<yaml>") -> Any:
    """Plain Python data (dict, list, str, int, float, bool, None, datetime) from ``node``."""
    if node is None:
        return None
    loader = _BoundedLoader("", source)
    try:
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlInputError(source, line, f"is not valid YAML: {error.problem}") from None
    except (ValueError, OverflowError) as error:  # e.g. a timestamp that cannot exist
        raise YamlInputError(source, node.start_mark.line + 1, str(error)) from None
    finally:
        loader.dispose()


def load(text: str, source: str = "<yaml>") -> Any:
    """:func:`compose` then :func:`construct`: ``yaml.safe_load`` without its dangers."""
    return construct(compose(text, source), source)


def _check_tags(root: yaml.Node, source: str) -> None:
    """Resolved tags are plain data too (a tag from an implicit resolver never is not)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.tag not in _ALLOWED_TAGS:
            raise YamlInputError(
                source, node.start_mark.line + 1, f"YAML tag {node.tag!r} is not allowed"
            )
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack += (key, value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
