"""Every Python example of the manual is included from a test, so none can rot.

The README promises that each example is a test of this repository
(``tests/examples/test_howto_*.py``) pulled into the page by an include
comment; ``tests/test_docs.py`` checks that each included block equals its
source and that the source is such a test. This module closes the gap:
a Python block written straight into README.md or a page under ``docs/``
(no include comment) would be run by nobody, so it fails here, named.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from docs_support import Block, all_blocks, blocks

#: fence languages that hold Python a reader would paste
PYTHON = frozenset({"python", "py", "python3", "pycon"})


def untested_python(found: Iterable[Block]) -> list[Block]:
    """The Python blocks that no include comment ties to a test."""
    return [b for b in found if b.language in PYTHON and b.include is None]


def test_every_python_example_is_included_from_a_test() -> None:
    untested = untested_python(all_blocks())
    assert not untested, (
        "python blocks not included from tests/examples/test_howto_*.py (move each into "
        "a test there, put `<!-- include: tests/examples/test_howto_<part>.py::<name> -->` "
        "above the block and run `python tests/docs_support.py`): "
        + ", ".join(b.where for b in untested)
    )


def test_an_inline_python_block_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# probe\n\n"
        "<!-- include: tests/examples/test_howto_chaos.py::do_nothing -->\n"
        "```python\ndef do_nothing(): ...\n```\n\n"
        "```py\nprint('never run')\n```\n\n"
        "```console\n$ pytest\n```\n",
        encoding="utf-8",
    )
    assert [(b.line, b.language) for b in untested_python(blocks(page))] == [(8, "py")]


def test_the_manual_has_python_examples() -> None:
    python = [b for b in all_blocks() if b.language == "python"]
    assert len(python) >= 2
    assert all(b.text.strip() for b in python), "an empty python block"
