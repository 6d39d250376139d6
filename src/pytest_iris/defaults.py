"""Defaults that several parts share, each stated once.

The settings models, the sandbox host, the log generator and the chaos
runner all take their default from here, so a fixture, a scenario and a
generated log agree on the host they describe without being told.
Importing this module costs nothing (no third-party import).
"""

from __future__ import annotations

from typing import Final

#: the instance name an IRIS installation gets unless told otherwise (``iris list``)
INSTANCE: Final = "IRIS"
#: physical memory of an emulated host, MB (meminfo ``MemTotal``; automatic
#: global buffers are 25 % of it). Invented: a common small-server size.
TOTAL_RAM_MB: Final = 16384
#: the run's base seed when neither option, ini, environment nor file sets one
SEED: Final = 0
