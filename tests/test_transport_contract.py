"""One contract, both transports: what any ``MessageTransport`` must do."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from pytest_iris.log.reader import LogEntry, read_log
from pytest_iris.models import IRISMessage, RemediationCommand, Severity
from pytest_iris.transport import FileTransport, HttpTransport, MessageTransport, MockEndpoint


@dataclass
class Rig:
    """A transport plus the two ends a test needs: what arrived, and a way to send commands."""

    transport: FileTransport | HttpTransport
    arrived: Callable[[], list[IRISMessage]]
    send_command: Callable[[RemediationCommand], None]


@pytest.fixture(params=["file", "http"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    if request.param == "file":
        commands = tmp_path / "commands.jsonl"
        log = tmp_path / "messages.log"

        def arrived() -> list[IRISMessage]:
            if not log.exists():
                return []
            return [e.message for e in read_log(log) if isinstance(e, LogEntry)]

        def send(command: RemediationCommand) -> None:
            with commands.open("a") as handle:
                handle.write(command.model_dump_json() + "\n")

        with FileTransport(log, commands_path=commands, poll_interval_s=0.01) as transport:
            yield Rig(transport, arrived, send)
    else:
        with MockEndpoint(seed=1) as endpoint:
            transport = HttpTransport(
                endpoint.url, outbox_dir=tmp_path / "outbox", poll_interval_s=0.01
            )
            yield Rig(transport, lambda: endpoint.received, endpoint.queue_command)
            transport.close()


def message(i: int) -> IRISMessage:
    return IRISMessage(
        timestamp=datetime(2026, 4, 1, 0, 0, i),
        pid=100 + i,
        severity=Severity.WARNING,
        category="Utility.Event",
        text=f"contract {i}",
        continuation=("  indented detail",) if i % 2 else (),
    )


def test_follows_the_protocol(rig: Rig) -> None:
    assert isinstance(rig.transport, MessageTransport)


def test_published_messages_arrive_whole_and_in_order(rig: Rig) -> None:
    async def run() -> list[bool]:
        results = [await rig.transport.publish(message(i)) for i in range(6)]
        await rig.transport.aclose()
        return results

    assert asyncio.run(run()) == [True] * 6
    assert rig.arrived() == [message(i) for i in range(6)]


def test_commands_are_consumed_in_order(rig: Rig) -> None:
    sent = [RemediationCommand(tool="cpf", action=f"step-{i}") for i in range(3)]
    for command in sent:
        rig.send_command(command)

    async def run() -> list[RemediationCommand]:
        stream = rig.transport.consume()
        got = [await asyncio.wait_for(anext(stream), 5) for _ in sent]
        await stream.aclose()
        await rig.transport.aclose()
        return got

    assert asyncio.run(run()) == sent
