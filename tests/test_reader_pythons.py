"""The reader's regexes read the same on every Python the package supports (>= 3.11).

CPython before 3.11.5 mis-matches possessive quantifiers (``X*+``,
``X{m,n}+``) in some patterns (gh-106052): on Debian 12's Python 3.11.2 the
real corpus crashed the reader and the generated sample gave 15 entries too
many. Atomic groups (``(?>X*)``) say the same and match correctly there.
The first test keeps possessive quantifiers out of the package's patterns on
any interpreter; the second reads the real corpus and the generated sample
with another installed Python, where there is one, and compares item by item.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pytest_iris
import pytest_iris.log
from pytest_iris.log import read_log

ROOT = Path(__file__).resolve().parents[1]
CORPORA = (ROOT / "tests" / "data" / "messages_real.log", ROOT / "log_samples" / "messages.log")
_QUANTIFIERS = "*+?"


def possessive_at(pattern: str) -> int | None:
    """Index of the first possessive quantifier in ``pattern`` (None when there is none)."""
    i, after_quantifier, in_class = 0, False, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i, after_quantifier = i + 2, False
            continue
        if in_class:
            in_class = char != "]" or pattern[i - 1] in "[^"
            i += 1
            continue
        if char == "[":
            in_class, after_quantifier = True, False
            if pattern[i + 1 : i + 2] == "^":
                i += 1
        elif char == "+" and after_quantifier:
            return i
        elif char in _QUANTIFIERS and pattern[i - 1 : i] != "(":
            after_quantifier = True
            i += 1
            continue
        elif char == "{" and re.match(r"\{\d*(,\d*)?\}", pattern[i:]):
            i = pattern.index("}", i) + 1
            after_quantifier = True
            continue
        after_quantifier = False
        i += 1
    return None


def test_the_detector_finds_possessive_quantifiers_and_nothing_else() -> None:
    assert possessive_at(r"(?:a|b)*+c") == 8
    assert possessive_at(r"[^\n]{1,99}+x") == 11
    assert possessive_at(r"a++") == 2
    for plain in (r"\++", r"[*+]+", r"(?:a)*", r"(?>(?:a|b)*)c", r"x{2}", r"(?!a)+"):
        assert possessive_at(plain) is None, plain


def _log_patterns() -> list[tuple[str, str]]:
    found = []
    for info in pkgutil.iter_modules(pytest_iris.log.__path__, "pytest_iris.log."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found.append((f"{info.name}.{name}", value.pattern))
    return found


def test_no_log_pattern_uses_a_possessive_quantifier() -> None:
    patterns = _log_patterns()
    assert len(patterns) > 5  # the scan reaches the reader's patterns
    offenders = [
        f"{name} at {at}: ...{pattern[max(0, at - 30) : at + 1]}"
        for name, pattern in patterns
        if (at := possessive_at(pattern)) is not None
    ]
    assert not offenders, (
        "possessive quantifiers mis-match before Python 3.11.5 (gh-106052); "
        "write (?>X*) instead: " + "; ".join(offenders)
    )


_DIGEST = """
import json, sys
from pytest_iris.log import read_log
out = {}
for path in sys.argv[1:]:
    out[path] = [[type(i).__name__, i.line, getattr(i, "header", "") or ""] for i in read_log(path)]
print(json.dumps(out))
"""


def _other_pythons() -> list[str]:
    here = Path(sys.executable).resolve()
    found = []
    for candidate in ("/usr/bin/python3", shutil.which("python3.11"), shutil.which("python3")):
        if candidate and Path(candidate).exists() and Path(candidate).resolve() != here:
            found.append(str(Path(candidate).resolve()))
    return sorted(set(found))


@pytest.mark.parametrize("python", _other_pythons() or ["(none)"])
def test_another_installed_python_reads_the_corpora_item_for_item(python: str) -> None:
    if python == "(none)":
        pytest.skip("no other Python interpreter is installed beside this one")
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info >= (3, 11))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if version.stdout.strip() != "True":
        pytest.skip(f"{python} is older than 3.11, which pytest-iris does not support")
    source = str(Path(pytest_iris.__file__).resolve().parents[1])
    paths = [str(p) for p in CORPORA]
    done = subprocess.run(
        [python, "-c", _DIGEST, *paths],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": source, "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if done.returncode != 0 and "ModuleNotFoundError" in done.stderr:
        pytest.skip(
            f"{python} cannot import the reader's dependencies: {done.stderr.splitlines()[-1]}"
        )
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout)
    for path in paths:
        ours = [[type(i).__name__, i.line, getattr(i, "header", "") or ""] for i in read_log(path)]
        assert theirs[path] == ours, f"{python} reads {path} differently"
