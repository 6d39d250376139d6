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
