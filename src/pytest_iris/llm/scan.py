"""Find anything that looks like a credential in cassette files.

Scrubbing happens at record time; this scan is the independent check that it
worked (run by the test suite and ``pytest-iris cassettes check``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

_PATTERNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("OpenAI-style key", re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")),
    ("bearer token", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9_\-\.=:+/]{8,}")),
    ("basic credentials", re.compile(r"(?i)\bbasic\s+[A-Za-z0-9+/=]{12,}")),
    ("AWS access key", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    ("Anthropic key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{16,}")),
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    (
        "credential header or field",
        re.compile(
            r"(?im)^\s*[\"']?(authorization|proxy-authorization|api[-_]?key|x-api-key|cookie"
            r"|set-cookie|openai-organization|x-goog-api-key)[\"']?\s*:"
        ),
    ),
    (
        "key-like assignment",
        re.compile(
            r"(?i)[\"']?\b(api[_-]?key|secret|access[_-]?token|password)[\"']?\s*[:=]\s*"
            r"[\"']?[A-Za-z0-9_\-\.]{12,}"
        ),
    ),
)


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
    for number, line in enumerate(text.splitlines(), 1):
        for kind, pattern in _PATTERNS:
            match = pattern.search(line)
            if match is not None:
                found = match.group()
                masked = found[:6] + "..." if len(found) > 6 else found
                yield Finding(path, number, kind, masked)


def scan_paths(*roots: str | os.PathLike[str]) -> list[Finding]:
    """Findings in every file under ``roots`` (files or directories), sorted by path."""
    findings: list[Finding] = []
    for root in map(Path, roots):
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            text = path.read_text("utf-8", errors="replace")
            findings.extend(scan_text(text, path))
    return findings
