"""Real incidents walked through on the fake host, through its own commands.

Each test drives the host the way a person or a remediation tool would (the
CPF tool edits iris.cpf, ``sudo sysctl -w``, ``iris stop``/``iris start`` run
as subprocesses on the sandbox's PATH) and checks what the host then shows:
messages.log, console text, exit status, processes and sockets via psutil.
"""

from __future__ import annotations

import itertools
import math
import re
from datetime import timedelta
from pathlib import Path

import psutil
import pytest

from pytest_iris.log.reader import read_log
from pytest_iris.memory import SharedMemoryPlan
from pytest_iris.sandbox import SandboxHost
from pytest_iris.tools.cpf import CpfFile, shared_memory_plan

ABORT = "An error was detected during InterSystems IRIS startup.\n** Startup aborted **\n"
BREAKDOWN = re.compile(
    r"^(\d+)MB global buffers, (\d+)MB routine buffers, (\d+)MB journal buffers, "
    r"(\d+)MB buffer descriptors, (\d+)MB heap, (\d+)MB ECP, (\d+)MB miscellaneous$"
)
GB = 1024**3


def set_globals(host: SandboxHost, mb: int) -> SharedMemoryPlan:
    """What a remediation does with the CPF tool: raise [config] globals (8 KB pool)."""
    cpf = CpfFile.read(host.cpf_path)
    cpf.set("config", "globals", f"0,0,{mb},0,0,0")
    cpf.write()
    return shared_memory_plan(CpfFile.read(host.cpf_path), host.state().total_ram_mb)


def new_messages(host: SandboxHost, since: int) -> list[tuple[int, str]]:
    entries = [e.message for e in read_log(host.messages_log) if hasattr(e, "message")]
    return [(int(m.severity), m.text) for m in entries[since:]]


def message_count(host: SandboxHost) -> int:
    return sum(1 for e in read_log(host.messages_log) if hasattr(e, "message"))


def instance_pids() -> set[int]:
    return {p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "irisdb"}


def listening_ports() -> set[int]:
    return {c.laddr.port for c in psutil.net_connections("inet") if c.status == psutil.CONN_LISTEN}


