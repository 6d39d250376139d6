"""Which instance was running when: the runner's record of control processes on the host clock.

A fault is aimed at the instance that runs at its scheduled time. When the
remediation is still busy at that time (a restart takes host seconds), the
fault comes due late; this record says whether the instance it was aimed at
is still the one running, so that a dead instance's daemon is never killed
or written about under a new instance's pid.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass
class InstanceTimeline:
    """``(clock, control pid)`` whenever it changed; ``None`` = down or being restarted."""

    changes: list[tuple[float, int | None]] = field(default_factory=list)

    def observe(self, clock: float, control: int | None) -> None:
        """The control process seen at ``clock`` (recorded only when it changed)."""
        if not self.changes or self.changes[-1][1] != control:
            self.changes.append((clock, control))

    def at(self, clock: float) -> int | None:
        """The control process running at ``clock`` (the last one seen at or before it)."""
        index = bisect.bisect_right([t for t, _ in self.changes], clock) - 1
        return self.changes[index][1] if index >= 0 else None

    def restarts(self) -> int:
        """How many times a new control process appeared after the first one seen."""
        pids = [pid for _, pid in self.changes if pid is not None]
        return max(0, len(pids) - 1)

    def gone_since(self, clock: float, now: int | None, *, t0: float = 0.0) -> str | None:
        """Why the instance running at ``clock`` no longer runs (None when it still does).

        Times in the sentence are seconds from ``t0`` (the scenario start).
        """
        then = self.at(clock)
        if then == now:
            return None
        when = next((t for t, pid in self.changes if t > clock and pid != then), None)
        at = f" at t={when - t0:.1f}s" if when is not None else ""
        if then is None:
            since = f" (control process {now} runs{at.replace(' at ', ' since ')})" if now else ""
            return f"the instance was down or being restarted then{since}"
        how = "stopped" if now is None else f"restarted (control process now {now})"
        return f"its instance (control process {then}) was {how}{at}"
