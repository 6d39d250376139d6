"""Which catalog template produced a log entry: what ``pytest-iris catalog match`` prints.

Each template becomes a regex (its text with every ``{placeholder}`` as a
lazy wildcard) tried only on entries of its own severity and category, the
most literal template first. A template whose text is nothing but a
placeholder (``{text}``: the shared-memory lines, whose wording lives in
:mod:`pytest_iris.memory`) says nothing about wording, so it matches nothing
here rather than everything of its category.
"""

from __future__ import annotations

import re
import string
from collections import defaultdict

from pytest_iris.generation.catalog import Catalog, Template


def _pattern(template: Template) -> re.Pattern[str]:
    parts: list[str] = []
    for part in (template.text, *template.continuation):
        pieces = []
        for literal, field, _, _ in string.Formatter().parse(part):
            pieces.append(re.escape(literal))
            if field is not None:
                pieces.append(".*?")
        parts.append("".join(pieces))
    return re.compile("\n".join(parts) + r"\Z", re.S)


def _literal_size(template: Template) -> int:
    return sum(
        len(literal)
        for part in (template.text, *template.continuation)
        for literal, _, _, _ in string.Formatter().parse(part)
    )


class TemplateMatcher:
    """Finds the template of an entry by severity, category and text."""

    def __init__(self, catalog: Catalog) -> None:
        by_kind: dict[tuple[int, str | None], list[Template]] = defaultdict(list)
        for template in catalog:
            if _literal_size(template) or template.continuation:
                by_kind[(template.severity, template.category)].append(template)
        self._candidates = {
            kind: [
                (template.id, _pattern(template))
                for template in sorted(templates, key=_literal_size, reverse=True)
            ]
            for kind, templates in by_kind.items()
        }

    def match(
        self, severity: int, category: str | None, text: str, continuation: tuple[str, ...] = ()
    ) -> str | None:
        """The id of the template that writes this entry, or ``None``.

        Blank lines that end an entry (a blank line before the next stamp) are not
        its text; an entry without a category (Caché, IRIS before 2020) is tried
        against the templates of its severity in every category, as a ``cache-2017``
        stream writes them.
        """
        lines = list(continuation)
        while lines and not lines[-1].strip():
            lines.pop()
        whole = "\n".join((text, *lines))
        kinds = [(int(severity), category)]
        if category is None:
            kinds += [k for k in self._candidates if k[0] == int(severity) and k[1] is not None]
        for kind in kinds:
            for template_id, pattern in self._candidates.get(kind, ()):
                if pattern.match(whole):
                    return template_id
        return None
