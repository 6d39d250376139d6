"""The far end of a ``transport: file`` scenario: JSON Lines files a remediator reads and writes.

The ``file`` transport the registry builds (the project's
:class:`~pytest_iris.transport.files.FileTransport`, ``jsonl`` format)
appends every new messages.log entry to ``transport/messages.jsonl``; the
remediator sits at the other end and sees what it reads back from that
file. Its commands are appended to ``transport/commands.jsonl`` and reach
the tools through the transport's ``consume()``, as a remediator running as
a separate process would.
"""

from __future__ import annotations

from pathlib import Path

from pytest_iris.errors import ScenarioError
from pytest_iris.models import IRISMessage, RemediationCommand
from pytest_iris.transport.envelope import MessageEnvelope


class FileFarEnd:
    """Reads the envelopes appended to ``messages``; appends commands to ``commands``."""

    def __init__(self, messages: Path, commands: Path | None) -> None:
        if commands is None:
            raise ScenarioError(
                f"the file transport writing {messages} has no commands_path to read commands from"
            )
        self.messages = messages
        self.commands = commands
        #: bytes of the messages file the remediator's side has read
        self.offset = 0

    def arrived(self) -> list[IRISMessage]:
        """The envelopes appended (whole lines) since the last call."""
        data = _read_from(self.messages, self.offset)
        end = data.rfind(b"\n") + 1
        self.offset += end
        return [
            MessageEnvelope.model_validate_json(line).message
            for line in data[:end].splitlines()
            if line.strip()
        ]

    def send(self, command: RemediationCommand) -> str:
        """Append the command to the commands file, as a remediator in another process would."""
        with open(self.commands, "a", encoding="utf-8") as handle:
            handle.write(command.model_dump_json() + "\n")
        return f"written to {self.commands}"


def _read_from(path: Path, offset: int) -> bytes:
    """The bytes after ``offset`` (a small local file: read in one call); none yet if absent."""
    if not path.exists():
        return b""
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read()
