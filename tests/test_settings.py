"""Settings: YAML file, environment variables, and errors that name the source."""

from __future__ import annotations

import re
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


# -- one door: every source, in order, under pytest ------------------------------------


def _seed_of_run(pytester: pytest.Pytester, *args: str) -> int:
    pytester.makepyfile(
        test_door="""
        def test_seed(iris_settings):
            print("SEED", iris_settings.seed)
        """
    )
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", "test_door.py", *args)
    result.assert_outcomes(passed=1)
    (seed,) = re.findall(r"SEED (\d+)", result.stdout.str())
    return int(seed)


def test_option_then_ini_then_environment_then_file_then_default(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTEST_IRIS_CONFIG", raising=False)
    monkeypatch.delenv("PYTEST_IRIS_SEED", raising=False)
    assert _seed_of_run(pytester) == 0
    pytester.makefile(".yaml", s="seed: 1\n")
    pytester.makeini("[pytest]\niris_config = s.yaml\n")
    assert _seed_of_run(pytester) == 1
    monkeypatch.setenv("PYTEST_IRIS_SEED", "2")
    assert _seed_of_run(pytester) == 2
    pytester.makeini("[pytest]\niris_config = s.yaml\niris_seed = 3\n")
    assert _seed_of_run(pytester) == 3
    assert _seed_of_run(pytester, "--iris-seed=4") == 4


def test_ini_settings_file_names_the_remediator_of_a_chaos_run(pytester: pytest.Pytester) -> None:
    """The ``chaos.remediator`` of a file named by ini ``iris_config`` is the one that runs."""
    scenario = Path(__file__).parents[1] / "src/pytest_iris/chaos/scenarios"
    pytester.makefile(
        ".yaml", iris_chaos_lock=(scenario / "iris_chaos_lock_table_full.yaml").read_text()
    )
    pytester.makepyfile(
        idle="""
        SEEN = []

        def remediate(message, context):
            return None
        """
    )
    pytester.makefile(".yaml", s="chaos:\n  remediator: idle:remediate\n")
    pytester.makeini("[pytest]\niris_config = s.yaml\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "iris_chaos_lock.yaml")
    result.assert_outcomes(failed=1)  # doing nothing does not remediate a full lock table
    result.stdout.fnmatch_lines(["*failed with remediator 'idle:remediate'*"])
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "iris_chaos_lock.yaml", "--iris-remediator=rules"
    )
    result.assert_outcomes(passed=1)


def test_a_bad_ini_value_is_named_with_its_source(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\niris_remediator = \niris_record_mode = sometimes\n")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*llm.record_mode*'sometimes'*from ini iris_record_mode*"])


def test_the_library_never_loads_settings_behind_the_callers_back() -> None:
    """Only the two doors (pytest's ``settings_for``, the CLI's entry) call ``load_settings``."""
    import ast

    src = Path(__file__).parents[1] / "src/pytest_iris"
    doors = {src / "settings.py", src / "plugins/core.py", src / "cli/__init__.py"}
    callers = []
    for path in sorted(src.rglob("*.py")):
        if path in doors:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name == "load_settings":
                    callers.append(f"{path.relative_to(src)}:{node.lineno}")
    assert callers == []


def test_without_settings_the_library_uses_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_iris.chaos.loader import load_scenario
    from pytest_iris.chaos.runner import ScenarioRunner
    from pytest_iris.settings import IrisSettings

    monkeypatch.setenv("PYTEST_IRIS_CHAOS__REMEDIATOR", "somewhere:else")
    scenario = load_scenario(
        Path(__file__).parents[1]
        / "src/pytest_iris/chaos/scenarios/iris_chaos_lock_table_full.yaml"
    )
    assert ScenarioRunner(scenario).remediator_spec == "rules"
    given = IrisSettings.defaults().model_copy(
        update={"chaos": IrisSettings.defaults().chaos.model_copy(update={"remediator": "x:y"})}
    )
    assert ScenarioRunner(scenario, settings=given).remediator_spec == "x:y"
    assert load_settings().chaos.remediator == "somewhere:else"  # the door still reads it


