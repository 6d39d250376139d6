"""The ``transport: file`` path: messages and commands cross JSON Lines files.

Every new messages.log entry is published by the project's
:class:`~pytest_iris.transport.files.FileTransport` (``jsonl`` format) to
``transport/messages.jsonl``; the remediator sits at the other end and sees
what it reads back from that file. Its commands are appended to
``transport/commands.jsonl`` and reach the tools through the transport's
``consume()``, as a remediator running as a separate process would.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pytest_iris.chaos.delivery import Notify, TransportPath
from pytest_iris.errors import ScenarioError, TransportError
from pytest_iris.models import IRISMessage, RemediationCommand

if TYPE_CHECKING:
    from pytest_iris.transport.files import FileTransport


class FilePath(TransportPath):
    """Messages to ``DIR/messages.jsonl``, commands from ``DIR/commands.jsonl``."""

    kind = "file"

    def __init__(self, directory: Path, notify: Notify) -> None:
        super().__init__(notify)
        self.directory = directory
        #: bytes of messages.jsonl the remediator's side has read
        self.offset = 0
        self._transport: FileTransport | None = None

    @property
    def transport(self) -> FileTransport:
        if self._transport is None:
            raise ScenarioError("the file transport is not open")
        return self._transport

    async def open(self) -> None:
        from pytest_iris.transport.files import FileTransport

        self.directory.mkdir(parents=True, exist_ok=True)
        self._transport = FileTransport(
            self.directory / "messages.jsonl",
            format="jsonl",
            commands_path=self.directory / "commands.jsonl",
            poll_interval_s=0.005,
        )
        await self._transport.__aenter__()

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            if self._transport is not None:
                transport, self._transport = self._transport, None
                await transport.__aexit__(None, None, None)

    async def deliver(self, new: list[IRISMessage]) -> list[IRISMessage]:
        """Publish the new entries; return the envelopes appended to the file since last time."""
        from pytest_iris.transport.envelope import MessageEnvelope

        transport = self.transport
        self.published += len(new)
        for message in new:
            if not await transport.publish(message):
                raise TransportError(f"file transport refused a message for {transport.path}")
        data = _read_from(transport.path, self.offset)
        end = data.rfind(b"\n") + 1
        self.offset += end
        return [
            MessageEnvelope.model_validate_json(line).message
            for line in data[:end].splitlines()
            if line.strip()
        ]

    def send(self, command: RemediationCommand) -> str:
        """Append the command to commands.jsonl, as a remediator in another process would."""
        path = self.directory / "commands.jsonl"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(command.model_dump_json() + "\n")
        return f"written to {path}"


def _read_from(path: Path, offset: int) -> bytes:
    """The bytes after ``offset`` (a small local file: read in one call); none yet if absent."""
    if not path.exists():
        return b""
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read()
