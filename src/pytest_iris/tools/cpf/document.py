"""A lossless model of an ``iris.cpf`` or CPF merge file.

Real CPF files are INI-like but not INI (facts.md §3.10): values hold ``=``,
``,``, ``^``, ``$`` and quotes, keys hold spaces and punctuation, merge files
come with a space after ``=``, trailing spaces, ``#`` comments, CRLF line
endings and no final newline. Every reader that normalises any of that
rewrites lines nobody asked to change, so this one keeps each line's exact
text and line ending and only ever rewrites the lines an edit touches.
Bytes that are not UTF-8 survive through ``surrogateescape``.

Rules this model follows:

* a line is a section header when, stripped, it starts with ``[`` and ends
  with ``]``; a comment when it starts with ``#``; otherwise an entry when it
  holds ``=``, split on the **first** ``=``;
* a value is what follows ``=`` without the surrounding spaces and tabs;
  setting a value keeps the spacing around the old one;
* a section may appear more than once; its entries are read in file order;
* a key that appears twice is read as its last occurrence (IRIS's handling
  is not documented); :meth:`CpfFile.set` rewrites every occurrence so no
  stale value remains;
* section and key names match exactly, falling back to a case-insensitive
  match when there is no exact one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Container, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple

_BOM = "\ufeff"
#: C0 controls but tab, DEL and C1 controls: no CPF line holds one (a stray NUL, a pasted escape)
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


@dataclass(slots=True)
class Line:
    """One physical line: its text without the line ending, and the ending itself."""

    text: str
    eol: str

    @property
    def stripped(self) -> str:
        return self.text.strip(" \t")

    @property
    def kind(self) -> str:
        """``section``, ``comment``, ``blank``, ``entry`` or ``other``."""
        stripped = self.text.strip(" \t")
        if not stripped:
            return "blank"
        first = stripped[0]
        if first == "#":
            return "comment"
        if first == "[" and stripped[-1] == "]":
            return "section"
        if "=" in self.text:
            return "entry"
        return "other"

    @property
    def section_name(self) -> str:
        return self.stripped[1:-1]

    @property
    def key(self) -> str:
        return self.text.split("=", 1)[0].strip(" \t")

    @property
    def value(self) -> str:
        return self.text.split("=", 1)[1].strip(" \t")

    def with_value(self, value: str) -> str:
        """This entry's text with ``value`` in place of the old one, spacing kept."""
        key_part, raw = self.text.split("=", 1)
        core = raw.strip(" \t")
        lead = raw[: len(raw) - len(raw.lstrip(" \t"))]
        trail = raw[len(raw.rstrip(" \t")) :] if core else ""
        return f"{key_part}={lead}{value}{trail}"


class Entry(NamedTuple):
    """A ``key=value`` line with its place: 1-based line number and section."""

    line: int
    section: str | None
    key: str
    value: str


