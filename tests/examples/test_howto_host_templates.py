"""How-to: one starting host built once and copied for each test that needs it."""

from pathlib import Path

from pytest_iris.chaos.loader import load_scenario
from pytest_iris.chaos.runner import ScenarioRunner
from pytest_iris.registry import Registry
from pytest_iris.sandbox import SandboxHost
from pytest_iris.sandbox.template import HostTemplates


def test_three_tests_one_build(tmp_path: Path) -> None:
    templates = HostTemplates(tmp_path / "templates")  # pytest gives one per worker
    spec = {"users": 2, "kernel": {"kernel.shmmax": 4 * 1024**3}}
    _built_in_place, second, third = (
        templates.provide(SandboxHost(tmp_path / f"test{n}" / "host", **spec)) for n in range(3)
    )
    assert (templates.builds, templates.copies) == (1, 2)  # the template: built at the 2nd

    with second:  # what one test does to its copy...
        second.disconnect()
        assert second.iris("stop", "IRIS", "quietly").status == 0
    with third:  # ...no other copy sees
        assert third.status() == "running"
        assert third.connections() == 2


def test_scenario_runs_on_copied_hosts(tmp_path: Path) -> None:
    templates = HostTemplates(tmp_path / "templates")
    registry = Registry.standalone()
    scenario = load_scenario(registry.scenario_paths["license_limit"])
    for n in range(3):
        runner = ScenarioRunner(
            scenario,
            registry=registry,
            root=tmp_path / f"run{n}",
            templates=templates,
        )
        assert runner.run().passed
    assert (templates.builds, templates.copies) == (1, 2)
