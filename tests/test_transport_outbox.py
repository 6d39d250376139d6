"""The durable outbox: fsynced appends, torn last records, compaction, one owner."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from pytest_iris.errors import TransportError
from pytest_iris.log.model import IRISMessage, Severity
from pytest_iris.testing import capture_events
from pytest_iris.transport import MessageEnvelope, Outbox
from pytest_iris.transport import outbox as outbox_module
from pytest_iris.transport.envelope import wrap


def envelope(i: int) -> MessageEnvelope:
    return wrap(
        IRISMessage(
            timestamp=datetime(2026, 2, 2, 2, 2, 2),
            pid=i,
            severity=Severity.SEVERE,
            category="WRTDMN",
            text=f"Write daemon event {i}",
        ),
        message_id=f"m{i}",
    )


def test_append_is_on_disk_before_return(tmp_path: Path) -> None:
    stored = [envelope(1), envelope(2)]
    with Outbox(tmp_path) as box:
        box.append(stored)
        assert (tmp_path / "outbox.log").read_bytes().count(b"\n") == 2
        assert box.pending_ids() == ["m1", "m2"]
    with Outbox(tmp_path) as reopened:
        assert reopened.peek(10) == stored


def test_remove_keeps_order_and_empties_the_file(tmp_path: Path) -> None:
    with Outbox(tmp_path) as box:
        box.append([envelope(i) for i in range(4)])
        assert box.remove(["m1", "m9"]) == 1
        assert box.pending_ids() == ["m0", "m2", "m3"]
    with Outbox(tmp_path) as box:
        assert box.pending_ids() == ["m0", "m2", "m3"]
        box.remove(["m0", "m2", "m3"])
        assert len(box) == 0
    assert (tmp_path / "outbox.log").stat().st_size == 0


@pytest.mark.parametrize("cut", [1, 5, 40, -2, -1])
def test_torn_last_record_is_truncated_away(tmp_path: Path, cut: int) -> None:
    with Outbox(tmp_path) as box:
        box.append([envelope(1), envelope(2)])
    log = tmp_path / "outbox.log"
    data = log.read_bytes()
    first_end = data.index(b"\n") + 1
    torn = data[first_end:][:cut]
    log.write_bytes(data[:first_end] + torn)  # the second record was being written
    with capture_events() as events, Outbox(tmp_path) as box:
        assert box.pending_ids() == ["m1"]
        assert log.read_bytes() == data[:first_end]
        box.append([envelope(3)])  # appends start on a clean line
    events.assert_event("outbox.torn_record", offset=first_end)
    with Outbox(tmp_path) as box:
        assert box.pending_ids() == ["m1", "m3"]


def test_checksum_mismatch_in_last_record_is_torn(tmp_path: Path) -> None:
    with Outbox(tmp_path) as box:
        box.append([envelope(1), envelope(2)])
    log = tmp_path / "outbox.log"
    data = bytearray(log.read_bytes())
    data[-10] ^= 0x01  # a flipped bit in the last record, line break intact
    log.write_bytes(bytes(data))
    with Outbox(tmp_path) as box:
        assert box.pending_ids() == ["m1"]


def test_corrupt_record_mid_file_is_reported_and_skipped(tmp_path: Path) -> None:
    with Outbox(tmp_path) as box:
        box.append([envelope(1), envelope(2), envelope(3)])
    log = tmp_path / "outbox.log"
    lines = log.read_bytes().splitlines(keepends=True)
    lines[1] = b"garbage\n"
    log.write_bytes(b"".join(lines))
    with capture_events() as events, Outbox(tmp_path) as box:
        assert box.pending_ids() == ["m1", "m3"]
    events.assert_event("outbox.corrupt_record", raw="garbage")


def test_compaction_rewrites_only_pending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox_module, "COMPACT_AT", 20)
    with Outbox(tmp_path) as box:
        box.append([envelope(i) for i in range(30)])
        for i in range(25):
            box.remove([f"m{i}"])
        assert box.pending_ids() == [f"m{i}" for i in range(25, 30)]
        lines = (tmp_path / "outbox.log").read_bytes().count(b"\n")
        assert lines < 30
        box.append([envelope(99)])
    with Outbox(tmp_path) as box:
        assert box.pending_ids() == [*(f"m{i}" for i in range(25, 30)), "m99"]
    assert not (tmp_path / "outbox.log.tmp").exists()


def test_expire_drops_old_messages_with_events(tmp_path: Path) -> None:
    now = [1_000_000.0]
    with Outbox(tmp_path, retention_s=60, clock=lambda: now[0]) as box:
        old = envelope(1).model_copy(update={"created": now[0] - 61})
        fresh = envelope(2).model_copy(update={"created": now[0] - 59})
        box.append([old, fresh])
        with capture_events() as events:
            assert box.expire() == [old]
        assert box.pending_ids() == ["m2"]
    event = events.assert_event("outbox.dropped", message_id="m1", reason="retention")
    assert event["age_s"] == 61.0 and event["level"] == "warning"


def test_second_owner_is_refused_and_a_dead_owner_releases(tmp_path: Path) -> None:
    with Outbox(tmp_path), pytest.raises(TransportError, match=r"in use by another transport"):
        Outbox(tmp_path).open()
    script = textwrap.dedent(
        f"""
        import os, signal
        from pytest_iris.transport import Outbox
        Outbox({str(tmp_path)!r}).open()
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    with Outbox(tmp_path) as box:  # the kernel dropped the dead process's lock
        assert len(box) == 0