class CpfFile:
    """An editable CPF or merge file that writes back every untouched byte as it was."""

    def __init__(self, lines: list[Line], *, path: Path | None = None, bom: bool = False) -> None:
        #: the lines; change them through :meth:`set` (which keeps the index current)
        self.lines = lines
        self.path = path
        self.bom = bom
        self._index: tuple[list[Entry], dict[str, list[Entry]], list[str]] | None = None

    def _scan(self) -> tuple[list[Entry], dict[str, list[Entry]], list[str]]:
        """Entries in order, entries by section, section names: built once per edit."""
        if self._index is None:
            entries: list[Entry] = []
            by_section: dict[str, list[Entry]] = {}
            section: str | None = None
            for number, line in enumerate(self.lines, 1):
                text = line.text
                stripped = text.strip(" \t")
                if not stripped or stripped[0] == "#":
                    continue
                if stripped[0] == "[" and stripped[-1] == "]":
                    section = stripped[1:-1]
                    by_section.setdefault(section, [])
                    continue
                key, equals, value = text.partition("=")
                if equals:
                    entry = Entry(number, section, key.strip(" \t"), value.strip(" \t"))
                    entries.append(entry)
                    if section is not None:
                        by_section[section].append(entry)
            self._index = (entries, by_section, list(by_section))
        return self._index

    # --- reading -------------------------------------------------------------

    @classmethod
    def parse(cls, data: bytes | str, *, path: str | os.PathLike[str] | None = None) -> CpfFile:
        """Model ``data`` (the whole file); never fails on content."""
        text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
        bom = text.startswith(_BOM)
        if bom:
            text = text[1:]
        parts = text.split("\n")
        last = parts.pop()
        lines = [Line(p[:-1], "\r\n") if p.endswith("\r") else Line(p, "\n") for p in parts]
        if last:
            lines.append(Line(last, ""))
        return cls(lines, path=Path(path) if path is not None else None, bom=bom)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> CpfFile:
        """Read a CPF file; a missing or unreadable file raises :class:`ToolError`."""
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            from pytest_iris.errors import ToolError

            raise ToolError(f"cannot read CPF file {os.fspath(path)}: {error.strerror}") from None
        return cls.parse(data, path=path)

    def to_bytes(self) -> bytes:
        """The file as it would be written: unchanged lines byte for byte."""
        body = "".join(line.text + line.eol for line in self.lines)
        return ((_BOM if self.bom else "") + body).encode("utf-8", "surrogateescape")

    def write(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        backup: bool = False,
        day: date | None = None,
    ) -> Path | None:
        """Write atomically to ``path`` (default: where it was read); returns the backup made.

        With ``backup=True`` the file being replaced is first saved as
        ``<name>_YYYYMMDD`` (``day``, default today); see :mod:`.storage`.
        """
        from pytest_iris.tools.cpf import storage

        target = Path(path) if path is not None else self.path
        if target is None:
            from pytest_iris.errors import ToolError

            raise ToolError("CpfFile.write: no path given and the file was not read from one")
        saved = storage.make_backup(target, day or date.today()) if backup else None
        storage.write_atomic(target, self.to_bytes())
        return saved

    def copy(self) -> CpfFile:
        clone = CpfFile([Line(x.text, x.eol) for x in self.lines], path=self.path, bom=self.bom)
        clone._index = self._scan()  # never mutated in place, only replaced: safe to share
        return clone

    @property
    def eol(self) -> str:
        """The line ending most lines use (``\\n`` for a file without any)."""
        crlf = sum(1 for line in self.lines if line.eol == "\r\n")
        lf = sum(1 for line in self.lines if line.eol == "\n")
        return "\r\n" if crlf > lf else "\n"

    def entries(self) -> Iterator[Entry]:
        """Every ``key=value`` line in file order, with its section."""
        return iter(self._scan()[0])

    def sections(self) -> list[str]:
        """Section names in order of first appearance."""
        return list(self._scan()[2])

    def has_section(self, section: str) -> bool:
        return self._section_name(section) is not None

    def items(self, section: str) -> list[tuple[str, str]]:
        """``(key, value)`` of a section in file order, duplicates included."""
        name = self._section_name(section)
        return [] if name is None else [(e.key, e.value) for e in self._scan()[1][name]]

    def find(self, section: str, key: str) -> list[Entry]:
        """Every occurrence of ``key`` in ``section`` (exact names, else case-insensitive)."""
        name = self._section_name(section)
        if name is None:
            return []
        candidates = self._scan()[1][name]
        exact = [e for e in candidates if e.key == key]
        if exact:
            return exact
        folded = key.casefold()
        return [e for e in candidates if e.key.casefold() == folded]

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        """The value of ``key`` in ``section`` (its last occurrence), or ``default``."""
        found = self.find(section, key)
        return found[-1].value if found else default

    def problems(self) -> list[str]:
        """Lines a CPF should not hold: entries before any section, stray text, control bytes."""
        out: list[str] = []
        section: str | None = None
        for number, line in enumerate(self.lines, 1):
            kind = line.kind
            if _has_control(line):
                out.append(f"line {number}: {line.text!r} holds a control character")
            elif kind == "section":
                section = line.section_name
            elif kind == "entry" and section is None:
                out.append(f"line {number}: {line.text!r} is outside any [section]")
            elif kind == "entry" and not line.key:
                out.append(f"line {number}: {line.text!r} has no key before '='")
            elif kind == "other":
                out.append(f"line {number}: {line.text!r} is not a [section], key=value or comment")
        return out

    def structure_problems(self) -> list[str]:
        """:meth:`problems` and repeated section headers, in line order.

        Each makes the file ambiguous to edit (which ``[config]`` does a new
        key go to? what does IRIS read from a NUL byte?), so
        :class:`~pytest_iris.tools.cpf.CpfTool` refuses to change such a file;
        a value outside its documented rule is not one of them.
        """
        out = [(_line_number(p), p) for p in self.problems()]
        first: dict[str, int] = {}
        for number, line in enumerate(self.lines, 1):
            if line.kind != "section" or _has_control(line):
                continue
            name = line.section_name.casefold()
            if name in first:
                out.append(
                    (
                        number,
                        f"line {number}: [{line.section_name}] repeats the section "
                        f"of line {first[name]}",
                    )
                )
            else:
                first[name] = number
        return [problem for _, problem in sorted(out, key=lambda item: item[0])]

    # --- editing -------------------------------------------------------------

    def set(self, section: str, key: str, value: str) -> str | None:
        """Set ``key`` in ``section`` to ``value``; returns the old value (``None`` if new).

        Existing occurrences are rewritten in place (spacing around the value
        kept); a new key goes after the last entry of its section, and a new
        section at the end of the file, in the file's line-ending style. No
        validation here: :class:`~pytest_iris.tools.cpf.CpfTool` validates.
        """
        from pytest_iris.errors import ValidationError

        if "\n" in value or "\r" in value:
            raise ValidationError(f"[{section}]{key}: a value cannot hold a line break: {value!r}")
        bad_key = not key.strip(" \t") or key.strip(" \t")[0] in "#[" or "=" in key
        if bad_key or "\n" in key or "\r" in key:
            raise ValidationError(f"[{section}]{key!r}: not a key a CPF line can hold")
        if not section or "]" in section or "\n" in section or "\r" in section:
            raise ValidationError(f"[{section!r}]: not a section name a CPF can hold")
        found = self.find(section, key)
        name = self._section_name(section)
        if found:
            for entry in found:
                line = self.lines[entry.line - 1]
                line.text = line.with_value(value)
            self._patch_index({e.line for e in found}, value.strip(" \t"))
            return found[-1].value
        self._index = None  # the paths below add lines
        if name is None:
            self._append_section(section, f"{key}={value}")
        else:
            self._insert_entry(name, f"{key}={value}")
        return None

    def _patch_index(self, numbers: Container[int], value: str) -> None:
        """The index after the values on lines ``numbers`` became ``value`` (no re-scan)."""
        entries, _, names = self._scan()
        patched = [e._replace(value=value) if e.line in numbers else e for e in entries]
        sections: dict[str, list[Entry]] = {n: [] for n in names}
        for entry in patched:
            if entry.section is not None:
                sections[entry.section].append(entry)
        self._index = (patched, sections, names)

    def _section_name(self, section: str) -> str | None:
        names = self._scan()[2]
        if section in names:
            return section
        folded = section.casefold()
        return next((n for n in names if n.casefold() == folded), None)

    def _insert_entry(self, section: str, text: str) -> None:
        current: str | None = None
        last = -1
        for index, line in enumerate(self.lines):
            kind = line.kind
            if kind == "section":
                current = line.section_name
                if current == section:
                    last = index
            elif current == section and kind in ("entry", "other", "comment"):
                last = index
        self._insert_after(last, text)

    def _append_section(self, section: str, text: str) -> None:
        eol = self.eol
        if self.lines and self.lines[-1].eol == "":
            _terminate(self.lines[-1], eol)
            final = ""
        else:
            final = eol
        if self.lines and self.lines[-1].kind != "blank" and self._blank_before_sections():
            self.lines.append(Line("", eol))
        self.lines.append(Line(f"[{section}]", eol))
        self.lines.append(Line(text, final))

    def _insert_after(self, index: int, text: str) -> None:
        previous = self.lines[index]
        if previous.eol == "":  # the last line of a file without a final newline
            _terminate(previous, self.eol)
            self.lines.insert(index + 1, Line(text, ""))
        else:
            self.lines.insert(index + 1, Line(text, self.eol))

    def _blank_before_sections(self) -> bool:
        """Whether this file separates sections with a blank line (most real ones do)."""
        headers = [i for i, line in enumerate(self.lines) if line.kind == "section" and i > 0]
        if not headers:
            return True
        blank = sum(1 for i in headers if self.lines[i - 1].kind == "blank")
        return blank * 2 >= len(headers)


def _has_control(line: Line) -> bool:
    """Whether ``line`` holds a control character (a last line's stray final CR is an ending)."""
    text = line.text[:-1] if line.eol == "" and line.text.endswith("\r") else line.text
    return _CONTROL.search(text) is not None


def _line_number(problem: str) -> int:
    return int(problem.split(":", 1)[0].removeprefix("line "))


def _terminate(line: Line, eol: str) -> None:
    """Give the unterminated last line an ending; a stray final CR becomes part of a CRLF."""
    if line.text.endswith("\r"):
        line.text, line.eol = line.text[:-1], "\r\n"
    else:
        line.eol = eol
