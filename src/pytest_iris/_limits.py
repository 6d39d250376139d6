"""Documented maximums for every count, rate, time and size a user can give pytest-iris.

A typo (``--count 1e12``, ``times=1e9``, ``users: 5000000``) must fail in
milliseconds with a line naming the value, where it came from and what is
allowed, never hang, fill a disk or crash. These bounds are invented: each
is far beyond what a real IRIS host or a sensible test needs (docs/limits.md's
"Limits" table lists them), and each is enforced where the value enters
(CLI, sequence parameters, scenario files).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

from pytest_iris.errors import ConfigError

#: ``pytest-iris generate --count`` / LogStream lines (about 1 GB of log)
MAX_LINES: Final = 10_000_000
#: noise lines per second of log time
MAX_RATE: Final = 1_000_000.0
#: longest text parameter that ends up in a log line
MAX_TEXT: Final = 200

#: sequence parameters: (lowest, highest) for each integer one; the rest 0..MAX_INT
SEQUENCE_INT_BOUNDS: Final[Mapping[str, tuple[int, int]]] = {
    "times": (1, 1_000),  # license limit messages
    "blocks": (0, 10_000_000),  # WIJ blocks recovered
    "freeze_seconds": (0, 86_400),  # backup freeze: at most a day
    "reductions": (0, 100),  # shared memory reductions at startup
    "seconds": (0, 86_400),  # write daemon hang before it is declared dead
    "signal": (1, 64),  # Linux signal numbers
}
#: an integer parameter without its own bound
MAX_INT: Final = 1_000_000
#: parameters whose default is None, by the type they take
_NONE_TYPES: Final[Mapping[str, type]] = {
    "blocks": int,
    "freeze_seconds": int,
    "database": str,
}
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def check_text(value: str, what: str) -> str:
    """A value that is written into a log line: no line breaks or control characters."""
    if _CONTROL.search(value):
        raise ConfigError(f"{what}={value!r}: line breaks and control characters are not allowed")
    if len(value) > MAX_TEXT:
        raise ConfigError(f"{what}: {len(value)} characters, at most {MAX_TEXT} allowed")
    return value


def _plain(number: float) -> str:
    """``10000000``, not ``1e+07``: a bound as a person would type it."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def check_number(
    value: Any, what: str, low: float, high: float, *, integer: bool = False
) -> float | int:
    """``value`` as a finite number within ``low..high``; else a ConfigError saying so."""
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{what}={value!r}: must be {kind} in {_plain(low)}..{_plain(high)}")
    if isinstance(value, float) and (not math.isfinite(value) or (integer and value % 1)):
        raise ConfigError(f"{what}={value!r}: must be {kind} in {_plain(low)}..{_plain(high)}")
    if not low <= value <= high:
        raise ConfigError(f"{what}={value!r}: allowed {_plain(low)}..{_plain(high)}")
    return int(value) if integer else value


def check_sequence_params(
    name: str, params: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """Sequence parameters with the type of their default and within their bounds."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        what = f"sequence {name!r}: {key}"
        default = defaults.get(key)
        if value is None and default is None:
            out[key] = None
            continue
        kind = type(default) if default is not None else _NONE_TYPES.get(key, str)
        if kind is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{what}={value!r}: must be true or false")
            out[key] = value
        elif kind is int:
            low, high = SEQUENCE_INT_BOUNDS.get(key, (0, MAX_INT))
            out[key] = check_number(value, what, low, high, integer=True)
        else:
            out[key] = check_text(str(value), what)
    return out


#: scenario users/connections on the fake host (each is a process and a socket in its state)
MAX_USERS: Final = 1_000
#: scenario time (``at``, ``within_s``): one week of host clock
MAX_SCENARIO_S: Final = 7 * 86_400.0
#: a host's RAM in MB: 64 TiB
MAX_RAM_MB: Final = 64 * 1024 * 1024
#: raw lines one fault may write
MAX_FAULT_LINES: Final = 10_000
#: kernel values: what a 64-bit ``unsigned long`` sysctl holds (``kernel.sem`` is 4 of them)
MAX_KERNEL: Final = 2**63 - 1


def check_kernel_value(key: str, value: int | str) -> int | str:
    """A value for ``key`` (``kernel.sem``: four integers; others one), none negative."""
    parts = str(value).split() if key == "kernel.sem" else [value]
    if key == "kernel.sem" and len(parts) != 4:
        raise ValueError(f"{key}={value!r}: four integers (semmsl semmns semopm semmni)")
    for part in parts:
        try:
            number = int(part)
        except (TypeError, ValueError):
            raise ValueError(f"{key}={value!r}: not an integer") from None
        if isinstance(part, bool) or not 0 <= number <= MAX_KERNEL:
            raise ValueError(f"{key}={value!r}: allowed 0..{MAX_KERNEL}")
    return value
