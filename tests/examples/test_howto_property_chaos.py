"""How-to examples of docs/property_chaos.md: each one is included in that page."""

from hypothesis import HealthCheck, Phase, given, settings

from pytest_iris.chaos.rules import RuleBasedRemediator
from pytest_iris.strategies import scenarios
from pytest_iris.testing import assert_invariants


class MyRemediator(RuleBasedRemediator):
    """Your remediator here (this one is the reference rules, which keep every invariant)."""


@settings(
    max_examples=3,
    deadline=None,  # 50-100 in CI; a run is a sandbox host
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # no explain phase (it reruns a failure many times, a sandbox run each) and one bug shrunk
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    report_multiple_bugs=False,
)
@given(scenario=scenarios(max_faults=2))
def test_my_remediator_keeps_the_invariants(iris_chaos, scenario):
    result = iris_chaos.run(MyRemediator(), scenario)
    assert_invariants(result)
