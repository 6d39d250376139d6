"""The sandbox's own state writers leave whole files only, however they race or are stopped.

The host's JSON state, its procfs files (which ``cat``, ``sysctl`` and psutil
read with no lock), the live sandbox's config and readiness files and the
outbox's compaction all write a temporary and rename it. A temporary named
once per process (``.state.json.<pid>.tmp``) is shared by two threads: one
truncates the other's half-written file, or renames it into place while the
other is still writing, and the other's rename then fails. Each write now
has a temporary of its own (``atomic.temporary_name``), and an interrupt
removes it. The racing tests use real threads, real processes and the real
``cat``/``sysctl``; each failed on the per-process names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_iris import atomic
from pytest_iris.sandbox import SandboxHost, _procfs
from pytest_iris.sandbox._state import (
    HostState,
    load_state,
    locked_state,
    peek_state,
    save_state,
    state_path,
)
from pytest_iris.sandbox.live import _role
from pytest_iris.sandbox.live.sandbox import LiveSandbox
from pytest_iris.sandbox.procview import unavailable
from pytest_iris.transport import Outbox
from pytest_iris.transport import outbox as outbox_module
from test_transport_outbox import envelope

DEADLINE = 120.0  # generous: the machine may be busy; nothing waits on a clock otherwise


def _race(
    write: Callable[[Any], object],
    read: Callable[[], bytes],
    values: Sequence[Any],
    *,
    writers: int = 4,
    rounds: int = 60,
) -> list[bytes]:
    """``writers`` threads write ``values`` over one file while a thread reads it; returns the reads.

    Every error a writer or the reader meets is raised here.
    """
    errors: list[BaseException] = []
    reads: list[bytes] = []
    start = threading.Barrier(writers + 1)
    done = threading.Event()

    def writer(n: int) -> None:
        start.wait()
        try:
            for r in range(rounds):
                write(values[(n + r) % len(values)])
        except BaseException as error:  # reported below
            errors.append(error)

    def reader() -> None:
        start.wait()
        try:
            while True:  # at least one read, however the threads are scheduled
                reads.append(read())
                if done.is_set():
                    break
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    watcher = threading.Thread(target=reader)
    for thread in (*threads, watcher):
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    done.set()
    watcher.join(DEADLINE)
    assert not any(t.is_alive() for t in (*threads, watcher)), "a thread did not finish"
    if errors:
        raise errors[0]
    return reads


def _host_root(tmp_path: Path) -> Path:
    root = tmp_path / "host"
    (root / ".sandbox").mkdir(parents=True)
    return root


def _states(count: int) -> list[HostState]:
    """States whose JSON differs in length (about 40 KB to 160 KB), so a torn one shows."""
    return [
        HostState(clock=1.7e9 + n, boot_time=1.7e9 - 86400, nodename=f"host{n}-" + "x" * 40_000 * n)
        for n in range(1, count + 1)
    ]


def test_state_writers_racing_never_tear_the_file_nor_leave_a_temporary(tmp_path: Path) -> None:
    root = _host_root(tmp_path)
    states = _states(4)
    save_state(root, states[0])
    whole = {json.dumps(s.to_json(), separators=(",", ":")).encode() for s in states}

    def write(state: HostState) -> None:
        save_state(root, state, durable=False)

    reads = _race(write, state_path(root).read_bytes, states)
    assert reads and all(data in whole for data in reads), "a reader saw a half-written state"
    assert state_path(root).read_bytes() in whole
    assert sorted(os.listdir(root / ".sandbox")) == ["state.json"]


_UPDATER = """
import sys
from pathlib import Path
from pytest_iris.sandbox._state import locked_state
for _ in range(int(sys.argv[2])):
    with locked_state(Path(sys.argv[1])) as state:
        state.advance(1.0)
