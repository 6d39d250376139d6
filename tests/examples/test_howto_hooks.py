"""How-to examples of docs/hooks.md: each one is included in that page."""

from pytest_iris.models import IRISMessage, Severity
from pytest_iris.registry import Registry


def test_a_plugin_adds_a_sequence_everywhere():
    class AcmePlugin:
        def pytest_iris_add_sequences(self):
            def overheat(context, *, celsius=95):
                return [
                    IRISMessage(
                        timestamp=context.start,
                        pid=1,
                        severity=Severity.SEVERE,
                        category="Acme.Event",
                        text=f"Widget overheated at {celsius} C",
                    )
                ]

            return {"acme_overheat": overheat}

    registry = Registry.standalone([AcmePlugin()])
    assert "acme_overheat" in registry.sequences and "lock_table" in registry.sequences
    assert "lock_table_full" in registry.scenario_paths
