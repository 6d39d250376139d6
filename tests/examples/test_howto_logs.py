"""How-to examples of docs/logs.md: each one is included in that page."""

import gzip
from datetime import datetime
from pathlib import Path

import pytest

from pytest_iris import read_log
from pytest_iris.generation import (
    LiveLogWriter,
    LogStream,
    SequenceContext,
    render_sequence,
    write_messages_log,
)
from pytest_iris.log.structured import read_structured
from pytest_iris.memory import plan_shared_memory


@pytest.mark.iris_log("startup", "lock_table:peak=99", "shutdown", count=400)
def test_tailer_sees_the_lock_table_alert(iris_log):
    alerts = [m for m in iris_log.messages() if m.severity >= 2]
    assert any("LockTable Alert" in m.text for m in alerts)
    # the whole sequence, exactly where the generator put it
    lock = iris_log.lines("lock_table")
    assert "LockTable Warning" in lock[0]
    assert iris_log.path.name == "messages.log"


def test_two_hosts(iris_log_factory):
    healthy = iris_log_factory("startup", count=200)
    sick = iris_log_factory("startup", "shm_failure:outcome=reduced", count=200)
    assert "Failed to allocate" not in healthy.text()
    assert "Failed to allocate" in sick.text()


@pytest.mark.iris_log(rate=1.0, live={"rate": 2000, "rotate_every": 100})
def test_tailer_survives_rotation(iris_live_log):
    iris_live_log.wait(250)  # lines written so far, ground truth in .lines
    iris_live_log.partial()  # the next line is written in two pieces
    iris_live_log.truncate()
    assert [p.name for p in iris_live_log.rotated][:2] == ["messages.log.1", "messages.log.2"]


def test_rotation_compression_and_the_ground_truth():
    Path("mgr").mkdir()
    stream = LogStream(7, count=1000, sequences=())
    live = LiveLogWriter("mgr/messages.log", stream, keep=2, compress=True, delaycompress=True)
    for _ in range(3):
        live.write(20)
        live.rotate()
    live.stop()
    assert sorted(p.name for p in Path("mgr").iterdir()) == [
        "messages.log",
        "messages.log.1",
        "messages.log.2.gz",
    ]
    assert Path("mgr/messages.log.1").read_text().splitlines() == live.lines[40:60]  # .1 newest
    with gzip.open("mgr/messages.log.2.gz", "rt") as oldest:
        assert oldest.read().splitlines() == live.lines[20:40]
    assert [r.index for r in live.truth.lost()] == list(range(20))  # deleted past keep=2

    # copytruncate: the lines written between the copy and the truncate are gone
    cut = LiveLogWriter(
        "cut.log", LogStream(8, count=100), rotate_mode="copytruncate", copytruncate_window=2
    )
    cut.write(10)
    cut.rotate()
    cut.write(5)
    cut.stop()
    assert [r.fate for r in cut.truth.lost()] == ["copytruncate-window"] * 2
    assert Path("cut.log.1").read_text().splitlines() == cut.lines[:10]


@pytest.mark.iris_log(
    live={"rate": 2000, "rotate_every": 100, "rotate_mode": "iris", "max_console_log_size": 4000}
)
def test_tailer_follows_the_iris_rollover(iris_live_log):
    iris_live_log.wait(250)
    iris_live_log.wait_idle()
    old = [p.name for p in iris_live_log.rotated]
    assert old and all(name.startswith("messages.old_") for name in old)
    assert [e.kind for e in iris_live_log.events][:2] == ["rollover", "rollover"]


def test_the_library_streams_and_sequences_without_pytest():
    plan = plan_shared_memory(
        globals_mb=0, routines_mb=0, jrnbufs_mb=0, gmheap_kb=0, total_ram_mb=16384
    )
    context = SequenceContext(
        install_dir="/opt/iris",
        instance="PROD",
        plan=plan,
        pids={"control": 1149, "write_daemon": 1180},
        start=datetime(2025, 1, 15, 20, 21, 48),
    )
    startup = render_sequence("startup", context)
    assert startup[0].text == f"Allocated {plan.total_mb}MB shared memory"
    assert startup[1].text == plan.breakdown_text()
    death = render_sequence("write_daemon_death", context)
    assert death[0].text == "Daemon WRTDMN (pid 1180) died. Freezing system"

    stream = LogStream(
        7,
        count=1000,
        sequences=["startup", "backup", "process_crash", "shutdown"],
        rate=0.05,
        install_dir="/opt/iris",
    )
    assert len(list(stream.lines())) == 1000
    print(stream.placement("process_crash"))  # where it landed: first/last line numbers
    path = write_messages_log("fake-host", stream)  # fake-host/mgr/messages.log, written atomically
    assert path.read_text() == stream.text()
    assert all(type(item).__name__ == "LogEntry" for item in read_log(path))


@pytest.mark.iris_log("startup", "process_crash", count=2000, alerts=True, structured=True)
def test_my_tailer_reads_every_file(iris_log):
    assert iris_log.alerts_path.read_text()  # severity >= 2 only
    assert all(e.kind == "entry" for e in read_structured(iris_log.structured_path))
