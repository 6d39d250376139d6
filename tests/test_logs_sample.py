"""``log_samples/messages.log`` is what the manual's documented command (docs/logs.md) makes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from pytest_iris.cli import main
from pytest_iris.log.reader import LogEntry, LogProblem, read_log

REPO = Path(__file__).parents[1]
SAMPLE = REPO / "log_samples" / "messages.log"


def _documented_command() -> list[str]:
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    manual = "\n".join(page.read_text(encoding="utf-8") for page in pages)
    block = re.search(r"\$ (pytest-iris generate --seed 20240309 .*?)\n```", manual, re.S)
    assert block, "the sample's command is missing from README.md and docs/"
    return shlex.split(block.group(1).replace("\\\n", " "))[1:]


def test_sample_is_reproduced_by_the_documented_command(tmp_path: Path) -> None:
    args = _documented_command()
    out = tmp_path / "messages.log"
    args[args.index("-o") + 1] = str(out)
    assert main(args) == 0
    assert out.read_bytes() == SAMPLE.read_bytes()


def test_sample_has_50000_lines_that_all_parse() -> None:
    items = list(read_log(SAMPLE))
    assert not [i for i in items if isinstance(i, LogProblem)]
    entries = [i for i in items if isinstance(i, LogEntry)]
    assert entries[-1].end_line == 50_000
    texts = "\n".join(e.message.text for e in entries)
    for incident in ("Failed to allocate", "Daemon WRTDMN", "CP: Pausing users", "LockTable Alert",
                     "DiskSpace Alert", "JournalSpace Alert", "caught signal 11",
                     "License limit exceeded", "ERROR #507", "Becoming primary mirror server"):  # fmt: skip
        assert incident in texts, incident
