"""The stream engine: every line parses and round-trips, same seed same bytes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from pytest_iris.errors import ConfigError
from pytest_iris.generation import Entry, LogStream, format_entry, to_message, write_messages_log
from pytest_iris.generation.entries import BLOCK
from pytest_iris.generation.sequences import sequence_names
from pytest_iris.log.grammar import format_message
from pytest_iris.log.reader import LogEntry, LogProblem, parse_text, read_log

REAL_LOG = Path(__file__).parent / "data" / "messages_real.log"

ALL = sequence_names()


@pytest.fixture(scope="module")
def big() -> LogStream:
    return LogStream(11, count=6000, sequences=ALL, rate=0.05)


def test_every_line_parses_and_round_trips(big: LogStream, tmp_path: Path) -> None:
    path = big.write(tmp_path / "messages.log")
    items = list(read_log(path))
    problems = [i for i in items if isinstance(i, LogProblem)]
    assert problems == []
    text = path.read_text(encoding="utf-8")
    # Entries through their models, the WIJ recovery block as read: the whole file.
    assert (
        "".join(
            (format_message(i.message) if isinstance(i, LogEntry) else i.format()) + "\n"
            for i in items
        )
        == text
    )
    assert len(text.splitlines()) == 6000


def test_fast_path_equals_models(big: LogStream) -> None:
    fast = big.text()
    entries = list(big.entries())
    assert "".join(format_entry(e) + "\n" for e in entries) == fast
    # the slow path through validated pydantic models writes the same bytes
    # (the WIJ recovery block is not a message: it is written as it is)
    assert (
        "".join(
            (format_entry(e) if e.severity == BLOCK else format_message(to_message(e))) + "\n"
            for e in entries
        )
        == fast
    )
    parsed = [i.message for i in parse_text(fast) if isinstance(i, LogEntry)]
    assert parsed == [to_message(e) for e in entries if e.severity != BLOCK]


def test_time_never_goes_backwards(big: LogStream) -> None:
    times = [e.ms for e in big.entries()]
    assert times == sorted(times)
    assert len(set(times)) > len(times) // 2


def test_same_seed_same_bytes_different_seed_different() -> None:
    a = LogStream(5, count=800, sequences=["startup", "backup", "shutdown"]).text()
    b = LogStream(5, count=800, sequences=["startup", "backup", "shutdown"]).text()
    c = LogStream(6, count=800, sequences=["startup", "backup", "shutdown"]).text()
    assert a == b
    assert a != c


def _cli(args: list[str], hashseed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    out = subprocess.run(
        [sys.executable, "-m", "pytest_iris", *args],
        capture_output=True,
        env=env,
        check=True,
        timeout=120,
    ).stdout
    return hashlib.sha256(out).hexdigest()


def test_same_bytes_in_two_processes_with_different_hash_seeds() -> None:
    args = ["generate", "--seed", "42", "--count", "3000", "--sequence", "startup",
            "--sequence", "lock_table", "--sequence", "mirror:role=failover"]  # fmt: skip
    expected = hashlib.sha256(
        LogStream(42, count=3000, sequences=["startup", "lock_table", "mirror:role=failover"])
        .text()
        .encode()
    ).hexdigest()
    assert _cli(args, "1") == expected
    assert _cli(args, "987") == expected


def test_count_counts_physical_lines_and_placements_are_exact() -> None:
    stream = LogStream(3, count=500, sequences=["startup", "write_daemon_death", "shutdown"])
    lines = list(stream.lines())
    assert len(lines) == 500
    start = stream.placement("startup")
    assert start.first_line == 1
    assert "Global buffer setting requires attention" in lines[0]
    death = stream.placement("write_daemon_death")
    assert "Daemon WRTDMN" in lines[death.first_line - 1]
    assert lines[death.last_line - 1].startswith("   pass or writes to disk")
    end = stream.placement("shutdown")
    assert end.last_line == 500
    # the real clean shutdown's last entry (docs/sources/messages_real.log line 138)
    assert lines[-1].endswith("Transaction rollback not required at next startup")


def test_noise_pids_daemons_keep_theirs_jobs_come_and_go() -> None:
    entries = list(LogStream(8, count=4000, sequences=[]).entries())
    monitor = {e.pid for e in entries if e.category == "SYSTEM MONITOR"}
    assert len(monitor) == 1
    jobs = {e.pid for e in entries if e.category != "SYSTEM MONITOR"}
    assert len(jobs) > 30  # jobs churn over a long log


def test_restart_mid_stream_gives_new_daemon_pids() -> None:
    stream = LogStream(9, count=400, sequences=["startup", "shutdown", "startup"])
    started = [e for e in stream.entries() if e.template == "startup.write_daemon_started"]
    assert len(started) == 2
    assert started[0].pid != started[1].pid


def test_severity_and_category_mix_resembles_the_real_corpus(big: LogStream) -> None:
    entries = list(big.entries())
    info = sum(1 for e in entries if e.severity == 0) / len(entries)
    assert 0.75 < info < 0.95  # real corpus: ~85 % severity 0
    # every category a generated log uses is one a real log uses
    real = {e.category for e in read_log(REAL_LOG) if isinstance(e, LogEntry) and e.category}
    generated = {e.category for e in entries if e.severity != BLOCK}
    assert generated <= real, generated - real


def test_write_messages_log_puts_the_file_under_mgr(tmp_path: Path) -> None:
    path = write_messages_log(tmp_path / "iris", seed=1, count=100)
    assert path == tmp_path / "iris" / "mgr" / "messages.log"
    # The log names the real default install directory, not where the file landed.
    assert "with mgr: /usr/irissys/mgr" in path.read_text()
    assert str(tmp_path) not in path.read_text()


def test_write_is_atomic_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "messages.log"
    target.write_text("keep me\n")
    stream = LogStream(1, count=10, sequences=[])

    def broken():  # type: ignore[no-untyped-def]
        yield from stream.chunks()
        raise RuntimeError("disk full")

    from pytest_iris.generation import write_atomic

    with pytest.raises(RuntimeError):
        write_atomic(target, broken())
    assert target.read_text() == "keep me\n"
    assert [p.name for p in tmp_path.iterdir()] == ["messages.log"]


async def _collect(stream: LogStream) -> list[str]:
    return [format_message(m) async for m in stream]


def test_async_iterator_yields_the_same_messages() -> None:
    import asyncio

    stream = LogStream(2, count=300, sequences=["startup", "process_crash"])
    assert asyncio.run(_collect(stream)) == [format_message(m) for m in stream]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"count": 5, "sequences": ["startup"]}, "smaller than"),
        ({"rate": 0}, "rate"),
        ({"jitter": 2}, "jitter"),
        ({"sequences": ["nope"]}, "unknown log sequence 'nope'"),
        ({"sequences": ["lock_table:peak=99,colour=red"]}, "colour"),
        ({"sequences": ["startup@2"]}, "at must be within"),
        ({"sequences": [{"name": "backup", "at": "soon"}]}, "at must be a number"),
        ({"start": datetime(2099, 12, 31, 23, 0), "count": 1000, "rate": 0.001}, "2000-2099"),
    ],
)
def test_bad_input_names_what_is_wrong(kwargs: dict[str, object], needle: str) -> None:
    def make() -> str:
        return LogStream(1, **kwargs).text()  # type: ignore[arg-type]

    with pytest.raises(ConfigError, match=needle):
        make()


def test_sequences_land_in_order_and_share_the_instance_pids() -> None:
    names = ["startup", "backup", "write_daemon_death", "wij_recovery", "lock_table", "shutdown"]
    stream = LogStream(21, count=1500, sequences=names)
    firsts = [p.first_line for p in stream.placements]
    assert [p.name for p in stream.placements] == names
    assert firsts == sorted(firsts)
    line_of: dict[int, Entry] = {}
    line = 1
    for entry in stream.entries():
        line_of[line] = entry
        line += 1 + len(entry.continuation)
    for placed in stream.placements:
        inside = [e for n, e in line_of.items() if placed.first_line <= n <= placed.last_line]
        assert len(inside) == placed.entries
        assert not any(e.template.startswith("noise.") for e in inside), placed.name
    started = [e for e in line_of.values() if e.template == "startup.write_daemon_started"]
    died = next(e for e in line_of.values() if e.template == "wd.died")
    # the write daemon that started is the one that died; the restart gives a new one
    assert died.text == f"Daemon WRTDMN (pid {started[0].pid}) died. Freezing system"
    assert started[1].pid != started[0].pid
    # a stopped instance logs nothing between the death and the recovery
    death, recovery = stream.placement("write_daemon_death"), stream.placement("wij_recovery")
    assert recovery.first_line == death.last_line + 1


VARIANTS = [
    "shm_failure:outcome=standard",
    "shm_failure:outcome=reduced,reductions=3",
    "shm_failure:outcome=abort",
    "shm_failure:outcome=required",
    "mirror:role=primary",
    "mirror:role=backup",
    "write_daemon_death:style=cache",
    "journal_space:disabled=true",
    "cpf_merge:fail=false",
    "startup:fresh=true,interoperability=true",
    "disk_space:alert=false",
    "shard_attach:licensed=false",
    "shard_attach:node=node2",
    "mirror:role=takeover_failed",
    "mirror:role=trouble",
    "shm_failure:outcome=capability",
    "journal_switch",
    "log_monitor:error=jrnstop",
    "license_error:kind=invalid_key",
    "durable_sys",
    "durable_sys:fail=true",
]


@pytest.mark.parametrize("seed", [0, 1, 2**62])
def test_parameter_variants_parse_and_round_trip(seed: int) -> None:
    text = LogStream(seed, count=1200, sequences=VARIANTS, rate=0.5).text()
    items = list(parse_text(text))
    assert not [i for i in items if isinstance(i, LogProblem)]
    rebuilt = "".join(format_message(i.message) + "\n" for i in items if isinstance(i, LogEntry))
    assert rebuilt == text
