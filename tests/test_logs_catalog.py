"""``pytest-iris catalog`` lists the templates; ``catalog match`` finds an entry's template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_iris.cli import main
from pytest_iris.generation.catalog import load_catalog
from pytest_iris.generation.matching import TemplateMatcher
from pytest_iris.generation.stream import LogStream


def test_catalog_json_lists_every_template_with_its_origin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["catalog", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in records] == [t.id for t in load_catalog()]
    for record in records:
        assert set(record) == {"id", "category", "severity", "text", "source", "invented"}
        # A source, or a note of what was invented (some templates have both).
        assert record["source"] or record["invented"], record


def test_match_finds_the_template_of_every_generated_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = LogStream(count=2000, seed=11, sequences=["startup"])
    expected = {}
    line = 1
    for entry in stream.entries():
        expected[line] = entry.template
        line += 1 + len(entry.continuation)
    log = stream.write(tmp_path / "messages.log")
    assert main(["catalog", "match", str(log), "--json"]) == 0
    captured = capsys.readouterr()
    records = [json.loads(row) for row in captured.out.splitlines()]
    assert [r["line"] for r in records] == list(expected)
    wildcards = {t.id for t in load_catalog() if t.text.strip("{}").isidentifier()}
    for record in records:
        want = expected[record["line"]]
        if want in wildcards:
            assert record["template"] is None  # a bare {text} says nothing about wording
        else:
            matcher_hit = record["template"]
            assert matcher_hit is not None
            # Templates with the same wording are interchangeable; the wording must agree.
            assert load_catalog()[matcher_hit].text == load_catalog()[want].text
    assert "entries match a template" in captured.err


def test_match_on_the_real_log_reports_unknown_entries_as_null(
    real_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "match", str(real_log), "--json"]) == 0
    records = [json.loads(row) for row in capsys.readouterr().out.splitlines()]
    assert len(records) == 91
    by_line = {r["line"]: r["template"] for r in records}
    # Line 3: "Intel Sandy Bridge AES-NI instructions detected." is in the catalog.
    assert by_line[3] is not None
    # Line 41: a real container error ("Error while moving data directories"), in the
    # catalog; line 1: a shared-memory line, whose wording is memory.py's.
    assert by_line[41] == "durable.move_failed" and by_line[1] is None


def test_matcher_needs_severity_and_category_to_agree() -> None:
    matcher = TemplateMatcher(load_catalog())
    text = "Intel Sandy Bridge AES-NI instructions detected."
    assert matcher.match(0, "Crypto.IntelSandyBridgeAESNI", text) is not None
    assert matcher.match(2, "Crypto.IntelSandyBridgeAESNI", text) is None
    assert matcher.match(0, "Nope.Category", text) is None


def test_bad_use_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "match"]) == 2
    assert "missing FILE" in capsys.readouterr().err
    assert main(["catalog", "match", str(tmp_path / "missing.log")]) == 2
    assert "missing.log" in capsys.readouterr().err