"""


def test_locked_updates_from_processes_and_threads_lose_none(tmp_path: Path) -> None:
    """The host lock is kept: every ``locked_state`` change counts, and readers see whole states."""
    root = _host_root(tmp_path)
    save_state(root, HostState(clock=0.0, boot_time=0.0))
    per_writer, processes = 25, 3
    children = [
        subprocess.Popen([sys.executable, "-c", _UPDATER, str(root), str(per_writer)])
        for _ in range(processes)
    ]

    def update(_value: object) -> None:
        with locked_state(root) as state:
            state.advance(1.0)

    def read() -> bytes:
        peek_state(root)  # parses: a torn file would raise here
        return b""

    try:
        _race(update, read, [b""], writers=2, rounds=per_writer)
    finally:
        codes = [child.wait(DEADLINE) for child in children]
    assert codes == [0] * processes
    assert load_state(root).clock == per_writer * (processes + 2)
    assert sorted(os.listdir(root / ".sandbox")) == ["lock", "state.json"]


def _procfs_values() -> list[str]:
    """meminfo-sized texts of different lengths."""
    return [f"Key{n}:\t{n * 1111:>12} kB\n" * (400 * n) for n in range(1, 5)]


def test_procfs_writers_racing_never_show_cat_a_torn_file(tmp_path: Path) -> None:
    path = tmp_path / "meminfo"
    values = _procfs_values()
    _procfs.write_file(path, values[0])
    # the real cat, reading in a loop while the threads write (NUL after each read)
    reader = subprocess.Popen(
        ["sh", "-c", 'while [ ! -e "$2" ]; do cat "$1"; printf "\\0"; done', "sh", path,
         tmp_path / "stop"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert reader.stdout is not None
    rest = reader.stdout
    out = bytearray()
    while b"\0" not in out:  # cat is reading before the writers start
        chunk = rest.read1(1 << 16)
        assert chunk, "the cat loop ended before its first read"
        out += chunk
    drain = threading.Thread(target=lambda: out.extend(rest.read()))
    drain.start()
    try:
        reads = _race(lambda v: _procfs.write_file(path, str(v)), path.read_bytes, values)
    finally:
        (tmp_path / "stop").touch()
        drain.join(DEADLINE)
        reader.wait(DEADLINE)
    whole = {v.encode() for v in values}
    assert all(data in whole for data in reads), "a reader saw a half-written procfs file"
    by_cat = bytes(out).split(b"\0")[:-1]
    assert by_cat and all(data in whole for data in by_cat), "cat saw a half-written procfs file"
    assert sorted(os.listdir(tmp_path)) == ["meminfo", "stop"]


def test_sysctl_never_reads_a_half_written_tunable(tmp_path: Path) -> None:
    """The real procps ``sysctl -n``, in the host's procfs view, while threads rewrite the key."""
    if unavailable():
        pytest.skip(f"the fake host's procfs view: {unavailable()}")
    values = ["32000\t1024000000\t500\t32000", "250\t32000\t32\t128", "4096\t512000\t1600\t128"]
    with SandboxHost(tmp_path / "host") as host:
        key = _procfs.key_path(host.proc, "kernel.sem")
        done = threading.Event()
        errors: list[BaseException] = []

        def rewrite() -> None:
            try:
                n = 0
                while not done.is_set():
                    _procfs.write_file(key, values[n % len(values)] + "\n")
                    n += 1
            except BaseException as error:  # reported below
                errors.append(error)

        writers = [threading.Thread(target=rewrite) for _ in range(3)]
        for thread in writers:
            thread.start()
        try:
            done_reading = host.run_with_procfs(
                ["sh", "-c", "for i in $(seq 150); do sysctl -n kernel.sem; done"],
                timeout=DEADLINE,
            )
        finally:
            done.set()
            for thread in writers:
                thread.join(DEADLINE)
        assert not errors, errors
        assert done_reading.returncode == 0, done_reading.stderr
        lines = done_reading.stdout.splitlines()
        assert len(lines) == 150 and set(lines) <= set(values), set(lines) - set(values)
        assert [n for n in os.listdir(key.parent) if n.endswith(".tmp")] == []


def test_live_readiness_files_racing_stay_whole(tmp_path: Path) -> None:
    """``up/<name>`` of the live roles (stdlib: its own copy of the writer)."""
    (tmp_path / "up").mkdir()
    values = [f"{n}" * (30_000 * n) for n in range(1, 5)]
    target = tmp_path / "up" / "alloc"
    _role._up(str(tmp_path), "alloc", values[0])
    reads = _race(lambda v: _role._up(str(tmp_path), "alloc", str(v)), target.read_bytes, values)
    assert all(data.decode() in values for data in reads)
    assert os.listdir(tmp_path / "up") == ["alloc"]


