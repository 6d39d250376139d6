"""The CPF parameters a remediation touches: units, ranges, defaults, restart, source.

Every rule comes from ``docs/sources/facts.md`` §3 (InterSystems documentation
pages cited there); where the docs give no range the rule says so instead of
inventing one. :func:`check` rejects a value with a
:class:`~pytest_iris.errors.ValidationError` naming the parameter, the value
and the rule, before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pytest_iris.errors import ValidationError

_INT = re.compile(r"^-?\d+$")


@dataclass(frozen=True)
class Parameter:
    """One documented CPF parameter."""

    section: str
    name: str
    unit: str
    default: str
    rule: str
    restart_required: bool
    takes_effect: str
    source: str
    summary: str
    problem: Callable[[str], str | None]

    @property
    def qualified(self) -> str:
        """``[section]name``, the form error messages and changes use."""
        return f"[{self.section}]{self.name}"


# --- value checks: each returns what is wrong, or None ----------------------------------


def _ints(value: str) -> list[int] | None:
    parts = [p.strip() for p in value.split(",")]
    if not all(_INT.match(p) for p in parts):
        return None
    return [int(p) for p in parts]


def _int_range(low: int, high: int, *, also: tuple[int, ...] = ()) -> Callable[[str], str | None]:
    def problem(value: str) -> str | None:
        numbers = _ints(value)
        if numbers is None or len(numbers) != 1:
            return "not an integer"
        number = numbers[0]
        if number in also or low <= number <= high:
            return None
        return f"{number} is out of range"

    return problem


def _globals(value: str) -> str | None:
    numbers = _ints(value)
    if numbers is None or len(numbers) != 6:
        return "not six comma-separated integers"
    if any(n < 0 for n in numbers):
        return "a negative size"
    if numbers[0] or numbers[1]:
        return "positions 1-2 (2 KB, 4 KB) are no longer used by IRIS and must be 0"
    if sum(numbers) > 16 * 1024 * 1024:
        return "more than the 16 TB limit"
    return None


def _routines(value: str) -> str | None:
    numbers = _ints(value)
    if numbers is None or len(numbers) not in (1, 6):
        return "not one integer or six comma-separated integers"
    if any(n < 0 for n in numbers):
        return "a negative size"
    if sum(numbers) > 1023:
        return f"{sum(numbers)} MB in total is above the maximum of 1023 MB"
    return None


_MEMLOCK_FLAGS = {1: "LockSharedMemory", 8: "LockTextSegment", 32: "LargePagesDisabled",
                  64: "LargePagesRequired"}  # fmt: skip


def _memlock(value: str) -> str | None:
    numbers = _ints(value)
    if numbers is None or len(numbers) != 1 or numbers[0] < 0:
        return "not a non-negative integer"
    number = numbers[0]
    unknown = number & ~sum(_MEMLOCK_FLAGS)
    if unknown:
        return f"bits {unknown} are not documented memlock flags"
    if number & 32 and number & 64:
        return "LargePagesDisabled (32) and LargePagesRequired (64) contradict each other"
    return None


def _db_sizes(value: str) -> str | None:
    numbers = _ints(value)
    allowed = {4096, 8192, 16384, 32768, 65536}
    if numbers is None or not numbers or any(n not in allowed for n in numbers):
        return "not a comma list of 4096, 8192, 16384, 32768, 65536"
    return None


_PASSWORD_HASH = re.compile(r"^[0-9A-Fa-f]+,[0-9A-Za-z]+(,\d+,SHA512)?$")


def _password_hash(value: str) -> str | None:
    if value == "" or _PASSWORD_HASH.match(value):
        return None
    return "not <hash>,<salt>[,<iterations>,SHA512]"


_SOURCE = "docs/sources/facts.md"
_RESTART = "at the next instance start"

PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "config",
        "globals",
        "MB per block size (2,4,8,16,32,64 KB)",
        "0,0,0,0,0,0",
        "six comma-separated integers >= 0 (a single integer means MB of 8 KB buffers); "
        "positions 1-2 must be 0; total at most 16 TB; all 0 = 25% of physical memory",
        True,
        _RESTART,
        f"{_SOURCE} §3.1 (docs RACS_globals)",
        "database cache (global buffers)",
        _globals,
    ),
    Parameter(
        "config",
        "routines",
        "MB",
        "0",
        "one integer (automatic split) or six comma-separated integers (MB per 2..64 KB pool), "
        ">= 0 and at most 1023 MB in total; 0 = automatic; below 80 MB IRIS raises it to 80",
        True,
        _RESTART,
        f"{_SOURCE} §3.2 (docs RACS_routines)",
        "routine cache",
        _routines,
    ),
    Parameter(
        "config",
        "gmheap",
        "KB",
        "0",
        "0 (automatic: 3% of global buffers, 300 MB..2,097,000 KB) or 16384..1073741760 KB",
        True,
        _RESTART,
        f"{_SOURCE} §3.3 (docs RACS_gmheap)",
        "shared memory heap",
        _int_range(16_384, 1_073_741_760, also=(0,)),
    ),
    Parameter(
        "config",
        "locksiz",
        "bytes",
        "0",
        "0 (limited only by gmheap) or at least 65536 bytes; not more than gmheap",
        False,
        "immediately",
        f"{_SOURCE} §3.4 (docs RACS_locksiz)",
        "lock table size",
        _int_range(65_536, 2**63 - 1, also=(0,)),
    ),
    Parameter(
        "config",
        "bbsiz",
        "KB",
        "-1",
        "-1 (maximum) or 256..2147483647 KB",
        False,
        "for new processes",
        f"{_SOURCE} §3.5 (docs RACS_bbsiz)",
        "maximum memory per process",
        _int_range(256, 2_147_483_647, also=(-1,)),
    ),
    Parameter(
        "config",
        "jrnbufs",
        "MB",
        "64",
        "16..1024 MB (IRIS is a Unicode instance; 8-bit Caché allowed 8)",
        True,
        _RESTART,
        f"{_SOURCE} §3.6 (docs RCPF_jrnbufs, Caché-era page)",
        "journal buffers",
        _int_range(16, 1024),
    ),
    Parameter(
        "config",
        "memlock",
        "flags",
        "0",
        "sum of documented flags 1 LockSharedMemory, 8 LockTextSegment, 32 LargePagesDisabled, "
        "64 LargePagesRequired; 32 and 64 exclude each other",
        True,
        _RESTART,
        f"{_SOURCE} §3.8 (docs RACS_memlock)",
        "shared memory locking and huge pages",
        _memlock,
    ),
    Parameter(
        "config",
        "MaxServerConn",
        "ECP clients",
        "1",
        "0..254",
        True,
        _RESTART,
        f"{_SOURCE} §3.7 (docs RACS_MaxServerConn)",
        "ECP application servers that may connect",
        _int_range(0, 254),
    ),
    Parameter(
        "config",
        "MaxServers",
        "ECP servers",
        "2",
        "0..254 (range not in facts.md; taken to match MaxServerConn, real values 0..254)",
        True,
        _RESTART,
        f"{_SOURCE} §3.7 (real CPFs)",
        "ECP data servers this instance may connect to",
        _int_range(0, 254),
    ),
    Parameter(
        "ECP",
        "ClientReconnectDuration",
        "seconds",
        "1200",
        "10..65535",
        False,
        "not documented in facts.md",
        f"{_SOURCE} §3.7 (documatic Config.ECP)",
        "how long an ECP client keeps reconnecting",
        _int_range(10, 65_535),
    ),
    Parameter(
        "Startup",
        "DBSizesAllowed",
        "bytes",
        "8192",
        "comma list of block sizes from 4096, 8192, 16384, 32768, 65536",
        True,
        _RESTART,
        f"{_SOURCE} §3.9 (docs RCPF_DBSIZESALLOWED)",
        "database block sizes the instance accepts",
        _db_sizes,
    ),
    Parameter(
        "Startup",
        "PasswordHash",
        "text",
        "",
        "<hash>,<salt>[,<iterations>,SHA512] (hex hash, alphanumeric salt), or empty as in "
        "a running instance's iris.cpf",
        True,
        _RESTART,
        f"{_SOURCE} §3.10 (merge files)",
        "initial password hash of the predefined accounts",
        _password_hash,
    ),
)

_BY_NAME: dict[tuple[str, str], Parameter] = {
    (p.section.casefold(), p.name.casefold()): p for p in PARAMETERS
}


def lookup(section: str | None, name: str) -> Parameter | None:
    """The catalogued parameter ``name`` (in ``section``, or any section if ``None``)."""
    if section is not None:
        return _BY_NAME.get((section.casefold(), name.casefold()))
    matches = [p for p in PARAMETERS if p.name.casefold() == name.casefold()]
    return matches[0] if len(matches) == 1 else None


def normalize(parameter: Parameter | None, value: object) -> str:
    """A value as the CPF holds it: ints and sequences joined; ``globals=N`` -> ``0,0,N,0,0,0``."""
    if isinstance(value, bool):
        raise ValidationError(f"{_label(parameter)}: {value!r} is a boolean, not a CPF value")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, (list, tuple)):
        text = ",".join(str(item) for item in value)
    elif isinstance(value, str):
        text = value.strip(" \t")
    else:
        raise ValidationError(f"{_label(parameter)}: {value!r} is not a str, int or list")
    if parameter is not None and parameter.name == "globals" and _INT.match(text):
        text = f"0,0,{int(text)},0,0,0"
    return text


def check(parameter: Parameter, value: str) -> None:
    """Raise :class:`ValidationError` if ``value`` breaks ``parameter``'s rule."""
    problem = parameter.problem(value)
    if problem is not None:
        raise ValidationError(
            f"{parameter.qualified}={value!r} rejected: {problem} "
            f"(rule: {parameter.rule}; unit {parameter.unit}; source {parameter.source})"
        )


def consistency_problems(values: Mapping[str, str]) -> list[str]:
    """Rules between parameters, given ``[config]`` values by name."""
    out: list[str] = []
    locksiz, gmheap = values.get("locksiz"), values.get("gmheap")
    if (
        locksiz is not None
        and gmheap is not None
        and _INT.match(locksiz)
        and _INT.match(gmheap)
        and int(gmheap) > 0
        and int(locksiz) > int(gmheap) * 1024
    ):
        out.append(
            f"[config]locksiz={locksiz!r} rejected: the lock table ({int(locksiz)} bytes) is taken "
            f"from gmheap and cannot exceed it ({gmheap} KB = {int(gmheap) * 1024} bytes) "
            f"(source {_SOURCE} §3.4)"
        )
    return out


def _label(parameter: Parameter | None) -> str:
    return parameter.qualified if parameter is not None else "value"
