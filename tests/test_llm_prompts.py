"""Prompts are built from real lines and the template catalog, deterministically."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pytest_iris.generation import SequenceContext, load_catalog, render_sequence, sequence_names
from pytest_iris.llm import prompts
from pytest_iris.log.codec import parse_message
from pytest_iris.sandbox.host import SandboxHost

REAL_LOG = Path(__file__).parent / "data" / "messages_real.log"


def test_samples_are_real_lines_that_parse() -> None:
    real = REAL_LOG.read_text(encoding="utf-8")
    for entry in prompts.sample_entries():
        parse_message(entry)
        assert all(line in real for line in entry.split("\n")), entry


def test_incidents_are_the_template_engines_sequences() -> None:
    assert set(prompts.INCIDENTS) <= set(sequence_names())


def test_catalog_snapshot_still_matches_the_catalog() -> None:
    categories = {t.category for t in load_catalog()}
    for name, item in prompts.INCIDENTS.items():
        examples = prompts.catalog_examples(item)
        assert examples, name
        for example in examples:
            assert parse_message(example).category in categories, (
                f"{example!r}: category gone from the catalog; refresh the snapshot with "
                "`python -m pytest_iris.llm._catalog` and re-record with --iris-record-mode=all"
            )


def test_prompts_are_deterministic_and_carry_both_kinds_of_example() -> None:
    item = prompts.incident("shm_failure")
    first = prompts.generate_messages(item, 5)
    assert json.dumps(first) == json.dumps(prompts.generate_messages(item, 5))
    system = first[0]["content"]
    assert "Allocated 495MB shared memory" in system  # real (IRIS 2023.1)
    assert prompts.catalog_examples(item)[0] in system  # template catalog
    assert "Write 5 entries" in first[1]["content"]


def _quoted(text: str) -> list[str]:
    return re.findall(r"'([^']+)'", text)


def test_shutdown_prompt_quotes_what_iris_stop_writes(tmp_path: Path) -> None:
    """The prompt describes the real clean shutdown the sandbox's ``iris stop`` logs."""
    with SandboxHost(tmp_path / "host", users=2) as host:
        before = host.log_text()
        stopped = host.iris("stop", "IRIS", "quietly")
        assert stopped.status == 0, stopped.stderr
        added = host.log_text()[len(before) :]
    written = [parse_message(line).text for line in added.splitlines()]
    item = prompts.incident("shutdown")
    quoted = _quoted(item.description)
    assert quoted[:2] == written  # the entries, in iris stop's order, and nothing else
    system = prompts.generate_messages(item, len(written))[0]["content"]
    assert all(text in system for text in written)  # shown as examples too


def test_shutdown_prompt_quotes_every_shutdown_template_and_its_order() -> None:
    shutdown = {t.text for t in load_catalog() if t.id.startswith("shutdown.")}
    quoted = _quoted(prompts.incident("shutdown").description)
    assert set(quoted) == shutdown  # a catalog change must reach the prompt
    poorly = render_sequence("shutdown", SequenceContext(), open_transactions=True)
    assert [m.text for m in poorly] == [quoted[2], *quoted[:2]]  # "poorly" comes first
