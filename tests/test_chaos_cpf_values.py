"""A scenario's CPF values are checked when it is loaded: typos and values no IRIS would hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_iris.chaos.loader import load_scenario
from pytest_iris.errors import ScenarioError
from pytest_iris.registry import Registry


def _load(tmp_path: Path, body: str) -> None:
    path = tmp_path / "iris_chaos_cpf.yaml"
    if "faults:" not in body:
        body += "faults:\n  - at: 1\n    cpf: {config: {globals: 900}}\n"
    path.write_text("name: cpf-values\n" + body)
    load_scenario(path, registry=Registry.default())


def test_a_catalogued_value_outside_its_rule_names_file_line_and_rule(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        _load(tmp_path, "host:\n  cpf:\n    config: {locksiz: abc}\n")
    message = str(caught.value)
    assert "\n" not in message  # one problem, one line
    assert "iris_chaos_cpf.yaml:4: host.cpf.config.locksiz:" in message
    assert "not an integer" in message and "rule:" in message


def test_a_typo_in_a_fault_key_is_an_error_naming_the_known_parameters(tmp_path: Path) -> None:
    body = "faults:\n  - at: 1\n    cpf: {config: {globalz: 5}}\n"
    with pytest.raises(ScenarioError) as caught:
        _load(tmp_path, body)
    message = str(caught.value)
    assert ":4: faults[0].cpf.config.globalz: unknown CPF parameter [config]globalz" in message
    assert "globals" in message


def test_real_keys_and_open_sections_are_accepted(tmp_path: Path) -> None:
    # [config]LibPath is in the real iris.cpf but not catalogued; [Databases] takes any name
    body = (
        "host:\n  cpf:\n    config: {locksiz: 16777216, LibPath: ''}\n"
        "    Databases: {MYAPP: /data/myapp/}\n"
        "faults:\n  - at: 1\n    cpf: {config: {globals: '0,0,900,0,0,0'}}\n"
    )
    _load(tmp_path, body)


def test_several_problems_are_one_line_each_naming_file_line_and_field(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        _load(tmp_path, "host:\n  cpf:\n    config:\n      locksiz: abc\n      globalz: 5\n")
    message = str(caught.value)
    # it was 'invalid scenario:' and one indented line per problem (user trial)
    assert "\n" not in message
    assert message.startswith("invalid scenario: ")
    problems = message.removeprefix("invalid scenario: ").split(f"; {tmp_path}/")
    assert [p.split(": ")[1] for p in problems] == [
        "host.cpf.config.locksiz",
        "host.cpf.config.globalz",
    ]
    assert "not an integer" in problems[0] and "rule:" in problems[0]
    assert "not a catalogued parameter (globals, " in problems[1]