@pytest.fixture
def host(tmp_path: Path) -> SandboxHost:
    with (
        SandboxHost(
            tmp_path / "host", kernel={"kernel.shmmax": 3 * GB // 2}, user="irisowner"
        ) as built,
        built.procfs(),
    ):
        yield built


def test_globals_raised_past_shmmax_then_restart_fails_with_the_real_text(
    host: SandboxHost,
) -> None:
    old = instance_pids()
    assert old and 1972 in listening_ports()
    plan = set_globals(host, 4096)
    assert plan.total_bytes > 3 * GB // 2
    mark = message_count(host)

    stop = host.run(["iris", "stop", "IRIS", "quietly"])
    assert stop.returncode == 0, stop.stderr
    assert instance_pids() == set() and 1972 not in listening_ports()
    start = host.run(["iris", "start", "IRIS", "quietly"])

    assert start.returncode != 0
    assert start.stdout.endswith(ABORT)
    # the console's failure ladder (commands.md §3.6); messages.log keeps IRIS's own texts
    assert f"Unable to allocate {plan.total_mb} MB shared memory...\n" in start.stdout
    lines = new_messages(host, mark)
    failures = [(sev, text) for sev, text in lines if text.startswith("Failed to allocate")]
    # every attempt cuts global and routine buffers by 1/8 (facts.md §3.8) and fails at severity 2
    globals_seen = [int(re.search(r": (\d+)MB global", t).group(1)) for _, t in failures]  # type: ignore[union-attr]
    assert globals_seen[0] == 4096
    assert all(b == a * 7 // 8 for a, b in itertools.pairwise(globals_seen))
    assert {sev for sev, _ in failures} == {2}
    assert lines[-1] == (3, "An error was detected during InterSystems IRIS startup.")
    assert not any(text.startswith("Allocated") for _, text in lines)
    assert instance_pids() == set(), "a failed start leaves no process behind"
    assert "down" in host.run(["iris", "qlist"]).stdout.split("^")[3]


def test_shmmax_raised_then_restart_succeeds_and_the_allocated_line_adds_up(
    host: SandboxHost,
) -> None:
    old = instance_pids()
    plan = set_globals(host, 4096)
    host.iris("stop", "IRIS", "quietly")  # in-process: the same code as bin/iris
    assert host.iris("start", "IRIS", "quietly").status != 0

    denied = host.run(["sysctl", "-w", f"kernel.shmmax={plan.total_bytes + 16 * 1024**2}"])
    assert denied.returncode == 1
    assert denied.stderr == 'sysctl: permission denied on key "kernel.shmmax"\n'
    raised = host.run(["sudo", "sysctl", "-w", f"kernel.shmmax={plan.total_bytes + 16 * 1024**2}"])
    assert raised.returncode == 0, raised.stderr
    assert host.sysctl("-n", "kernel.shmmax").stdout == f"{plan.total_bytes + 16 * 1024**2}\n"
    mark = message_count(host)

    start = host.run(["iris", "start", "IRIS"])
    assert start.returncode == 0, start.stdout + start.stderr
    lines = new_messages(host, mark)
    allocated = next(i for i, (_, t) in enumerate(lines) if t.startswith("Allocated"))
    total = int(re.match(r"Allocated (\d+)MB shared memory$", lines[allocated][1]).group(1))  # type: ignore[union-attr]
    parts = [int(n) for n in BREAKDOWN.match(lines[allocated + 1][1]).groups()]  # type: ignore[union-attr]
    assert parts[0] == 4096
    assert 0 <= total - sum(parts) <= 2, "the listed parts add up to the total (rounding <= 2 MB)"
    assert total * 1024**2 <= int(host.read_sysctl("kernel.shmmax"))
    assert lines[allocated][0] == 0 and lines[-1][1] == "Enabling logons"
    new = instance_pids()
    assert new and not (new & old), "the restarted instance has new PIDs"
    control = min(new)
    assert {c.pid for c in psutil.Process(control).children(recursive=True)} >= new - {control}
    assert {1972, 52773} <= listening_ports()


def test_huge_pages_too_few_retry_with_standard_pages_then_enough(tmp_path: Path) -> None:
    with SandboxHost(tmp_path / "h", kernel={"vm.nr_hugepages": 64}) as host, host.procfs():
        plan = shared_memory_plan(CpfFile.read(host.cpf_path), host.state().total_ram_mb)
        host.iris("stop", "IRIS", "quietly")
        mark = message_count(host)
        assert host.iris("start", "IRIS").status == 0
        texts = [t for _, t in new_messages(host, mark)]
        assert texts[0] == (
            f"Failed to allocate {plan.total_mb}MB shared memory using Huge Pages. "
            "Startup will retry with standard pages."
        )
        assert texts[1] == f"Allocated {plan.total_mb}MB shared memory"

        pages = math.ceil(plan.total_mb / 2) + 10
        host.iris("stop", "IRIS", "quietly")
        assert host.sysctl("-w", f"vm.nr_hugepages={pages}").status == 0
        mark = message_count(host)
        assert host.iris("start", "IRIS").status == 0
        assert (
            new_messages(host, mark)[0][1]
            == f"Allocated {plan.total_mb}MB shared memory using Huge Pages"
        )
        meminfo = (host.proc / "meminfo").read_text()
        assert f"HugePages_Total:   {pages:5d}\n" in meminfo
        assert f"HugePages_Free:    {pages - math.ceil(plan.total_mb / 2):5d}\n" in meminfo


def test_large_pages_required_aborts_instead_of_falling_back(tmp_path: Path) -> None:
    with SandboxHost(tmp_path / "h", kernel={"vm.nr_hugepages": 16}, running=False,
                     cpf={"config": {"memlock": "64"}}) as host:  # fmt: skip
        out = host.iris("start", "IRIS")
        assert out.status == 1 and out.stdout.endswith(ABORT)
        assert (
            2,
            "Insufficient Huge Pages configured for required shared memory.",
        ) in new_messages(host, 0)
        assert host.status() == "down"


def test_one_eighth_reduction_then_allocated_at_severity_one(tmp_path: Path) -> None:
    with SandboxHost(tmp_path / "h", running=False) as host:
        plan = shared_memory_plan(CpfFile.read(host.cpf_path), host.state().total_ram_mb)
        reduced = plan.reduced()
        host.set_sysctl("kernel.shmmax", (plan.total_bytes + reduced.total_bytes) // 2)
        assert host.iris("start", "IRIS").status == 0
        lines = new_messages(host, 0)
        assert lines[0] == (2, f"Failed to allocate {plan.total_mb}MB shared memory: "
                               f"{plan.global_buffers_mb}MB global buffers, {plan.routine_buffers_mb}MB routine buffers")  # fmt: skip
        assert lines[1] == (1, f"Allocated {reduced.total_mb}MB shared memory")
        assert lines[2] == (1, reduced.breakdown_text())


def test_stop_with_users_connected_closes_their_connections(tmp_path: Path) -> None:
    with SandboxHost(tmp_path / "h", users=3, web_users=1) as host, host.procfs():
        served = [c for c in psutil.net_connections() if c.status == psutil.CONN_ESTABLISHED]
        assert len(served) == 4 and host.connections() == 4
        jobs = host.pids()["user_job"]
        assert all(psutil.pid_exists(pid) for pid in jobs)
        mark = message_count(host)
        assert host.run(["iris", "stop", "IRIS", "quietly"]).returncode == 0
        assert not [c for c in psutil.net_connections() if c.status == psutil.CONN_ESTABLISHED]
        assert not any(psutil.pid_exists(pid) for pid in jobs)
        texts = [t for _, t in new_messages(host, mark)]
        # the real clean-shutdown entries (docs/sources/messages_real.log lines 137-138;
        # no real shutdown line counts the users it cut off)
        assert "Transaction rollback not required at next startup" in texts, texts
        assert host.connections() == 0 and host.status() == "down"
        assert 2188 in listening_ports(), "the ISC agent is its own service and stays up"


def test_killed_write_daemon_freezes_and_killed_control_process_is_abnormal(tmp_path: Path) -> None:
    with SandboxHost(tmp_path / "h") as host, host.procfs():
        wd = host.pids()["write_daemon"][0]
        psutil.Process(wd).kill()  # routed to the fake kernel
        assert not psutil.pid_exists(wd)
        assert f"Daemon WRTDMN (pid {wd}) died. Freezing system" in host.log_text()
        assert "    state:        alert\n" in host.iris("list").stdout
        control = host.pids()["control"][0]
        psutil.Process(control).terminate()
        assert host.status() == "down" and instance_pids() == set()
        mark = message_count(host)
        assert host.iris("start", "IRIS").status == 0
        assert new_messages(host, mark)[0] == (
            2,
            "Previous system shutdown was abnormal, system forced down or crashed",
        )
        assert "    state:        ok\n" in host.iris("list").stdout


def test_the_log_stays_in_time_order_and_parses_across_a_day_of_operations(tmp_path: Path) -> None:
    with SandboxHost(tmp_path / "h", users=1) as host:
        host.iris("stop", "IRIS", "quietly")
        host.advance(3600)
        host.iris("start", "IRIS")
        host.connect(2)
        host.signal(host.pids()["write_daemon"][0], 9)
        host.iris("force", "IRIS")
        host.iris("start", "IRIS")
        merge = tmp_path / "m.cpf"
        merge.write_text("[config]\nroutines=128\n")
        host.iris("merge", "IRIS", str(merge))
        entries = list(read_log(host.messages_log))
        problems = [e for e in entries if e.kind == "problem"]
        assert not problems, problems
        # `iris force` then `iris start`: the WIJ recovery program's block, read as one item
        assert [e.kind for e in entries if e.kind != "entry"] == ["wij-recovery"]
        stamps = [e.message.timestamp for e in entries if e.kind == "entry"]  # type: ignore[union-attr]
        assert stamps == sorted(stamps)
        assert stamps[-1] - stamps[0] > timedelta(hours=1)
