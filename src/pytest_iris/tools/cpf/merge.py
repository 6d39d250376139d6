"""Applying a CPF merge file, as ``iris merge`` / ``ISC_CPF_MERGE_FILE`` do.

A merge file holds only the sections and keys to change, plus an optional
``[Actions]`` section (facts.md §3.10). Every ``key=value`` outside
``[Actions]`` is set in the target (catalogued parameters validated first,
application sections such as ``[speedtest]`` taken as they are). Actions --
``CreateDatabase:Name=...,Directory=...`` and the like -- create databases,
namespaces and services in a real instance; here they are parsed, checked
for form and recorded, never executed, and never copied into the CPF.

The log texts IRIS writes while merging are real (messages_real.log):
:func:`merge_messages` returns them so a caller can show or log them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pytest_iris.errors import ValidationError
from pytest_iris.tools.cpf.catalog import check, lookup, normalize
from pytest_iris.tools.cpf.document import CpfFile

ACTIONS = "Actions"
_VERB = re.compile(r"^(Create|Modify|Delete)[A-Z][A-Za-z]*$")


@dataclass(frozen=True)
class Action:
    """One ``[Actions]`` line: ``Verb:Key=Value,Key=Value``."""

    line: int
    verb: str
    properties: dict[str, str] = field(default_factory=dict)
    text: str = ""


@dataclass(frozen=True)
class Setting:
    """One ``key=value`` a merge sets, and the value it replaces (``None``: new)."""

    section: str
    key: str
    before: str | None
    after: str

    @property
    def qualified(self) -> str:
        return f"[{self.section}]{self.key}"


def parse_actions(merge: CpfFile) -> list[Action]:
    """The ``[Actions]`` lines of a merge file; a malformed one is a ValidationError."""
    where = merge.path or "merge file"
    actions: list[Action] = []
    section: str | None = None
    for number, line in enumerate(merge.lines, 1):
        kind = line.kind
        if kind == "section":
            section = line.section_name
            continue
        if section is None or section.casefold() != ACTIONS.casefold():
            continue
        if kind in ("blank", "comment"):
            continue
        text = line.stripped
        verb, colon, rest = text.partition(":")
        if not colon or not _VERB.match(verb):
            raise ValidationError(
                f"{where}:{number}: [Actions] line {text!r} is not Verb:Key=Value,... "
                "with a Create/Modify/Delete verb"
            )
        properties: dict[str, str] = {}
        for item in rest.split(","):
            key, equals, value = item.partition("=")
            if not equals or not key.strip():
                raise ValidationError(
                    f"{where}:{number}: [Actions] {verb}: {item!r} is not Key=Value"
                )
            properties[key.strip()] = value.strip()
        if "Name" not in properties:
            raise ValidationError(f"{where}:{number}: [Actions] {verb} has no Name=")
        actions.append(Action(number, verb, properties, text))
    return actions


def plan_merge(target: CpfFile, merge: CpfFile) -> tuple[CpfFile, list[Setting], list[Action]]:
    """The merged copy of ``target``, what it sets, and the actions; ``target`` is untouched.

    Everything is validated before the copy is returned, so a caller writes
    either all of a merge or nothing.
    """
    where = merge.path or "merge file"
    problems = merge.problems()
    if problems:
        raise ValidationError(f"{where}: {problems[0]}")
    actions = parse_actions(merge)
    merged = target.copy()
    settings: list[Setting] = []
    for entry in merge.entries():
        section = entry.section or ""
        if section.casefold() == ACTIONS.casefold():
            continue
        parameter = lookup(section, entry.key)
        value = normalize(parameter, entry.value)
        if parameter is not None:
            try:
                check(parameter, value)
            except ValidationError as error:
                raise ValidationError(f"{where}:{entry.line}: {error}") from None
        if parameter is not None:
            section, key = parameter.section, parameter.name
        else:
            key = entry.key
        before = merged.get(section, key)
        if before == value:
            continue
        merged.set(section, key, value)
        settings.append(Setting(section, key, before, value))
    return merged, settings, actions


def merge_messages(merge_path: str, cpf_path: str, *, actions: bool) -> list[str]:
    """The messages.log texts of a successful merge (severity 0, ``[Utility.Event]``)."""
    texts = [
        f"Merging {merge_path} into {cpf_path}",
        f"Validating CPF file {cpf_path}_Merge",
        f"No errors found in CPF file {cpf_path}_Merge",
    ]
    if actions:
        texts += ["Reading [Actions] section", "Validating [Actions] section"]
    return texts
