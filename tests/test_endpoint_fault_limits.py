"""Endpoint fault values have documented maximums and name the keyword when wrong.

User trial: ``iris_endpoint_faults(latency=1e9)`` and ``down_for=float("nan")`` were
accepted (a billion-second delay; NaN compares false with every bound), and
``down_for="soon"`` failed with ``could not convert string to float: 'soon'``,
naming neither the keyword nor what it takes.
"""

from __future__ import annotations

import math

import pytest

from pytest_iris.errors import ConfigError
from pytest_iris.transport.endpoint.faults import MAX_COUNT, MAX_DOWN_S, MAX_LATENCY_S, Faults


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"latency": 1e9}, f"latency=1000000000.0: allowed 0..{MAX_LATENCY_S:g} seconds"),
        ({"latency": math.nan}, f"latency=nan: allowed 0..{MAX_LATENCY_S:g} seconds"),
        ({"down_for": math.inf}, f"down_for=inf: allowed 0..{MAX_DOWN_S:g} seconds"),
        ({"down_for": "soon"}, "down_for='soon': expected a number of seconds"),
        ({"fail_next": 10**12}, f"fail_next=1000000000000: allowed 0..{MAX_COUNT} requests"),
        ({"drop_next": -1}, f"drop_next=-1: allowed 0..{MAX_COUNT} requests"),
        ({"fail_next": "2x"}, "fail_next='2x': expected a whole number of requests"),
        ({"fail_next": 1.5}, "fail_next=1.5: expected a whole number of requests"),
        ({"status": "bad"}, "status='bad': expected an HTTP error status (400-599)"),
        ({"fail_fraction": "most"}, "fail_fraction='most': expected a number between 0 and 1"),
    ],
)
def test_a_bad_fault_value_names_its_keyword(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Faults().configure(**options)
    assert str(caught.value) == message


def test_values_at_the_bounds_are_accepted() -> None:
    faults = Faults()
    faults.configure(latency=MAX_LATENCY_S, fail_next=MAX_COUNT, drop_next=0, down_for=0)
    faults.configure(latency="0.5", fail_next="3")  # ini-style strings still convert
