"""Every ``python`` block of the manual runs, so the manual cannot rot.

Most examples are included from ``tests/examples/test_howto_*.py`` (checked
by ``tests/test_docs.py`` and run as the suite's own tests). The rest, in
README.md and every page under ``docs/``, run here: a block that defines a
test (``def test_``) is run as a test file with the plugin loaded; any other
block runs as a script. Both run in a fresh temporary directory with the
repository's ``log_samples/`` beside them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from docs_support import ROOT, Block, all_blocks

BLOCKS = [b for b in all_blocks() if b.language == "python" and b.include is None]


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_python_block_runs(block: Block, pytester: pytest.Pytester) -> None:
    shutil.copytree(ROOT / "log_samples", pytester.path / "log_samples")
    name = block.where.replace("/", "_").replace(".", "_").replace(":", "_")
    if "def test_" in block.text:
        pytester.makepyfile(**{f"test_{name}": block.text})
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
        assert result.ret == 0, f"{block.where} failed:\n" + "\n".join(result.outlines)
    else:
        script = pytester.path / f"{name}.py"
        script.write_text(block.text, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=pytester.path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{block.where} failed:\n{done.stdout}\n{done.stderr}"


def test_the_manual_has_python_examples() -> None:
    python = [b for b in all_blocks() if b.language == "python"]
    assert len(python) >= 2
    assert all(b.text.strip() for b in python), "an empty python block"
