"""The optional LLM-gated remediator, against the project's local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pytest_iris.builtin_plugin import SCENARIO_DIR
from pytest_iris.chaos.llm_remediator import LLMRemediator
from pytest_iris.chaos.loader import load_scenario, load_scenario_text
from pytest_iris.chaos.runner import ScenarioRunner
from pytest_iris.llm.generator import LLMGenerator
from pytest_iris.llm.providers import Provider
from pytest_iris.llm.server import IrisOpenAIServer


def _run(name: str, remediator: LLMRemediator, root: Path):  # type: ignore[no-untyped-def]
    scenario = load_scenario(SCENARIO_DIR / f"iris_chaos_{name}.yaml")
    return asyncio.run(ScenarioRunner(scenario, root=root).run_async(remediator))


def test_llm_classifier_gates_the_reference_rules(tmp_path: Path) -> None:
    with IrisOpenAIServer() as server, LLMGenerator([server.provider()]) as generator:
        journal = _run("lock_table_full", LLMRemediator(generator), tmp_path)
        asked = len(server.received)
    assert journal.status == "passed", journal.failures
    assert [e.summary for e in journal.of_kind("command")] == [
        "cpf.set(changes={'config.locksiz': '33554432'})"
    ]
    assert asked >= 1  # the model was really asked, over HTTP


def test_llm_says_nothing_to_do_for_info_lines(tmp_path: Path) -> None:
    with IrisOpenAIServer() as server, LLMGenerator([server.provider()]) as generator:
        journal = _run("license_limit", LLMRemediator(generator), tmp_path)
    assert journal.status == "passed", journal.failures
    assert journal.of_kind("command") == []


@pytest.fixture
def iris_llm_providers(iris_openai_server: IrisOpenAIServer) -> tuple[Provider, ...]:
    """Recordings come from the project's local server (see cassettes/)."""
    return (iris_openai_server.provider(),)


LLM_SCENARIO = """
name: llm_lock_table
host:
  cpf: {config: {locksiz: 16777216}}
faults:
  - at: 5
    llm: {incident: lock_table, count: 3}
expect:
  within_s: 30
  tool_calls: [{tool: cpf, action: set, status: success}]
  cpf: {config: {locksiz: {min: 33554432}}}
"""


def test_llm_fault_writes_recorded_lines_at_host_time(
    iris_llm: LLMGenerator, tmp_path: Path
) -> None:
    scenario = load_scenario_text(LLM_SCENARIO, "llm_lock_table.yaml")
    journal = ScenarioRunner(scenario, root=tmp_path, llm=iris_llm).run()
    assert journal.status == "passed", journal.failures
    messages = journal.of_kind("message")
    assert len(messages) == 3
    assert messages[0].t == pytest.approx(5.001)  # moved from the recording to the host clock
    assert any("lock" in m.summary.lower() for m in messages)
