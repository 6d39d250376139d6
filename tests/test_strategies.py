"""pytest_iris.strategies: every value drawn is valid, loads like a file, and covers its space."""

from __future__ import annotations

import subprocess
import sys
import tempfile

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from pytest_iris import strategies
from pytest_iris._limits import MAX_SCENARIO_S, check_kernel_value
from pytest_iris.chaos.explore import scenario_yaml
from pytest_iris.chaos.loader import load_scenario_text
from pytest_iris.chaos.schema import Expect, Fault, HostSpec, Scenario, SteadyState
from pytest_iris.chaos.validate import fault_problems, scenario_problems
from pytest_iris.registry import Registry

REGISTRY = Registry.standalone()
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_import_without_hypothesis_names_the_extra() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'hypothesis' or name.startswith('hypothesis.'):\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import pytest_iris.strategies\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode != 0
    assert "pip install 'pytest-iris[hypothesis]'" in done.stderr


@FAST
@given(strategies.scenarios(max_faults=4))
def test_generated_scenarios_pass_the_file_validation(scenario: Scenario) -> None:
    assert scenario_problems(scenario, REGISTRY) == []
    text = scenario_yaml(scenario)
    assert load_scenario_text(text, "generated.yaml", registry=REGISTRY) == scenario
    assert "invariants" in scenario.tags
    assert scenario.expect.within_s <= MAX_SCENARIO_S


@FAST
@given(strategies.faults())
def test_every_fault_is_valid_with_registered_names(fault: Fault) -> None:
    assert Fault.model_validate(fault.model_dump()) == fault
    assert fault_problems(fault, ("faults", 0), REGISTRY.sequences) == []
    for key, value in (fault.kernel or {}).items():
        check_kernel_value(key, value)


@pytest.mark.parametrize("kind", strategies.ALL_KINDS)
def test_faults_draws_every_kind(kind: str) -> None:
    fault = find(strategies.faults(), lambda f: f.action == kind, settings=settings(database=None))
    assert fault.action == kind


def test_faults_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match=r"unknown kind\(s\) \['nope'\]"):
        strategies.faults(kinds=("nope",))


@FAST
@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(st.just(n), strategies.schedules(max_faults=n, within_s=120))
    )
)
def test_schedules_are_time_ordered_and_bounded(drawn: tuple[int, list[Fault]]) -> None:
    max_faults, schedule = drawn
    assert 1 <= len(schedule) <= max_faults
    times = [f.at for f in schedule]
    assert times == sorted(times)
    assert all(0 <= t <= 120 and t == int(t) for t in times)


def test_schedules_overlap_on_one_clock() -> None:
    same_time = find(
        strategies.schedules(max_faults=4, within_s=600),
        lambda s: len(s) >= 2 and s[0].at == s[1].at,
        settings=settings(database=None),
    )
    assert same_time[0].at == same_time[1].at
    # a sequence still running (lock_table lasts minutes) when the next fault comes
    inside = find(
        strategies.schedules(max_faults=4, within_s=600),
        lambda s: len(s) >= 2 and s[0].sequence == "lock_table" and 0 < s[1].at - s[0].at < 300,
        settings=settings(database=None, max_examples=2000),
    )
    assert inside[0].sequence == "lock_table"


def test_schedules_refuse_bad_bounds() -> None:
    with pytest.raises(ValueError, match="max_faults=0"):
        strategies.schedules(max_faults=0)
    with pytest.raises(ValueError, match="within_s=-1"):
        strategies.schedules(within_s=-1)


@FAST
@given(strategies.hosts())
def test_hosts_start_their_instance(host: HostSpec) -> None:
    """The kernel a host starts with holds what its CPF asks for (the steady state holds)."""
    need = strategies.plan_bytes(host.cpf, host.total_ram_mb or 16384)
    shmmax = host.kernel.get("kernel.shmmax")
    assert shmmax is None or int(shmmax) >= need
    shmall = host.kernel.get("kernel.shmall")
    assert shmall is None or int(shmall) * 4096 >= need
    assert host.instance == "running"


def test_hosts_cover_versions_users_and_huge_pages() -> None:
    for version in ("2020.4", "2022.1", "2024.1"):
        found = find(strategies.hosts(), lambda h, v=version: h.version == v)
        assert found.version == version
    assert find(strategies.hosts(), lambda h: h.users >= 3).users >= 3
    assert find(strategies.hosts(), lambda h: h.kernel.get("vm.nr_hugepages", 0) > 0)


