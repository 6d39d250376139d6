"""The optional LLM-gated remediator, against the project's local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pytest_iris.chaos.builtins import SCENARIO_DIR
from pytest_iris.chaos.llm_remediator import LLMRemediator
from pytest_iris.chaos.loader import load_scenario
from pytest_iris.chaos.runner import ScenarioRunner
from pytest_iris.llm.generator import LLMGenerator
from pytest_iris.llm.server import IrisOpenAIServer


def _run(name: str, remediator: LLMRemediator, root: Path):  # type: ignore[no-untyped-def]
    scenario = load_scenario(SCENARIO_DIR / f"iris_chaos_{name}.yaml")
    return asyncio.run(ScenarioRunner(scenario, root=root).run_async(remediator))


def test_llm_classifier_gates_the_reference_rules(tmp_path: Path) -> None:
    with IrisOpenAIServer() as server:
        remediator = LLMRemediator(LLMGenerator([server.provider()]))
        journal = _run("lock_table_full", remediator, tmp_path)
        asked = len(server.received)
    assert journal.status == "passed", journal.failures
    assert [e.summary for e in journal.of_kind("command")] == [
        "cpf.set(changes={'config.locksiz': '33554432'})"
    ]
    assert asked >= 1  # the model was really asked, over HTTP


def test_llm_says_nothing_to_do_for_info_lines(tmp_path: Path) -> None:
    with IrisOpenAIServer() as server:
        remediator = LLMRemediator(LLMGenerator([server.provider()]))
        journal = _run("license_limit", remediator, tmp_path)
    assert journal.status == "passed", journal.failures
    assert journal.of_kind("command") == []
