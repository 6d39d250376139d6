"""Turning ``NAME`` in ``NAME=VALUE`` into a section and a key.

Three spellings are accepted, so a remediator can stay short and a person
can be exact:

* ``[config]globals`` -- exact, works for every key, including keys and
  sections with dots (``[Map.USER]Global_X``);
* ``config.globals`` -- split at the first dot; for catalogued parameters
  and sections without dots;
* ``globals`` -- a catalogued parameter's bare name (its section is known).
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_iris.errors import ValidationError
from pytest_iris.tools.cpf.catalog import PARAMETERS, Parameter, lookup


@dataclass(frozen=True)
class Name:
    section: str
    key: str
    parameter: Parameter | None

    @property
    def qualified(self) -> str:
        return f"[{self.section}]{self.key}"


def resolve(name: str, *, allow_unknown: bool = False) -> Name:
    """Resolve ``name``; an unknown parameter is an error unless ``allow_unknown``."""
    text = name.strip()
    if text.startswith("["):
        close = text.find("]")
        section, key = text[1:close], text[close + 1 :].strip()
        if close < 0 or not section or not key:
            raise ValidationError(f"parameter name {name!r}: expected [Section]key")
    elif "." in text:
        section, key = text.split(".", 1)
        if not section or not key:
            raise ValidationError(f"parameter name {name!r}: expected section.key")
    else:
        parameter = lookup(None, text)
        if parameter is None:
            raise ValidationError(
                f"unknown parameter {name!r}: known bare names are "
                f"{', '.join(p.name for p in PARAMETERS)}; give any other key as [Section]key"
            )
        return Name(parameter.section, parameter.name, parameter)
    if "=" in key or "\n" in key:
        raise ValidationError(f"parameter name {name!r}: a key cannot hold '=' or a line break")
    parameter = lookup(section, key)
    if parameter is not None:
        return Name(parameter.section, parameter.name, parameter)
    if not allow_unknown:
        raise ValidationError(
            f"unknown parameter [{section}]{key}: pytest-iris validates only catalogued "
            f"parameters ({', '.join(p.qualified for p in PARAMETERS)}); "
            "pass allow_unknown (CLI --allow-unknown) to write it unchecked"
        )
    return Name(section, key, None)
