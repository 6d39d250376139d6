"""Settings: YAML file, environment variables, and errors that name the source."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_iris.errors import ConfigError
from pytest_iris.settings import load_settings


def test_defaults_without_file_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_IRIS_CONFIG", raising=False)
    settings = load_settings()
    assert settings.tools.budget_s == 60.0


def test_yaml_file_then_environment_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "iris.yaml"
    config.write_text("instance: TEST\ntools:\n  budget_s: 5\n")
    monkeypatch.setenv("PYTEST_IRIS_INSTANCE", "FROMENV")
    settings = load_settings(config)
    assert settings.tools.budget_s == 5
    assert settings.instance == "FROMENV"
    monkeypatch.setenv("PYTEST_IRIS_CONFIG", str(config))
    assert load_settings().tools.budget_s == 5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("tools: [unclosed", "is not valid YAML"),
        ("- a list", "must hold a mapping"),
        ("tools:\n  budget_s: -1\n", "tools.budget_s: Input should be greater than 0"),
        ("nonsense: 1\n", "nonsense: Extra inputs are not permitted"),
    ],
)
def test_invalid_settings_name_file_and_field(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "iris.yaml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(config)
    assert str(config) in str(caught.value)


def test_invalid_environment_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_IRIS_CONFIG", raising=False)
    monkeypatch.setenv("PYTEST_IRIS_TOOLS__BUDGET_S", "soon")
    with pytest.raises(ConfigError, match=r"tools.budget_s.*environment \(PYTEST_IRIS_\*\)"):
        load_settings()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_plugin_validates_settings_at_start(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", iris="tools:\n  budget_s: 0\n")
    pytester.makepyfile(
        """
        def test_budget(iris_settings):
            assert iris_settings.tools.budget_s == 7
        """
    )
    result = pytester.runpytest_subprocess("--iris-config", "iris.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid pytest-iris settings*tools.budget_s*"])
    pytester.makefile(".yaml", iris="tools:\n  budget_s: 7\n")
    pytester.makeini("[pytest]\niris_config = iris.yaml\n")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
