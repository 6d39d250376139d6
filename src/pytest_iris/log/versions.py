"""Version profiles: what differs in the log between Caché and each IRIS release.

Only differences the real material shows are modelled (sources cited per
field); everything else is the same in every profile. The default is the
newest profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pytest_iris.errors import ConfigError


@dataclass(frozen=True)
class VersionProfile:
    """What one product version writes differently."""

    name: str
    #: ``[Category]`` on every line: IRIS 2020.1 and later. Caché (cconsole.log)
    #: and IRIS before 2020 write none (tests/data/messages_real.log lines
    #: 84-97, Caché 2017.2.2; lines 137-138, IRIS 2019).
    categories: bool
    #: The log file's name in ``<install>/mgr``: ``cconsole.log`` for Caché
    #: (docs/sources/sources.md, lines 84-97), ``messages.log`` for IRIS.
    log_name: str
    #: ``Allocated ...`` as one line with two parts (2021.1 and before:
    #: messages_real.log lines 23, 29-30, 107, 133) or as the total plus a
    #: seven-part breakdown line (2022.1 and later: lines 1-2, 28-29, 38-39).
    one_line_allocation: bool


PROFILES: Final = {
    p.name: p
    for p in (
        VersionProfile("cache-2017", False, "cconsole.log", True),
        VersionProfile("2020.1", True, "messages.log", True),
        VersionProfile("2021.1", True, "messages.log", True),
        VersionProfile("2022.1", True, "messages.log", False),
        VersionProfile("2023.1", True, "messages.log", False),
        VersionProfile("2024.1", True, "messages.log", False),
    )
}
#: Every profile name, oldest first.
VERSIONS: Final = tuple(PROFILES)
#: The newest profile: what a log is unless a version is asked for.
DEFAULT_VERSION: Final = VERSIONS[-1]


def profile(version: str | None = None) -> VersionProfile:
    """The profile named ``version`` (the newest for ``None``); ``ConfigError`` names the allowed."""
    if version is None:
        return PROFILES[DEFAULT_VERSION]
    found = PROFILES.get(version)
    if found is None:
        raise ConfigError(
            f"unknown IRIS version {version!r}; allowed: {', '.join(VERSIONS)} "
            f"(default {DEFAULT_VERSION})"
        )
    return found
