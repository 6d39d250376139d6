"""Bounded numeric argparse types: every numeric option names itself and its range.

A bad value (``--count abc``, ``--rate 0``, ``--rate 1e9``) must read as one
line saying which option, the value and the allowed range (issue 15), the
ranges being the documented maximums of :mod:`pytest_iris._limits`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

#: seeds: what a 64-bit signed integer holds (random.Random takes any, reports need one)
MAX_SEED = 2**63 - 1


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def bounded_int(low: int, high: int, unit: str = "") -> Callable[[str], int]:
    """An argparse ``type`` for a whole number (of ``unit``) in ``low..high``, both included.

    argparse prefixes the message with ``argument --OPTION:``, so it names the option.
    """

    of = f" of {unit}" if unit else ""

    def convert(text: str) -> int:
        value: int | None
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{text!r}: a whole number{of} in {_fmt(low)}..{_fmt(high)}"
            )
        return value

    return convert


def bounded_float(low: float, high: float, *, above_low: bool = False) -> Callable[[str], float]:
    """An argparse ``type`` for a finite number in ``low..high`` (``above_low``: low excluded)."""
    if above_low:
        allowed = f"a number above {_fmt(low)}, at most {_fmt(high)}"
    else:
        allowed = f"a number in {_fmt(low)}..{_fmt(high)}"

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        ok = math.isfinite(value) and (value > low if above_low else value >= low)
        if not ok or value > high:
            raise argparse.ArgumentTypeError(f"{text!r}: {allowed}")
        return value

    return convert