def test_one_default_per_shared_setting() -> None:
    from pytest_iris import defaults
    from pytest_iris.generation import LogStream
    from pytest_iris.sandbox.settings import SandboxSettings
    from pytest_iris.settings import IrisSettings

    settings = IrisSettings.defaults()
    assert settings.instance == defaults.INSTANCE and settings.seed == defaults.SEED
    assert SandboxSettings().total_ram_mb == defaults.TOTAL_RAM_MB
    stream = LogStream(1, count=100)
    assert stream.context.total_ram_mb == defaults.TOTAL_RAM_MB
    assert stream.context.instance == defaults.INSTANCE
    assert not any(
        "instance" in type(section).model_fields
        for section in (settings.tools, settings.logs, settings.sandbox)
    )


# -- seeds -----------------------------------------------------------------------------


def test_seed_for_one_function_for_every_purpose(pytester: pytest.Pytester) -> None:
    from pytest_iris.seeds import seed_for

    assert seed_for(7, "t.py::a", "sandbox") == seed_for(7, "t.py::a", "sandbox")
    assert len({seed_for(7, "t.py::a", p) for p in ("test", "sandbox", "endpoint")}) == 3
    assert seed_for(7, "t.py::a", "test") != seed_for(8, "t.py::a", "test")
    pytester.makepyfile(
        test_seeds="""
        from pytest_iris.seeds import seed_for

        def test_host(request, iris_sandbox, iris_seed, iris_endpoint_kwargs):
            nodeid = request.node.nodeid
            assert iris_sandbox.state().seed == seed_for(request.config, nodeid, "sandbox")
            assert iris_seed == seed_for(request.config, nodeid, "test")
            assert iris_endpoint_kwargs["seed"] == seed_for(request.config, nodeid, "endpoint")
            print("HOST", iris_sandbox.state().seed)
        """
    )
    runs = []
    for base in ("1", "2"):
        result = pytester.runpytest_subprocess(
            "-s", "-p", "no:cacheprovider", f"--iris-seed={base}", "test_seeds.py"
        )
        result.assert_outcomes(passed=1)
        runs.append(re.findall(r"HOST \d+", result.stdout.str()))
    assert runs[0] != runs[1]  # --iris-seed reaches the sandbox host as well as the logs


# -- the overridable configuration fixtures ---------------------------------------------


def test_config_fixtures_are_overridden_in_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def iris_host_kwargs(iris_host_kwargs):
            return {**iris_host_kwargs, "total_ram_mb": 65536, "instance": "PROD"}

        @pytest.fixture
        def iris_log_kwargs(iris_log_kwargs):
            return {**iris_log_kwargs, "count": 70}

        @pytest.fixture
        def iris_transport_kwargs(iris_transport_kwargs):
            return {**iris_transport_kwargs, "file_format": "jsonl"}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_host(iris_sandbox):
            assert iris_sandbox.state().total_ram_mb == 65536
            assert iris_sandbox.instance_name == "PROD"

        @pytest.mark.iris_host(memory_mb=4096)
        def test_marker_wins(iris_sandbox):
            assert iris_sandbox.state().total_ram_mb == 4096

        @pytest.mark.iris_log(count=30)
        def test_logs(iris_log, iris_log_factory):
            assert len(iris_log.text().splitlines()) == 30
            assert len(iris_log_factory().text().splitlines()) == 70

        def test_file_transport(iris_file_transport):
            assert iris_file_transport.path.name == "messages.jsonl"
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_settings_load_inside_a_sandboxed_command(tmp_path: Path) -> None:
    """A user's tool run by the sandbox (its environment) can still load settings."""
    from pytest_iris.host import command_environment
    from pytest_iris.settings import load_settings

    env = command_environment(tmp_path)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            if name.startswith("PYTEST_IRIS_"):
                patch.setenv(name, value)
        assert any(name.startswith("PYTEST_IRIS_SANDBOX") for name in env)
        settings = load_settings()
    assert settings.sandbox == load_settings().sandbox
