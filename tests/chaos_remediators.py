"""Deliberately broken remediators: each must fail the scenarios that catch its mistake."""

from __future__ import annotations

from typing import Any

from pytest_iris.chaos.remediator import RemediationContext
from pytest_iris.chaos.rules import RuleBasedRemediator
from pytest_iris.models import IRISMessage, RemediationCommand


class ForceRestart(RuleBasedRemediator):
    """The reference rules, but every restart is forced, users connected or not."""

    def _restart(self, context: RemediationContext, *, force: bool = False) -> RemediationCommand:
        return super()._restart(context, force=True)


class GlobalsPastShmmax(RuleBasedRemediator):
    """Answers cache pressure by quadrupling globals, never looking at kernel.shmmax."""

    def _shared_memory(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        return []  # knows nothing about shared memory

    def _global_buffers(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        from pytest_iris.tools.cpf import CpfFile

        globals_mb = int(CpfFile.read(context.cpf_path).get("config", "globals").split(",")[2])
        return [
            self._cmd("cpf", "set", changes={"config.globals": f"0,0,{globals_mb * 4},0,0,0"}),
            self._restart(context),
        ]


def raises(message: IRISMessage, context: Any) -> None:
    """A remediator with a bug: it raises on any warning."""
    if message.severity >= 1:
        raise RuntimeError(f"cannot handle {message.text[:20]!r}")


async def async_lock_fixer(message: IRISMessage, context: Any) -> list[dict[str, Any]]:
    """A minimal async remediator answering dicts: doubles locksiz on a lock table alert."""
    if not message.text.startswith("LockTable Warning"):
        return []
    return [
        {
            "tool": "cpf",
            "action": "set",
            "parameters": {"changes": {"config.locksiz": "33554432"}},
            "dry_run": False,
        }
    ]


def nothing(message: IRISMessage, context: Any) -> None:
    """Never does anything."""


def restart_on_died(message: IRISMessage, context: Any) -> RemediationCommand | None:
    """Naive: a forced restart on every 'died' line, whatever instance it is about."""
    if "died" not in message.text:
        return None
    return RemediationCommand(
        tool="restart", action="restart", parameters={"force": True}, dry_run=False
    )


class RestartTwice:
    """Restarts on the first two severe lines it sees (one restart too many)."""

    def __init__(self) -> None:
        self.left = 2

    def __call__(self, message: IRISMessage, context: Any) -> RemediationCommand | None:
        if message.severity < 2 or not self.left:
            return None
        self.left -= 1
        return RemediationCommand(
            tool="restart", action="restart", parameters={"force": True}, dry_run=False
        )


# -- broken only on overlaps (found by the property-based search) ------------------


class GlobalsWhileRestartPending(RuleBasedRemediator):
    """The reference rules, but cache pressure that arrives while a restart it asked for is
    still pending (refused: users connected) is answered by quadrupling ``globals`` at once,
    without the kernel check ("the pending restart will pick it up"). Alone, each incident
    gets the reference's answer."""

    def _global_buffers(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        refused = [r for r in context.results if r.tool == "restart" and not r.ok]
        if not refused:
            return super()._global_buffers(message, context)
        plan = context.shared_memory_plan()
        return [
            self._cmd(
                "cpf", "set", changes={"config.globals": f"0,0,{plan.global_buffers_mb * 4},0,0,0"}
            )
        ]


class ForgetsSecondAlert(RuleBasedRemediator):
    """The reference rules for the first incident of a run; every later alert is forgotten
    (it keeps one "current incident" slot and never clears it). Alone, any incident is fixed."""

    def __call__(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        from pytest_iris.chaos.rules import classify

        incident = classify(message)
        if incident is None:
            return []
        current = context.memory.setdefault("current", incident)
        if current.removesuffix("_reduced") != incident.removesuffix("_reduced"):
            return []  # a second alert while the first is "current": forgotten
        return super().__call__(message, context)
