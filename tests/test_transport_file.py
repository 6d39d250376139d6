"""File transport: whole entries under concurrent publishers, commands from a growing file."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from pytest_iris.errors import TransportError
from pytest_iris.log.reader import LogEntry, read_log
from pytest_iris.models import IRISMessage, RemediationCommand, Severity
from pytest_iris.transport import FileTransport, MessageEnvelope, MessageTransport


def message(writer: str, i: int, pad: int = 0) -> IRISMessage:
    return IRISMessage(
        timestamp=datetime(2026, 8, 8, 8, 8, 8, (i % 1000) * 1000),
        pid=5000 + i,
        severity=Severity(i % 4),
        category="Generic.Event",
        text=f"{writer} record {i} " + "x" * pad,
        continuation=(f"  detail of {writer} {i}", "  " + "y" * (pad // 2)),
    )


def test_iris_lines_round_trip_through_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    sent = [message("a", i) for i in range(20)]

    async def run() -> list[bool]:
        async with FileTransport(path) as transport:
            assert isinstance(transport, MessageTransport)
            return [await transport.publish(m) for m in sent]

    assert asyncio.run(run()) == [True] * 20
    entries = list(read_log(path))
    assert all(isinstance(e, LogEntry) for e in entries)
    assert [e.message for e in entries if isinstance(e, LogEntry)] == sent


def test_jsonl_lines_are_envelopes(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    with FileTransport(path, format="jsonl") as transport:
        for i in range(3):
            transport.write(message("j", i))
    envelopes = [
        MessageEnvelope.model_validate_json(line) for line in path.read_text().splitlines()
    ]
    assert [e.message for e in envelopes] == [message("j", i) for i in range(3)]
    assert len({e.id for e in envelopes}) == 3


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from pytest_iris.log.model import IRISMessage
    from pytest_iris.transport import FileTransport

    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    transport = FileTransport(path, format=sys.argv[4])
    for i in range(count):
        pad = (i * 7919) % 30000
        transport.write(IRISMessage(
            timestamp=datetime(2026, 8, 8, 8, 8, 8, (i % 1000) * 1000), pid=5000 + i,
            severity=i % 4, category="Generic.Event", text=f"{name} record {i} " + "x" * pad,
            continuation=(f"  detail of {name} {i}", "  " + "y" * (pad // 2))))
    """
)


@pytest.mark.parametrize("fmt", ["iris", "jsonl"])
def test_concurrent_processes_threads_and_tasks_never_interleave(tmp_path: Path, fmt: str) -> None:
    """3 processes, 3 threads and 20 asyncio tasks append large multi-line entries at once."""
    path = tmp_path / "messages.out"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    per_writer = 150
    children = [
        subprocess.Popen([sys.executable, str(script), str(path), f"p{n}", str(per_writer), fmt])
        for n in range(3)
    ]
    transport = FileTransport(path, format=fmt)  # type: ignore[arg-type]

    def thread_writer(name: str) -> None:
        for i in range(per_writer):
            transport.write(message(name, i, pad=(i * 7919) % 30000))

    async def task_writer(name: str) -> None:
        for i in range(per_writer // 10):
            await transport.publish(message(name, i, pad=(i * 104729) % 30000))
            await asyncio.sleep(0)

    threads = [threading.Thread(target=thread_writer, args=(f"t{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()

    async def tasks() -> None:
        await asyncio.wait_for(asyncio.gather(*(task_writer(f"a{n}") for n in range(20))), 120)

    asyncio.run(tasks())
    for thread in threads:
        thread.join(120)
    assert [child.wait(120) for child in children] == [0, 0, 0]
    transport.close()

    if fmt == "iris":
        items = list(read_log(path))
        problems = [i for i in items if not isinstance(i, LogEntry)]
        assert not problems, problems[:3]
        messages = [i.message for i in items if isinstance(i, LogEntry)]
    else:
        lines = path.read_text().splitlines()
        messages = [MessageEnvelope.model_validate_json(line).message for line in lines]
    for m in messages:  # each entry whole: its continuation belongs to its own header
        writer, _, index = m.text.split(" ")[:3]
        assert m.continuation[0] == f"  detail of {writer} {index}"
    counts = Counter(m.text.split(" ")[0] for m in messages)
    assert counts == Counter(
        {
            **{f"p{n}": per_writer for n in range(3)},
            **{f"t{n}": per_writer for n in range(3)},
            **{f"a{n}": per_writer // 10 for n in range(20)},
        }
    )


def command_line(action: str) -> str:
    return RemediationCommand(tool="kernel", action=action).model_dump_json() + "\n"


def test_consume_follows_a_growing_file(tmp_path: Path) -> None:
    commands = tmp_path / "commands.jsonl"

    async def run() -> list[str]:
        transport = FileTransport(tmp_path / "m.log", commands_path=commands, poll_interval_s=0.01)
        stream = transport.consume()
        seen: list[str] = []

        async def feed() -> None:
            await asyncio.sleep(0.05)  # the file does not exist yet
            with commands.open("a") as handle:
                handle.write(command_line("one"))
                first, rest = command_line("two")[:15], command_line("two")[15:]
                handle.write(first)  # a half-written line is not read yet
                handle.flush()
                await asyncio.sleep(0.05)
                handle.write(rest + "\n" + command_line("three"))

        feeder = asyncio.create_task(feed())
        for _ in range(3):
            seen.append((await asyncio.wait_for(anext(stream), 5)).action)
        await feeder
        await stream.aclose()
        return seen

    assert asyncio.run(run()) == ["one", "two", "three"]


def test_consume_restarts_on_truncation(tmp_path: Path) -> None:
    commands = tmp_path / "commands.jsonl"
    commands.write_text(command_line("old-one") + command_line("old-two"))

    async def run() -> list[str]:
        transport = FileTransport(tmp_path / "m.log", commands_path=commands, poll_interval_s=0.01)
        stream = transport.consume()
        seen = [(await anext(stream)).action, (await anext(stream)).action]
        commands.write_text(command_line("new"))  # replaced by a shorter file
        seen.append((await asyncio.wait_for(anext(stream), 5)).action)
        await stream.aclose()
        return seen

    assert asyncio.run(run()) == ["old-one", "old-two", "new"]


def test_bad_command_line_names_file_and_line(tmp_path: Path) -> None:
    commands = tmp_path / "commands.jsonl"
    commands.write_text(
        command_line("ok") + "\n" + json.dumps({"tool": "Not A Tool!", "action": "x"}) + "\n"
    )

    async def run() -> None:
        stream = FileTransport(tmp_path / "m.log", commands_path=commands).consume()
        assert (await anext(stream)).action == "ok"
        with pytest.raises(
            TransportError, match=r"commands.jsonl:3: not a remediation command: tool"
        ):
            await anext(stream)

    asyncio.run(run())


def test_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(TransportError, match=r"cannot open .*missing"):
        FileTransport(tmp_path / "missing" / "messages.log").write(message("e", 1))
    with pytest.raises(TransportError, match="format must be"):
        FileTransport(tmp_path / "m.log", format="xml")  # type: ignore[arg-type]

    async def no_commands() -> None:
        async for _ in FileTransport(tmp_path / "m.log").consume():
            pass

    with pytest.raises(TransportError, match="no commands_path"):
        asyncio.run(no_commands())