# -- interrupts ---------------------------------------------------------------------


class Trap:
    """Once armed, the next write is interrupted; ``caught`` names its temporary."""

    def __init__(self) -> None:
        self.armed = False
        self.caught: list[str] = []

    def spring(self, temporary: str | os.PathLike[str]) -> None:
        self.armed = False
        self.caught.append(os.fspath(temporary))
        raise KeyboardInterrupt


@pytest.fixture(params=["after-create", "before-rename"])
def trap(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Trap:
    """An interrupt (the CLI turns SIGTERM into one) at the worst moments of a write.

    ``after-create``: ``atomic.create_temporary`` made the file and its descriptor
    never reached the writer (as inside ``tempfile.mkstemp``); ``before-rename``:
    the temporary is written, ``os.replace`` not done.
    """
    trap = Trap()
    if request.param == "after-create":
        real_create = atomic.create_temporary

        def create(temporary: str) -> int:
            fd = real_create(temporary)
            if trap.armed:
                os.close(fd)
                trap.spring(temporary)
            return fd

        monkeypatch.setattr(atomic, "create_temporary", create)
    else:
        real_replace = os.replace

        def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
            if trap.armed:
                trap.spring(src)
            real_replace(src, dst)

        monkeypatch.setattr(os, "replace", replace)
    return trap


def test_an_interrupted_state_write_leaves_the_old_state_and_no_temporary(
    tmp_path: Path, trap: Trap
) -> None:
    root = _host_root(tmp_path)
    old, new = _states(2)
    save_state(root, old)
    trap.armed = True
    with pytest.raises(KeyboardInterrupt):
        save_state(root, new)
    assert len(trap.caught) == 1
    assert sorted(os.listdir(root / ".sandbox")) == ["state.json"]
    assert load_state(root).nodename == old.nodename


def test_an_interrupted_procfs_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, trap: Trap
) -> None:
    path = tmp_path / "shmmax"
    _procfs.write_file(path, "1\n")
    trap.armed = True
    with pytest.raises(KeyboardInterrupt):
        _procfs.write_file(path, "2\n")
    assert len(trap.caught) == 1
    assert os.listdir(tmp_path) == ["shmmax"] and path.read_text() == "1\n"


def test_an_interrupted_live_config_write_leaves_the_old_config(tmp_path: Path, trap: Trap) -> None:
    host = LiveSandbox(tmp_path / "host")
    host.live_dir.mkdir(parents=True)
    host._write_config(shm_sizes=[1])
    trap.armed = True
    with pytest.raises(KeyboardInterrupt):
        host._write_config(shm_sizes=[2])
    assert len(trap.caught) == 1
    assert os.listdir(host.live_dir) == ["config.json"]
    assert json.loads((host.live_dir / "config.json").read_text())["shm_sizes"] == [1]


def test_an_interrupted_readiness_file_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role script's own writer (it cannot import ``atomic``), stopped before its rename."""
    (tmp_path / "up").mkdir()
    trap = Trap()
    trap.armed = True
    monkeypatch.setattr(os, "replace", lambda src, _dst: trap.spring(src))
    with pytest.raises(KeyboardInterrupt):
        _role._up(str(tmp_path), "control")
    monkeypatch.undo()
    assert os.path.basename(trap.caught[0]).startswith(".control.")
    assert os.listdir(tmp_path / "up") == []


def test_an_interrupted_outbox_compaction_keeps_every_message_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trap: Trap
) -> None:
    monkeypatch.setattr(outbox_module, "COMPACT_AT", 20)
    with Outbox(tmp_path) as box:
        box.append([envelope(i) for i in range(30)])
        for i in range(18):
            box.remove([f"m{i}"])
        trap.armed = True
        with pytest.raises(KeyboardInterrupt):
            box.remove(["m18"])  # the remove that compacts
        assert len(trap.caught) == 1
    assert sorted(os.listdir(tmp_path)) == ["outbox.lock", "outbox.log"]
    with Outbox(tmp_path) as box:
        assert box.pending_ids() == [f"m{i}" for i in range(19, 30)]
