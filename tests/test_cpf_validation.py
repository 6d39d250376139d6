"""Invalid changes are rejected before anything is written, naming parameter, value and rule."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cpf_support import copy_real
from pytest_iris.errors import ValidationError
from pytest_iris.tools.cpf import PARAMETERS, CpfTool, lookup, resolve
from pytest_iris.tools.cpf.catalog import check, consistency_problems, normalize

FULL = "RedHatInsights-insights-core-test_iris-IRIS_CPF-2023.1.cpf"

INVALID = [
    ("globals", "0,0,64,0,0", "not six comma-separated integers"),
    ("globals", "0,8,32,0,0,0", "positions 1-2"),
    ("globals", "0,0,-5,0,0,0", "negative"),
    ("globals", "0,0,16777217,0,0,0", "16 TB"),
    ("globals", "lots", "not six"),
    ("routines", "1024", "maximum of 1023"),
    ("routines", "500,500,500,0,0,0", "maximum of 1023"),
    ("routines", "1,2,3", "not one integer or six"),
    ("gmheap", "100", "out of range"),
    ("gmheap", "1073741761", "out of range"),
    ("locksiz", "4096", "out of range"),
    ("bbsiz", "128", "out of range"),
    ("bbsiz", "-2", "out of range"),
    ("jrnbufs", "8", "out of range"),
    ("jrnbufs", "1025", "out of range"),
    ("jrnbufs", "64MB", "not an integer"),
    ("memlock", "2", "not documented memlock flags"),
    ("memlock", "96", "contradict"),
    ("MaxServerConn", "255", "out of range"),
    ("MaxServers", "-1", "out of range"),
    ("[ECP]ClientReconnectDuration", "9", "out of range"),
    ("[Startup]DBSizesAllowed", "8192,2048", "comma list"),
    ("[Startup]PasswordHash", "not a hash", "<hash>,<salt>"),
]


def _state(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir()}


@pytest.mark.parametrize(("name", "value", "why"), INVALID)
def test_invalid_value_rejected_and_nothing_written(
    name: str, value: str, why: str, tmp_path: Path
) -> None:
    path = copy_real(FULL, tmp_path)
    before = _state(tmp_path)
    tool = CpfTool(path, total_ram_mb=8192)
    with pytest.raises(ValidationError) as caught:
        tool.set({"jrnbufs": "128", name: value}, apply=True)
    message = str(caught.value)
    parameter = resolve(name).parameter
    assert parameter is not None
    assert parameter.qualified in message  # the parameter
    assert repr(normalize(parameter, value)) in message  # the value
    assert f"rule: {parameter.rule}" in message  # the rule
    assert why in message
    assert _state(tmp_path) == before  # no write, no backup, no temporary file


def test_rule_between_parameters_rejects_before_writing(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    before = _state(tmp_path)
    with pytest.raises(ValidationError, match=r"\[config\]locksiz='33554432'.*cannot exceed"):
        CpfTool(path).set({"gmheap": "16384", "locksiz": "33554432"}, apply=True)
    assert _state(tmp_path) == before
    assert consistency_problems({"gmheap": "0", "locksiz": "33554432"}) == []


def test_unknown_names_rejected_unless_allowed(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    before = _state(tmp_path)
    with pytest.raises(ValidationError, match="unknown parameter 'globls'"):
        CpfTool(path).set({"globls": "1"}, apply=True)
    with pytest.raises(ValidationError, match=r"unknown parameter \[config\]asyncwij"):
        CpfTool(path).set({"[config]asyncwij": "8"}, apply=True)
    assert _state(tmp_path) == before
    result = CpfTool(path, allow_unknown=True).set({"config.asyncwij": "8"}, apply=True)
    assert result.ok
    assert result.changes[0].reason == "not catalogued: written unchecked"


@pytest.mark.parametrize(
    ("name", "section", "key"),
    [
        ("globals", "config", "globals"),
        ("config.globals", "config", "globals"),
        ("[config]globals", "config", "globals"),
        ("maxserverconn", "config", "MaxServerConn"),
        ("[Map.USER]Global_X.Y", "Map.USER", "Global_X.Y"),
    ],
)
def test_name_spellings(name: str, section: str, key: str) -> None:
    resolved = resolve(name, allow_unknown=True)
    assert (resolved.section, resolved.key) == (section, key)


@pytest.mark.parametrize("bad", ["[config", "[]globals", "[config]", "config.", ".globals"])
def test_malformed_names(bad: str) -> None:
    with pytest.raises(ValidationError, match=r"^parameter name"):
        resolve(bad, allow_unknown=True)


def test_globals_single_value_means_8kb_and_python_values_normalised() -> None:
    globals_ = lookup("config", "globals")
    routines = lookup("config", "routines")
    assert globals_ is not None and routines is not None
    assert normalize(globals_, 512) == "0,0,512,0,0,0"
    assert normalize(globals_, [0, 0, 64, 0, 0, 0]) == "0,0,64,0,0,0"
    assert normalize(routines, 300) == "300"
    with pytest.raises(ValidationError, match="boolean"):
        normalize(routines, True)


def test_every_catalogued_default_is_valid_and_documented() -> None:
    for parameter in PARAMETERS:
        check(parameter, parameter.default)
        assert parameter.source.startswith("docs/sources/facts.md §3")
        assert parameter.rule and parameter.unit


def test_line_breaks_in_values_rejected(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    with pytest.raises(ValidationError, match="line break"):
        CpfTool(path, allow_unknown=True).set({"[config]x": "1\n[config]"}, apply=True)
    assert os.listdir(tmp_path) == ["iris.cpf"]
