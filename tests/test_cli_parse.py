"""``pytest-iris parse``: summary, JSON lines, problems on stderr, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from pytester_support import run_cli


def test_summary_of_the_real_log(real_log: Path) -> None:
    result = run_cli(None, "parse", str(real_log))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "91 entries in 138 lines" in out
    assert "unstamped blocks (WIJ recovery): 1" in out
    assert "2019-05-03T14:24:13.234 .. 2025-11-13T18:33:59.456" in out
    assert "3 fatal" in out and "        4" in out
    assert "Utility.Event" in out and "(none: Caché format)" in out
    assert "problems: 0" in out


def test_json_lines_and_problems_on_stderr(tmp_path: Path) -> None:
    log = tmp_path / "messages.log"
    log.write_bytes(
        b"05/04/20-12:19:46:408 (182049) 2 CP: Pausing users because\n"
        b"   signs of activity for 301 seconds.\n"
        b"garbage here\n"
        b"01/09/22-11:02:08:227 (684) 1 [Utility.Event] Becoming primary mirror server\n"
    )
    result = run_cli(None, "parse", "--json", str(log))
    assert result.returncode == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0] == {
        "kind": "entry",
        "line": 1,
        "timestamp": "2020-05-04T12:19:46.408",
        "pid": 182049,
        "severity": 2,
        "category": None,
        "text": "CP: Pausing users because",
        "continuation": ["   signs of activity for 301 seconds."],
    }
    assert records[1]["line"] == 4 and records[1]["category"] == "Utility.Event"
    assert result.stderr.strip().startswith(f"{log}:3: unstamped line")


def test_json_gives_the_recovery_block_its_own_kind(real_log: Path) -> None:
    result = run_cli(None, "parse", "--json", str(real_log))
    assert result.returncode == 0 and result.stderr == ""
    records = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [record["kind"] for record in records]
    assert kinds.count("entry") == 91 and kinds.count("wij-recovery") == 1
    block = records[kinds.index("wij-recovery")]
    assert block["line"] == 111 and block["lines"][1].startswith("*** Recovery started at")
    journal = next(r for r in records if r.get("text", "").endswith("SYSTEM MESSAGE"))
    assert journal["continuation"] == ["Journaling switched to: /iris/journal1/20210811.003"]


def test_summary_lists_problems_with_line_numbers(tmp_path: Path) -> None:
    log = tmp_path / "messages.log"
    log.write_bytes(b"\x00junk\n01/09/22-11:02:08:227 (684) 1 [Utility.Event] ok\n")
    result = run_cli(None, "parse", str(log))
    assert result.returncode == 0
    assert f"{log}:1: NUL byte at column 1" in result.stdout


def test_unreadable_file_exits_2_naming_it(tmp_path: Path, real_log: Path) -> None:
    missing = tmp_path / "missing.log"
    result = run_cli(None, "parse", str(real_log), str(missing))
    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert "91 entries" in result.stdout  # the readable file was still reported


def test_schema_command_prints_model_schemas() -> None:
    result = run_cli(None, "schema", "IRISMessage")
    assert result.returncode == 0
    assert json.loads(result.stdout)["title"] == "IRISMessage"
    assert run_cli(None, "schema", "Nope").returncode == 2
    every = json.loads(run_cli(None, "schema").stdout)
    assert {"IRISMessage", "RemediationCommand", "ToolResult", "MessageEnvelope"} <= set(every)
