"""What ``iris start`` prints, per IRIS version (``docs/sources/commands.md`` §3, facts.md §4.4).

A small table of the versions whose console output is known, keyed by the
``major.minor`` release. Each profile says where its lines come from:

* ``2020.4`` — commands.md §3.3 (``iris restart iris``, IRIS Community
  2020.x): ``Starting IRIS`` / ``Starting Control Process`` / ``Automatically
  configuring buffers`` / the one-line ``Allocated ...: ...`` / four licence
  lines; quietly (commands.md §1.5): the licence lines then ``Starting IRIS``.
  messages.log gets the one-line form too (facts.md §5.2, 2020.x/2021.1).
* ``2020.1`` — the log generator's oldest IRIS profile; console as 2020.4,
  versionid build number made up.
* ``2021.1`` — versionid of commands.md §1.1; the log's one-line
  allocation (facts.md §5.2); console as 2020.4 (no capture: ours).
* ``2022.1`` — commands.md §3.1 (the first real start): ``Starting IRIS`` /
  ``Using 'iris.cpf' configuration file`` / blank / ``Starting Control
  Process`` / the auto-globals line / ``Allocated NMB shared memory`` /
  ``G global buffers, R routine buffers`` / ``Creating a WIJ file ...`` /
  licence lines / blank / ``N alert(s) during startup ...``. Licensee line
  ``Local license key file not found.``; the capture's host had no key, so
  every start logs ``LMF Error: No valid license key. Local key file not found
  and LicenseID not defined.`` (severity 2, documented_messages.md §4) and
  counts it: ``1 alert(s)`` on a clean start, as captured.
* ``2023.3`` — commands.md §3.2: as 2022.1, licensee ``No local key
  detected, trying license server.``, the same ``1 alert(s)`` and LMF line
  (which LMF line 2023.3 writes when no license server answers is not in the
  sources: we use the no-key one).
* ``2024.1`` — facts.md §4.4 (``iris start IRIS quietly`` in a container):
  ``Starting Control Process`` / auto-globals / the two allocation lines /
  licence lines / ``Starting IRIS``; this is the quietly form of every
  2022.1+ profile.
* ``2023.1`` (the sandbox's default, versionid ``2023.1.0.235.1com``): no
  capture of its console exists; it uses the 2022.1+ lines above with the
  Community licensee of commands.md §1.5/§3.3. That combination is ours.

The licensee of a Community build (versionid ending in ``com``) is
``InterSystems IRIS Community`` (commands.md §1.5, §3.3); the copyright year
is the release year in every capture (2018, 2020, 2022, 2023, 2024).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pytest_iris.errors import SandboxError


@dataclass(frozen=True)
class VersionProfile:
    """One release's console and log forms."""

    release: str
    versionid: str
    #: licensee line of a non-Community build (the second licence line)
    licensee: str
    #: where the profile's lines come from
    source: str
    #: the capture's host had no license key: IRIS logs the LMF error (severity 2) and the
    #: start counts it as an alert (commands.md §3.1, §3.2: ``1 alert(s) during startup``)
    no_key: bool = False

    @property
    def log_version(self) -> str:
        """The log generator's profile for this release (:mod:`pytest_iris.log.versions`).

        The newest profile not after the release: 2020.4 logs as 2020.1, 2023.3 as
        2023.1. It decides the memory model (``memory.plan_shared_memory``) and
        the allocation's log form.
        """
        from pytest_iris.log.versions import VERSIONS

        def key(name: str) -> tuple[int, ...]:
            return tuple(int(part) for part in name.split("."))

        iris = [name for name in VERSIONS if not name.startswith("cache")]
        return max((n for n in iris if key(n) <= key(self.release)), key=key, default=iris[0])

    @property
    def one_line_allocation(self) -> bool:
        """The allocation in one line (2020.x/2021.1) rather than two (2022.1+)."""
        from pytest_iris.log.versions import profile as log_profile

        return log_profile(self.log_version).one_line_allocation

    @property
    def year(self) -> int:
        return int(self.release.split(".")[0])

    @property
    def community(self) -> bool:
        return self.versionid.endswith("com")

    def licence_lines(self) -> list[str]:
        """The four licence lines every captured start prints (commands.md §3.1-§3.3)."""
        who = "InterSystems IRIS Community" if self.community else self.licensee
        return [
            "This copy of InterSystems IRIS has been licensed for use exclusively by:",
            who,
            f"Copyright (c) 1986-{self.year} by InterSystems Corporation",
            "Any other use is a violation of your license agreement",
        ]


PROFILES: Final[dict[str, VersionProfile]] = {
    p.release: p
    for p in (
        # the build number 0.215.0 is made up: no 2020.1 versionid is in docs/sources
        VersionProfile("2020.1", "2020.1.0.215.0com", "InterSystems IRIS Community",
                       "console as 2020.4 (no capture: ours)"),
        VersionProfile("2020.4", "2020.4.0.524.0com", "InterSystems IRIS Community",
                       "commands.md §3.3, §1.5"),
        VersionProfile("2021.1", "2021.1.0.215.0", "InterSystems IRIS Community",
                       "versionid commands.md §1.1; console as 2020.4 (no capture: ours)"),
        VersionProfile("2022.1", "2022.1.0.140.0", "Local license key file not found.",
                       "commands.md §3.1", no_key=True),
        VersionProfile("2023.1", "2023.1.0.235.1com", "InterSystems IRIS Community",
                       "commands.md §3.1 lines with the Community licensee of §1.5 (ours)"),
        VersionProfile("2023.3", "2023.3.0.254.0", "No local key detected, trying license server.",
                       "commands.md §3.2", no_key=True),
        # the build number 267.2 is made up: no 2024.1 versionid is in docs/sources
        VersionProfile("2024.1", "2024.1.0.267.2", "ISC RE Build Community Key",
                       "facts.md §4.4"),
    )
}  # fmt: skip
DEFAULT_RELEASE: Final = "2023.1"


def profile(version: str) -> VersionProfile:
    """The profile for ``2022.1`` or a full versionid such as ``2022.1.0.140.0``."""
    release = ".".join(version.split(".")[:2])
    found = PROFILES.get(release)
    if found is None:
        allowed = ", ".join(PROFILES)
        raise SandboxError(
            f"IRIS version {version!r} is not known to the sandbox; use one of {allowed}"
        )
    return found


def versionid(version: str) -> str:
    """The ``versionid`` ``iris list`` shows: the given one if full, else the profile's."""
    known = profile(version)
    return version if version.count(".") >= 3 else known.versionid
