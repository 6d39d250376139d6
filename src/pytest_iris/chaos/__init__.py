"""Chaos scenarios: incidents injected into a sandboxed IRIS host, remediation checked.

A scenario file (YAML, :mod:`~pytest_iris.chaos.schema`) names the starting
host, the steady state, the faults over time, what the remediation must
achieve and the rollbacks; :mod:`~pytest_iris.chaos.runner` plays it against
a remediator (the built-in rule-based one by default) and records a journal.
Submodules load on demand.
"""

from __future__ import annotations