def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(TransportError, match="cannot use outbox directory"):
        Outbox(blocker / "outbox").open()
    with pytest.raises(TransportError, match="retention"):
        Outbox(tmp_path, retention_s=0)


def test_failed_append_leaves_no_torn_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = outbox_module.os.fsync
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    with Outbox(tmp_path) as box:
        monkeypatch.setattr(outbox_module.os, "fsync", failing_fsync)
        with pytest.raises(TransportError, match=r"cannot store 1 message.*No space left"):
            box.append([envelope(1)])
        monkeypatch.setattr(outbox_module.os, "fsync", real_fsync)
        assert box.pending_ids() == []
        box.append([envelope(2)])
    with capture_events() as events, Outbox(tmp_path) as box:
        assert box.pending_ids() == ["m2"]
    events.assert_no_event("outbox.corrupt_record")
    events.assert_no_event("outbox.torn_record")


APPENDER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from pytest_iris.log.model import IRISMessage
    from pytest_iris.transport import Outbox
    from pytest_iris.transport.envelope import wrap

    box = Outbox(sys.argv[1]).open()
    start = int(sys.argv[2])
    for i in range(start, start + 10**6):
        text = f"kill test {i} " + "z" * (i * 37 % 5000)  # records of varied size
        m = IRISMessage(timestamp=datetime(2026, 2, 2), pid=1, severity=1, text=text)
        box.append([wrap(m, message_id=f"k{i}")])
        sys.stdout.write(f"{i}\\n")
        sys.stdout.flush()
    """
)


def test_sigkill_during_appends_keeps_every_acknowledged_record(tmp_path: Path) -> None:
    """Kill an appending process twice; each reopen holds every acknowledged append."""
    script = tmp_path / "appender.py"
    script.write_text(APPENDER)
    acknowledged: list[str] = []
    start = 0
    for stop_after in (40, 150):
        child = subprocess.Popen(
            [sys.executable, str(script), str(tmp_path / "box"), str(start)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        seen = 0
        for line in child.stdout:
            acknowledged.append(f"k{int(line)}")
            seen += 1
            if seen == stop_after:
                child.send_signal(9)  # SIGKILL, most likely in the middle of the next append
                break
        child.wait(30)
        with Outbox(tmp_path / "box") as box:
            pending = box.pending_ids()
        assert set(acknowledged) <= set(pending)
        # in order; a record written but not yet acknowledged when the kill came may be there too
        acked = set(acknowledged)
        assert [p for p in pending if p in acked] == acknowledged
        start = int(pending[-1][1:]) + 1


# --- nothing lost: dead letters, and 404/401/307 during redelivery ------------


class _Scripted:
    """A real HTTP server on 127.0.0.1:0 answering POSTs from a script of statuses.

    Each POST to ``/messages`` takes the next scripted status (200 when the
    script is empty); ``307`` redirects to ``/moved/messages``, which accepts.
    Accepted envelope ids are recorded.
    """

    def __init__(self, script: list[int]) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.script = list(script)
        self.accepted: list[str] = []
        self.seen: list[tuple[str, int]] = []
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    if self.path == "/moved/messages":
                        status = 200
                    else:
                        status = owner.script.pop(0) if owner.script else 200
                    owner.seen.append((self.path, status))
                    if status == 200:
                        owner.accepted.append(json.loads(body)["id"])
                reply = json.dumps({"error": f"scripted {status}"}).encode()
                self.send_response(status)
                if status == 307:
                    self.send_header("Location", "/moved/messages")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Scripted:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def _journal(i: int) -> IRISMessage:
    return IRISMessage(
        timestamp=datetime(2026, 7, 1, 12, 0, i),
        pid=4000 + i,
        severity=Severity.WARNING,
        category="Journal",
        text=f"journal event {i}",
    )


def test_redelivery_through_404_401_307_loses_nothing(tmp_path: Path) -> None:
    import asyncio

    from pytest_iris.transport import HttpTransport, RetryPolicy

    once = RetryPolicy(attempts=1, base_delay_s=0.01, max_delay_s=0.02, seed=1)
    kept = [wrap(_journal(i)) for i in range(6)]
    with Outbox(tmp_path / "box") as box:  # what an earlier run could not deliver
        box.append(kept)
    ids = [e.id for e in kept]
    # redelivery meets 404, 401, 307 (followed), 404, a 422 (the receiver refuses
    # that message for good), 401, then 200s
    with _Scripted([404, 401, 307, 404, 422, 401]) as server:

        async def run() -> None:
            http = HttpTransport(server.url, outbox_dir=tmp_path / "box", retry=once)
            async with http:
                await http.drain(timeout_s=30)
                assert http.outbox.dead_lettered == 1

        with capture_events() as events:
            asyncio.run(run())
    letters = outbox_module.read_dead_letters(tmp_path / "box")
    dead = [letter["envelope"].id for letter in letters]
    assert sorted(server.accepted + dead) == sorted(ids)  # every message: delivered or dead
    assert len(dead) == 1 and letters[0]["status"] == 422 and letters[0]["reason"] == "rejected"
    assert "scripted 422" in letters[0]["detail"]
    assert ("/moved/messages", 200) in server.seen  # the 307 was followed
    event = events.assert_event("outbox.dropped", reason="rejected", status=422)
    assert event["dead_letter"] == str(tmp_path / "box" / "dead-letter.jsonl")


def test_retention_expiry_goes_to_the_dead_letter_file(tmp_path: Path) -> None:
    now = [1000.0]
    first = envelope(1).model_copy(update={"created": 1000.0})
    second = envelope(2).model_copy(update={"created": 1050.0})
    with Outbox(tmp_path, retention_s=60, clock=lambda: now[0]) as box:
        box.append([first, second])
        now[0] = 1070.0
        assert box.expire() == [first]
        assert box.pending_ids() == ["m2"] and box.dead_lettered == 1
    (letter,) = outbox_module.read_dead_letters(tmp_path)
    assert letter["envelope"] == first and letter["reason"] == "retention"
    assert letter["age_s"] == 70.0 and letter["at"] == 1070.0


def test_a_dead_letter_that_cannot_be_written_keeps_the_message(tmp_path: Path) -> None:
    with Outbox(tmp_path) as box:
        box.append([envelope(1)])
        (tmp_path / "dead-letter.jsonl").mkdir()  # the file cannot be opened for writing
        with pytest.raises(TransportError, match="stays in the outbox"):
            box.drop(envelope(1), "rejected", status=400)
        assert box.pending_ids() == ["m1"] and box.dead_lettered == 0