@settings(max_examples=4, deadline=None, database=None)
@given(strategies.hosts())
def test_a_drawn_host_builds_running(host: HostSpec) -> None:
    from pytest_iris.sandbox import SandboxHost

    with (
        tempfile.TemporaryDirectory(prefix="iris-host-") as tmp,
        SandboxHost(
            tmp,
            running=True,
            cpf={s: dict(v) for s, v in host.cpf.items()},
            kernel={str(k): v for k, v in host.kernel.items()},
            users=host.users,
            total_ram_mb=host.total_ram_mb or 16384,
            version=host.version or "2023.1",
        ) as sandbox,
    ):
        assert sandbox.status() == "running"
        assert sandbox.connections() == host.users


def test_a_failing_example_prints_the_scenario_as_values() -> None:
    """Hypothesis' "Failing test case" shows each field's value, a Scenario(...) the user can
    paste; a lambda builder printed its own body (name=name, within_s=min(within_s + ...))."""

    @settings(max_examples=5, database=None, derandomize=True)
    @given(scenario=strategies.scenarios(max_faults=1, within_s=60, restore_s=240, name="mine"))
    def fails(scenario: Scenario) -> None:
        raise AssertionError("every scenario")

    with pytest.raises(AssertionError) as raised:
        fails()
    report = "\n".join(getattr(raised.value, "__notes__", []))
    assert "Failing test case" in report or "Falsifying example" in report
    assert "scenario=Scenario(" in report
    assert "name='mine'" in report and "tags=['generated', 'invariants']" in report
    assert "expect=Expect(within_s=300.0" in report
    assert "name=name" not in report and "restore_s" not in report
    # the printed expression builds the same scenario
    printed = report.split("scenario=", 1)[1].rsplit(",\n)", 1)[0]
    namespace = {cls.__name__: cls for cls in (Scenario, HostSpec, Fault, Expect, SteadyState)}
    rebuilt = eval(printed, namespace)  # our own report, checked above
    assert isinstance(rebuilt, Scenario) and rebuilt.name == "mine"
    assert rebuilt.expect.within_s == 300.0


def test_a_failing_example_prints_faults_of_a_narrowed_strategy_as_values() -> None:
    """With faults= narrowed (faults(kinds=...)), the printed Scenario still evals back: the
    schedule is a list of Fault values, not build([(0, (lambda item: ...)(Fault(sequence=name,
    ...)))]), which named a local function and a lambda's free variable."""

    @settings(max_examples=5, database=None, derandomize=True)
    @given(
        scenario=strategies.scenarios(
            max_faults=1, faults=strategies.faults(kinds=["sequence"], sequences=["lock_table"])
        )
    )
    def fails(scenario: Scenario) -> None:
        raise AssertionError("every scenario")

    with pytest.raises(AssertionError) as raised:
        fails()
    report = "\n".join(getattr(raised.value, "__notes__", []))
    assert "lambda" not in report and "build(" not in report
    report = report.replace("  # or any other generated value", "")
    printed = report.split("scenario=", 1)[1].rsplit(",\n)", 1)[0]
    namespace = {cls.__name__: cls for cls in (Scenario, HostSpec, Fault, Expect, SteadyState)}
    rebuilt = eval(printed, namespace)  # our own report, checked above
    assert [fault.sequence for fault in rebuilt.faults] == ["lock_table"]


def test_the_example_to_copy_leaves_out_the_explain_phase() -> None:
    """docs/property-chaos.md's test to copy: a failure is a sandbox run per rerun, and the
    explain phase reruns it under a tracer many times; with it, one failure of a narrowed
    downstream copy took 308 s, without it 17 s (user trial). It reports one bug, not each."""
    import importlib.util
    from pathlib import Path

    from hypothesis import Phase

    path = Path(__file__).parent / "examples" / "test_howto_property_chaos.py"
    spec = importlib.util.spec_from_file_location("howto_property_chaos_example", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    chosen = example.test_my_remediator_keeps_the_invariants._hypothesis_internal_use_settings
    assert Phase.explain not in chosen.phases and Phase.shrink in chosen.phases
    assert chosen.report_multiple_bugs is False
