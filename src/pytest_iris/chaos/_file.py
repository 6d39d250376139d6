"""The ``transport: file`` path: messages and commands cross JSON Lines files.

Every new messages.log entry is published by the project's
:class:`~pytest_iris.transport.files.FileTransport` (``jsonl`` format) to
``transport/messages.jsonl``; the remediator sits at the other end and sees
what it reads back from that file. Its commands are appended to
``transport/commands.jsonl`` and reach the tools through the transport's
``consume()``, as a remediator running as a separate process would.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_iris.errors import TransportError
from pytest_iris.models import IRISMessage, RemediationCommand

if TYPE_CHECKING:
    from pytest_iris.chaos.runner import ScenarioRunner


@contextlib.asynccontextmanager
async def session(runner: ScenarioRunner) -> AsyncIterator[Any]:
    from pytest_iris.transport.files import FileTransport

    directory = runner.host.root.parent / "transport"
    directory.mkdir(parents=True, exist_ok=True)
    transport = FileTransport(
        directory / "messages.jsonl",
        format="jsonl",
        commands_path=directory / "commands.jsonl",
        poll_interval_s=0.005,
    )
    runner._file_state = {"offset": 0}
    async with transport:
        yield transport


async def deliver(runner: ScenarioRunner, new: list[IRISMessage]) -> list[IRISMessage]:
    """Publish the new entries; return the envelopes appended to the file since last time."""
    from pytest_iris.transport.envelope import MessageEnvelope

    transport, state = runner._transport, runner._file_state
    for message in new:
        if not await transport.publish(message):
            raise TransportError(f"file transport refused a message for {transport.path}")
    data = _read_from(transport.path, state["offset"])
    end = data.rfind(b"\n") + 1
    state["offset"] += end
    return [
        MessageEnvelope.model_validate_json(line).message
        for line in data[:end].splitlines()
        if line.strip()
    ]


def send_command(runner: ScenarioRunner, command: RemediationCommand) -> str:
    """Append the command to commands.jsonl, as a remediator in another process would."""
    path = runner._transport.commands_path
    _append_line(path, command.model_dump_json())
    return f"written to {path}"


def _read_from(path: Path, offset: int) -> bytes:
    """The bytes after ``offset`` (a small local file: read in one call); none yet if absent."""
    if not path.exists():
        return b""
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read()


def _append_line(path: Path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
