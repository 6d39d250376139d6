"""How-to examples of docs/settings.md: each one is included in that page."""

from pathlib import Path

import pytest

from pytest_iris.settings import IrisSettings, load_settings


def test_settings():
    Path("iris.yaml").write_text("seed: 7\ninstance: PROD\ntools:\n  budget_s: 30\n")
    settings = load_settings("iris.yaml")
    assert (settings.seed, settings.instance, settings.tools.budget_s) == (7, "PROD", 30)
    assert IrisSettings.defaults().tools.budget_s == 60  # what the library uses alone


@pytest.fixture
def iris_host_kwargs(iris_host_kwargs):
    return {**iris_host_kwargs, "total_ram_mb": 65536, "instance": "PROD"}


@pytest.fixture
def iris_log_kwargs(iris_log_kwargs):
    return {**iris_log_kwargs, "count": 80}


def test_a_bigger_host(iris_sandbox):
    assert iris_sandbox.state().total_ram_mb == 65536
    assert iris_sandbox.instance_name == "PROD"


@pytest.mark.iris_host(memory_mb=4096)
def test_the_marker_wins(iris_sandbox):
    assert iris_sandbox.state().total_ram_mb == 4096


def test_a_shorter_log(iris_log):
    assert len(iris_log.text().splitlines()) == 80
