"""Every catalog template cites a place that holds its wording (issue 11, item 2).

A citation is a line (or range) of ``docs/sources/messages_real.log``, a section of
``documented_messages.md``, ``facts.md`` or ``commands.md``, or a documentation page
address. Each must resolve, and a template that is not marked ``invented`` must have
its fixed text (the longest piece between placeholders) at a cited place. At most
10% of the catalog may be invented, and each invented template says what was made up.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from pytest_iris.generation.catalog import Template, load_catalog, parse_template

SOURCES = Path(__file__).parents[1] / "docs" / "sources"
REAL_LINES = (SOURCES / "messages_real.log").read_text(encoding="utf-8").splitlines()
LINES = re.compile(r"messages_real\.log lines? (\d+(?:\s*(?:-|,|and)\s*\d+)*)")
SECTION = re.compile(r"(documented_messages|facts|commands)\.md §(\d+(?:\.\d+)?)")
URL = re.compile(r"https://[\w.-]+/\S*")
CATALOG = list(load_catalog())


def fixed_text(template: Template) -> str:
    """The longest literal piece of the text and continuation lines."""
    pieces = [
        literal
        for part in (template.text, *template.continuation)
        for literal, _, _, _ in string.Formatter().parse(part)
    ]
    return max(pieces, key=len, default="").strip()


def cited_lines(source: str) -> list[str]:
    """The text of each cited line or range (a range joined with newlines)."""
    places = []
    for match in LINES.finditer(source):
        for item in re.split(r"\s*(?:,|and)\s*", match.group(1)):
            first, _, last = item.partition("-")
            low, high = int(first), int(last or first)
            if not 1 <= low <= high <= len(REAL_LINES):
                raise AssertionError(f"messages_real.log has no line(s) {item}")
            places.append("\n".join(REAL_LINES[low - 1 : high]))
    return places


def section_text(name: str, number: str) -> str:
    """The text of section ``number`` of ``docs/sources/<name>.md`` (to the next heading
    of the same or a higher level)."""
    lines = (SOURCES / f"{name}.md").read_text(encoding="utf-8").splitlines()
    heading = re.compile(rf"^(#+) {re.escape(number)}[. ]")
    for index, line in enumerate(lines):
        found = heading.match(line)
        if found:
            level = len(found.group(1))
            body = [line]
            for rest in lines[index + 1 :]:
                hashes = len(rest) - len(rest.lstrip("#"))
                if hashes and hashes <= level and rest[hashes : hashes + 1] == " ":
                    break
                body.append(rest)
            # the PDF repairs are marked "b[]uffers" in documented_messages.md
            return "\n".join(body).replace("[]", "")
    raise AssertionError(f"{name}.md has no section §{number}")


def check(template: Template) -> None:
    """Raise AssertionError when ``template``'s citations do not resolve or do not hold it."""
    source = template.source
    lines = cited_lines(source)
    sections = [section_text(name, number) for name, number in SECTION.findall(source)]
    urls = URL.findall(source)
    assert lines or sections or urls, f"{template.id}: no citation in {source!r}"
    text = fixed_text(template)
    if template.invented or len(text) < 4 or (urls and not lines and not sections):
        return
    places = lines or sections
    assert any(text in " ".join(place.split()) or text in place for place in places), (
        f"{template.id}: {text!r} is not at the cited place(s) in {source!r}"
    )


@pytest.mark.parametrize("template", CATALOG, ids=lambda t: t.id)
def test_citation_resolves_and_holds_the_text(template: Template) -> None:
    check(template)


def test_invented_templates_are_at_most_a_tenth_and_say_what() -> None:
    invented = [t for t in CATALOG if t.invented]
    assert len(invented) <= len(CATALOG) // 10, [t.id for t in invented]
    for template in invented:
        assert len(template.invented.split()) >= 3, template.id


@pytest.mark.parametrize(
    ("source", "text", "problem"),
    [
        ("messages_real.log line 3", "Write daemon started.", "is not at the cited place"),
        ("messages_real.log line 900", "Write daemon started.", "has no line"),
        ("facts.md §9.9", "Write daemon started.", "has no section"),
        ("seen somewhere", "Write daemon started.", "no citation"),
        ("documented_messages.md §2", "LOCK TABLE EMPTY", "is not at the cited place"),
    ],
)
def test_a_wrong_citation_is_caught(source: str, text: str, problem: str) -> None:
    raw = {"id": "x.y", "category": "Generic.Event", "severity": 0, "text": text,
           "source": source}  # fmt: skip
    with pytest.raises(AssertionError, match=problem):
        check(parse_template(raw, "test"))


def test_the_right_citation_passes() -> None:
    raw = {"id": "x.y", "category": "WriteDaemon.Started", "severity": 0,
           "text": "Write daemon {verb}.", "source": "messages_real.log line 19"}  # fmt: skip
    check(parse_template(raw, "test"))
