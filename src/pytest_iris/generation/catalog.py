"""The template catalog: every message kind the generator can write, with its source.

The catalog is package data (``catalog.yaml``) so that it can be read,
reviewed and extended without touching code. Each entry names where its
wording was seen (``source``) or says that it was made up (``invented``);
:func:`load_catalog` refuses an entry with neither, so nothing the generator
writes passes for real without saying so.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pytest_iris.errors import ConfigError
from pytest_iris.log import grammar

_FIELDS = frozenset(
    {"id", "category", "severity", "text", "continuation", "placeholders", "role", "weight",
     "source", "invented"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Template:
    """One message kind: category, severity, text with ``{name}`` placeholders."""

    id: str
    category: str | None
    severity: int
    text: str
    continuation: tuple[str, ...] = ()
    placeholders: tuple[tuple[str, str], ...] = ()
    role: str = "control"
    weight: int = 0
    source: str = ""
    invented: str = ""

    @property
    def fields(self) -> frozenset[str]:
        """The placeholder names used in the text and continuation lines."""
        names: set[str] = set()
        for part in (self.text, *self.continuation):
            names.update(f for _, f, _, _ in string.Formatter().parse(part) if f)
        return frozenset(names)

    def render(self, values: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
        """Text and continuation lines with ``values`` filled in.

        Raises :class:`~pytest_iris.errors.ConfigError` naming the template
        and the missing value when one is not given.
        """
        try:
            text = self.text.format_map(values)
            cont = tuple(line.format_map(values) for line in self.continuation)
        except KeyError as error:
            raise ConfigError(f"template {self.id!r} needs a value for {error.args[0]!r}") from None
        return text, cont


class Catalog:
    """Templates by id, in catalog order."""

    def __init__(self, templates: Iterable[Template]) -> None:
        self.templates: dict[str, Template] = {}
        for template in templates:
            if template.id in self.templates:
                raise ConfigError(f"template catalog: duplicate id {template.id!r}")
            self.templates[template.id] = template

    def __getitem__(self, template_id: str) -> Template:
        try:
            return self.templates[template_id]
        except KeyError:
            raise ConfigError(f"template catalog has no template {template_id!r}") from None

    def __iter__(self) -> Any:
        return iter(self.templates.values())

    def __len__(self) -> int:
        return len(self.templates)

    def extended(self, extra: Iterable[Template | Mapping[str, Any]]) -> Catalog:
        """A new catalog with ``extra`` templates added (e.g. from the
        ``pytest_iris_add_templates`` hook); mappings are checked like YAML entries."""
        added = [
            item if isinstance(item, Template) else parse_template(dict(item), f"extra[{n}]")
            for n, item in enumerate(extra)
        ]
        return Catalog([*self.templates.values(), *added])

    @property
    def noise(self) -> list[Template]:
        """Templates the background noise draws from (weight > 0)."""
        return [t for t in self.templates.values() if t.weight > 0]

    @property
    def categories(self) -> frozenset[str | None]:
        return frozenset(t.category for t in self.templates.values())


def parse_template(raw: Any, where: str) -> Template:
    """A :class:`Template` from one YAML mapping; ``where`` names it in errors."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a template must be a mapping, got {type(raw).__name__}")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}")
    for key in ("id", "severity", "text"):
        if key not in raw:
            raise ConfigError(f"{where}: missing field {key!r}")
    tid = raw["id"]
    where = f"{where} ({tid})"
    if not isinstance(tid, str) or not tid:
        raise ConfigError(f"{where}: id must be a non-empty string")
    severity = raw["severity"]
    if isinstance(severity, bool) or severity not in (0, 1, 2, 3):
        raise ConfigError(f"{where}: severity must be 0, 1, 2 or 3, got {severity!r}")
    source = str(raw.get("source") or "")
    invented = str(raw.get("invented") or "")
    if not source and not invented:
        raise ConfigError(f"{where}: give a 'source' or an explicit 'invented' note")
    category = raw.get("category")
    if category is not None and not isinstance(category, str):
        raise ConfigError(f"{where}: category must be a string or null")
    text = raw["text"]
    continuation = raw.get("continuation") or []
    if not isinstance(text, str) or not isinstance(continuation, list):
        raise ConfigError(f"{where}: text must be a string and continuation a list")
    placeholders = raw.get("placeholders") or {}
    if not isinstance(placeholders, dict):
        raise ConfigError(f"{where}: placeholders must be a mapping of name to kind")
    weight = raw.get("weight", 0)
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
        raise ConfigError(f"{where}: weight must be a non-negative int")
    template = Template(
        id=tid,
        category=category,
        severity=severity,
        text=text,
        continuation=tuple(str(line) for line in continuation),
        placeholders=tuple((str(k), str(v)) for k, v in placeholders.items()),
        role=str(raw.get("role", "control")),
        weight=weight,
        source=source,
        invented=invented,
    )
    if weight and not set(template.fields) <= {k for k, _ in template.placeholders}:
        missing = sorted(set(template.fields) - {k for k, _ in template.placeholders})
        raise ConfigError(f"{where}: noise template lacks placeholder kinds for {missing}")
    # A sample rendering must satisfy the message grammar.
    sample = {name: "x" for name in template.fields}
    text_s, cont_s = template.render(sample)
    problem = grammar.message_problem(category, text_s, cont_s)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return template


def parse_catalog(data: Any, where: str = "catalog") -> Catalog:
    if not isinstance(data, dict) or not isinstance(data.get("templates"), list):
        raise ConfigError(f"{where}: expected a mapping with a 'templates' list")
    return Catalog(
        parse_template(raw, f"{where}: templates[{index}]")
        for index, raw in enumerate(data["templates"])
    )


@functools.cache
def load_catalog() -> Catalog:
    """The built-in catalog (``catalog.yaml``), parsed once per process."""
    text = resources.files("pytest_iris.generation").joinpath("catalog.yaml").read_text("utf-8")
    return parse_catalog(_catalog_data(text), "pytest_iris/generation/catalog.yaml")


def _catalog_data(text: str) -> Any:
    """The YAML's data, through a JSON copy kept beside the bytecode cache.

    Every sandbox ``iris start``/``stop`` is a fresh process that renders from the
    catalog: importing PyYAML and parsing cost it ~50 ms, the JSON copy ~1 ms. The
    copy is named by the YAML's checksum and size (an edited catalog gets a new one)
    and written like bytecode: atomically, unless ``sys.dont_write_bytecode``.
    """
    import json
    import os
    import sys
    import zlib

    raw = text.encode("utf-8")
    cache = Path(__file__).parent / "__pycache__" / f"catalog.{zlib.crc32(raw):08x}.{len(raw)}.json"
    try:
        return json.loads(cache.read_text("utf-8"))
    except (OSError, ValueError):
        pass
    import yaml

    # libyaml's loader when PyYAML has it: the same data, ~10x faster
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not sys.dont_write_bytecode:
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
        try:
            dumped = json.dumps(data)
            if json.loads(dumped) == data:  # only data JSON holds as it is (no int keys, dates)
                cache.parent.mkdir(exist_ok=True)
                tmp.write_text(dumped, "utf-8")
                os.replace(tmp, cache)
        except (OSError, TypeError, ValueError):  # a read-only install; data JSON cannot hold
            tmp.unlink(missing_ok=True)
    return data
