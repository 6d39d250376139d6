"""Find anything that looks like a credential in cassette files.

Scrubbing happens at record time (:mod:`pytest_iris.llm.scrub`); this scan is
the independent check that it worked (run by the test suite and
``pytest-iris cassettes check``). It reads every form a key can take in a
file vcrpy wrote: plain text, UTF-16 files, base64 ``!!binary`` blocks,
URL-encoded and ``\\u``-escaped text; it looks for the key shapes the
scrubber knows, userinfo passwords in URLs, and header or field names that
say they carry a credential (``X-Session-Cookie:``) with a value.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import unquote

from pytest_iris.llm.scrub import KEY_SHAPES, REDACTED, is_secret_name

_PATTERNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    *KEY_SHAPES,
    ("userinfo password", re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@'\"]+:[^/\s@'\"]+@")),
    (
        "key-like assignment",
        re.compile(
            r"(?i)[\"']?\b(api[_-]?key|secret|access[_-]?token|password)[\"']?\s*[:=]\s*"
            r"[\"']?[A-Za-z0-9_\-\.]{12,}"
        ),
    ),
    (
        "secret query parameter",
        re.compile(
            r"(?i)[?&](sk|sig|code|sas|[a-z0-9_\-]*(key|token|secret|passw|signature"
            r"|subscription|session|cookie)[a-z0-9_\-]*)=(?!REDACTED)[^&\s'\"]{4,}"
        ),
    ),
)
#: a YAML mapping key (header or field name) on its own line: ``  X-Api-Key:``
_NAME_LINE: Final = re.compile(r"^\s*-?\s*[\"']?([A-Za-z0-9_\-]+)[\"']?\s*:(.*)$")
_BINARY: Final = re.compile(r"!!binary\s*\|?\s*(.*)$")
_BASE64_LINE: Final = re.compile(r"^\s*([A-Za-z0-9+/=]+)\s*$")
_U_ESCAPE: Final = re.compile(r"\\u([0-9a-fA-F]{4})")


@dataclass(frozen=True, slots=True)
class Finding:
    """Something key-like at ``path:line``; ``excerpt`` is masked so reports leak nothing."""

    path: Path
    line: int
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.excerpt}"


def scan_text(text: str, path: Path) -> Iterator[Finding]:
    """Findings in ``text`` (already decoded), in every encoding it may hide a key in."""
    lines = text.splitlines()
    seen: set[tuple[int, str]] = set()
    for number, line in enumerate(lines, 1):
        for variant in _variants(line):
            for finding in _scan_line(variant, number, path):
                if (number, finding.kind) not in seen:
                    seen.add((number, finding.kind))
                    yield finding
        name = _NAME_LINE.match(line)
        if name and _secret_key(name.group(1)) and (number, "credential name") not in seen:
            value = name.group(2).strip() or _next_value(lines, number)
            if value and REDACTED not in value:
                seen.add((number, "credential name"))
                yield Finding(path, number, "credential header or field", _mask(name.group(1)))
    yield from _scan_binary(lines, path, seen)


def scan_bytes(data: bytes, path: Path) -> Iterator[Finding]:
    """Findings in a file's bytes: UTF-16 (BOM or NULs) or UTF-8 (undecodable bytes replaced)."""
    encoding = "utf-8"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif len(data) >= 4 and data[1::2].count(0) > len(data) // 4:
        encoding = "utf-16-le"
    elif len(data) >= 4 and data[0::2].count(0) > len(data) // 4:
        encoding = "utf-16-be"
    yield from scan_text(data.decode(encoding, errors="replace"), path)


def scan_paths(*roots: str | os.PathLike[str]) -> list[Finding]:
    """Findings in every file under ``roots`` (files or directories), sorted by path."""
    findings: list[Finding] = []
    for root in map(Path, roots):
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            findings.extend(scan_bytes(path.read_bytes(), path))
    return findings


# --- internals -----------------------------------------------------------------


def _secret_key(name: str) -> bool:
    """A YAML key naming a credential (vcrpy's own ``code:`` under ``status:`` is not one)."""
    return is_secret_name(name) and name.casefold() != "code"


def _mask(found: str) -> str:
    return found[:6] + "..." if len(found) > 6 else found


def _scan_line(line: str, number: int, path: Path) -> Iterator[Finding]:
    for kind, pattern in _PATTERNS:
        match = pattern.search(line)
        if match is not None:
            yield Finding(path, number, kind, _mask(match.group()))


def _variants(line: str) -> list[str]:
    """The line as written, URL-decoded (twice, for double encoding) and ``\\u``-unescaped."""
    out = [line]
    if "%" in line:
        once = unquote(line)
        out += [once, unquote(once)]
    if "\\u" in line:
        out.append(_U_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), line))
    if "\\x" in line:
        out.append(re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), line))
    return out


def _next_value(lines: list[str], number: int) -> str:
    """The value of a YAML key whose value starts on the next line (``- value``)."""
    if number < len(lines):
        following = lines[number].strip()
        if following.startswith("- "):
            return following[2:].strip()
    return ""


def _scan_binary(lines: list[str], path: Path, seen: set[tuple[int, str]]) -> Iterator[Finding]:
    """Decode each ``!!binary`` block (base64, on its line or the indented lines after)."""
    for index, line in enumerate(lines):
        match = _BINARY.search(line)
        if match is None:
            continue
        chunks = [match.group(1).strip()] if match.group(1).strip() else []
        for following in lines[index + 1 :]:
            part = _BASE64_LINE.match(following)
            if part is None:
                break
            chunks.append(part.group(1))
        try:
            data = base64.b64decode("".join(chunks), validate=False)
        except (binascii.Error, ValueError):
            continue
        for finding in scan_bytes(data, path):
            kind = f"{finding.kind} (in !!binary)"
            if (index + 1, kind) not in seen:
                seen.add((index + 1, kind))
                yield Finding(path, index + 1, kind, finding.excerpt)
        for text in (data.decode("latin-1"),):
            for finding in _scan_line(text, index + 1, path):
                kind = f"{finding.kind} (in !!binary)"
                if (index + 1, kind) not in seen:
                    seen.add((index + 1, kind))
                    yield Finding(path, index + 1, kind, finding.excerpt)
