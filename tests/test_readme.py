"""Every ``python`` code block of README.md runs, so the manual cannot rot.

A block that defines a test (``def test_``) is run as a test file with the
plugin loaded; any other block runs as a script. Both run in a fresh
temporary directory with the repository's ``log_samples/`` beside them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks() -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in _BLOCK.finditer(text)]


BLOCKS = python_blocks()


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_readme_block(line: int, code: str, pytester: pytest.Pytester) -> None:
    samples = README.parent / "log_samples"
    shutil.copytree(samples, pytester.path / "log_samples")
    if "def test_" in code:
        pytester.makepyfile(**{f"test_readme_{line}": code})
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
        assert result.ret == 0, f"README.md:{line} failed:\n" + "\n".join(result.outlines)
    else:
        script = pytester.path / f"readme_{line}.py"
        script.write_text(code, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=pytester.path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"README.md:{line} failed:\n{done.stdout}\n{done.stderr}"


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 2
