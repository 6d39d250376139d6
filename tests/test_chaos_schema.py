"""Scenario files: the built-in library loads, and every error names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_iris.builtin_plugin import SCENARIO_DIR
from pytest_iris.chaos.loader import load_scenario, load_scenario_text, scenario_files
from pytest_iris.errors import ScenarioError

BUILTINS = sorted(SCENARIO_DIR.glob("iris_chaos_*.yaml"))

VALID = """\
name: demo
host:
  users: 2
faults:
  - at: 5
    sequence: lock_table
expect:
  within_s: 30
"""


def test_builtin_library_covers_the_incidents() -> None:
    names = {load_scenario(path).name for path in BUILTINS}
    assert names == {
        "shm_exhaustion_at_startup",
        "huge_pages_insufficient",
        "global_buffers_too_small",
        "lock_table_full",
        "write_daemon_stalled",
        "journal_space_alert",
        "license_limit",
        "restart_with_users_connected",
        "endpoint_down_during_incident",
    }


def test_valid_scenario_loads_with_defaults() -> None:
    scenario = load_scenario_text(VALID, "demo.yaml")
    assert scenario.host.users == 2
    assert scenario.host.instance == "running"
    assert scenario.faults[0].action == "sequence"
    assert scenario.expect.within_s == 30
    assert scenario.transport == "direct"


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "s.yaml")
    return str(caught.value)


def test_unknown_field_names_line_and_path() -> None:
    message = _error(VALID + "  bogus: 1\n")
    assert "s.yaml:9: expect.bogus: unknown field" in message


def test_unknown_kernel_key_points_at_its_line() -> None:
    text = VALID.replace("  users: 2\n", "  users: 2\n  kernel:\n    kernel.shmmx: 5\n")
    message = _error(text)
    assert "s.yaml:5: host.kernel.kernel.shmmx:" in message
    assert "kernel.shmmax" in message  # the valid names are listed


def test_fault_with_two_actions_is_rejected() -> None:
    text = VALID.replace(
        "    sequence: lock_table\n", "    sequence: lock_table\n    kill: write_daemon\n"
    )
    message = _error(text)
    assert "s.yaml:5: faults[0]: a fault needs exactly one of" in message
    assert "got sequence, kill" in message


def test_wrong_type_and_missing_field() -> None:
    message = _error("host:\n  users: many\nfaults: []\n")
    assert "s.yaml:2: host.users:" in message
    assert "required field 'name' is missing" in message
    assert "faults: List should have at least 1 item" in message


def test_yaml_syntax_error_names_the_line() -> None:
    message = _error("name: x\nfaults:\n  - at: [1,\n")
    assert message.startswith("s.yaml:") and "not valid YAML" in message


def test_duplicate_keys_are_an_error() -> None:
    message = _error(VALID + "name: again\n")
    assert "s.yaml:9: key 'name' repeats the one on line 1" in message


def test_endpoint_faults_need_http_transport() -> None:
    text = VALID.replace("    sequence: lock_table\n", "    endpoint: down\n")
    assert "need 'transport: http'" in _error(text)


def test_bad_regex_in_expectation() -> None:
    text = VALID + "  messages_after:\n    - {text_regex: '(unclosed'}\n"
    message = _error(text)
    assert "s.yaml:10: expect.messages_after[0].text_regex:" in message


def test_scenario_files_from_directories_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "iris_chaos_a.yaml").write_text(VALID)
    (tmp_path / "other.yaml").write_text(VALID)
    assert scenario_files([tmp_path]) == [tmp_path / "iris_chaos_a.yaml"]
    with pytest.raises(ScenarioError, match="no such scenario file or directory"):
        scenario_files([tmp_path / "nope"])


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "iris_chaos_bad.yaml"
    bad.write_bytes(b"name: \xff\n")
    with pytest.raises(ScenarioError, match=r"iris_chaos_bad\.yaml: cannot read"):
        load_scenario(bad)
