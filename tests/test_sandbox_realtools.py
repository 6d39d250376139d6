"""Real procps, util-linux, psmisc and net-tools read the sandbox's procfs and agree with it.

Each tool runs with the sandbox's tree bound over ``/proc`` in a private
mount namespace (``host.run_with_procfs``), on a host built on the disk
file system of ``tmp_path`` (ext4 here) and on tmpfs (``/dev/shm``): the
two list directories in different orders, which ``sysctl -a`` once looped on.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from pytest_iris.sandbox import SandboxHost
from pytest_iris.sandbox.procview import unavailable

pytestmark = pytest.mark.skipif(bool(unavailable()), reason=unavailable() or "available")


def _tmpfs_dir() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@pytest.fixture(scope="module", params=["disk", "tmpfs"])
def host(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxHost]:
    if request.param == "disk":
        root = tmp_path_factory.mktemp("disk") / "host"
    else:
        base = _tmpfs_dir()
        if base is None:
            pytest.skip("no writable tmpfs at /dev/shm")
        root = Path(tempfile.mkdtemp(prefix="pytest-iris-", dir=base)) / "host"
    try:
        with SandboxHost(root, users=2, web_users=1, user="irisowner") as built:
            yield built
    finally:
        if request.param == "tmpfs":
            shutil.rmtree(root.parent, ignore_errors=True)


def _tool(host: SandboxHost, *argv: str) -> str:
    done = host.run_with_procfs(list(argv), timeout=60)
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


def test_ps_lists_every_process_with_its_uid_and_command_line(host: SandboxHost) -> None:
    out = _tool(host, "ps", "-ww", "-eo", "pid,uid,comm,args")
    rows = {int(r.split()[0]): r.split(None, 3)[1:] for r in out.splitlines()[1:]}
    state = host.state()
    assert set(rows) == set(state.processes)
    for pid, proc in state.processes.items():
        uid, comm, args = rows[pid]
        assert (int(uid), comm, args) == (proc.uid, proc.comm, " ".join(proc.cmdline))
    control = host.pids()["control"][0]
    assert int(rows[control][0]) == state.instances["IRIS"].owner_uid


def test_ps_shows_the_instances_daemons_under_their_users(host: SandboxHost) -> None:
    # the documented daemons and jobs (commands.md §6) with the owner/irisusr split of facts.md §4.5
    from pytest_iris.sandbox._iris import DAEMONS

    out = _tool(host, "ps", "-ww", "-eo", "user:12,args")
    rows = [line.split(None, 1) for line in out.splitlines()[1:]]
    for _role, routine, job in DAEMONS:
        users = {user for user, args in rows if args.endswith(f" {routine}")}
        assert users == {"irisusr" if job else "irisowner"}, routine
    assert {user for user, args in rows if args.endswith(" SWRTDMN")} == {"irisowner"}
    jobs = [args for user, args in rows if user == "irisusr" and args.endswith(" %SYS.BINDSRV")]
    assert len(jobs) == len(host.pids()["user_job"]) == 2
    assert [args for _, args in rows if args.endswith(" %SYS.cspServer3")]  # the web user's job


def test_top_and_pgrep_see_the_same_irisdb_processes(host: SandboxHost) -> None:
    irisdb = {pid for pid, (comm, _) in host.processes().items() if comm == "irisdb"}
    pgrep = {int(line.split()[0]) for line in _tool(host, "pgrep", "-a", "irisdb").splitlines()}
    assert pgrep == irisdb
    top = _tool(host, "top", "-bn1")
    assert f"Tasks: {len(host.processes()):3d} total" in top
    listed = {
        int(r.split()[0]) for r in top.splitlines() if r.strip()[:1].isdigit() and "irisdb" in r
    }
    assert listed == irisdb


def test_pstree_shows_the_instance_under_its_control_process(host: SandboxHost) -> None:
    control = host.pids()["control"][0]
    tree = _tool(host, "pstree", "-p", str(control))
    assert tree.startswith(f"irisdb({control})")
    for pid in host.pids()["write_daemon"] + host.pids()["journal_daemon"]:
        assert f"({pid})" in tree


def test_free_vmstat_and_uptime_agree_with_the_host(host: SandboxHost) -> None:
    mem = _tool(host, "free", "-m").splitlines()[1].split()
    assert int(mem[1]) == host.total_ram_mb
    assert _tool(host, "vmstat").splitlines()[1].split()[0] == "r"
    days = int((host.clock() - host.state().boot_time) // 86400)
    assert re.search(rf"up {days} days", _tool(host, "uptime"))


def test_sysctl_a_terminates_and_shows_every_tunable(host: SandboxHost) -> None:
    host.set_sysctl("kernel.shmmax", 4294967296)
    out = _tool(host, "sysctl", "-a")
    values = dict(line.split(" = ", 1) for line in out.splitlines())
    assert values["kernel.shmmax"] == "4294967296"
    assert {"kernel.shmall", "kernel.shmmni", "kernel.sem", "vm.nr_hugepages",
            "vm.hugetlb_shm_group", "vm.overcommit_memory"} <= set(values)  # fmt: skip
    assert len(values) == len(set(values))


def test_ipcs_shows_the_instances_segment(host: SandboxHost) -> None:
    inst = host.state().instances["IRIS"]
    rows = [r.split() for r in _tool(host, "ipcs", "-m").splitlines() if r.startswith("0x")]
    assert len(rows) == 1
    _key, _shmid, owner, _perms, size, nattch = rows[0][:6]
    assert int(size) == inst.shm_mb * 1024 * 1024
    assert owner == "irisowner"  # the host's passwd is bound over /etc/passwd too
    assert inst.owner_uid == 51773
    members = [p for p in host.processes().values() if p[0] == "irisdb"]
    assert int(nattch) == len(members)


def test_netstat_shows_the_established_clients_with_their_jobs(host: SandboxHost) -> None:
    rows = [r.split() for r in _tool(host, "netstat", "-tnp").splitlines() if r.startswith("tcp")]
    established = [r for r in rows if r[5] == "ESTABLISHED"]
    assert len(established) == host.connections()
    jobs = set(host.pids()["user_job"])
    on_1972 = {int(r[6].split("/")[0]) for r in established if r[3].endswith(":1972")}
    assert on_1972 == jobs


def test_irisdb_maps_the_shared_memory_it_allocated(host: SandboxHost) -> None:
    inst = host.state().instances["IRIS"]
    control = host.pids()["control"][0]
    maps = (host.proc / str(control) / "maps").read_text()
    segment = next(line for line in maps.splitlines() if "/SYSV" in line)
    start, end = (int(x, 16) for x in segment.split()[0].split("-"))
    assert end - start == inst.shm_mb * 1024 * 1024
    status = (host.proc / str(control) / "status").read_text()
    vmsize = int(re.search(r"VmSize:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    assert vmsize * 1024 >= inst.shm_mb * 1024 * 1024
    for field in ("Uid:", "Gid:", "SigCgt:", "CapEff:", "HugetlbPages:", "Threads:"):
        assert field in status


def test_psutil_public_api_reads_the_host(host: SandboxHost) -> None:
    with host.procfs():
        assert psutil.virtual_memory().total == host.total_ram_mb * 1024 * 1024
        assert psutil.swap_memory().total == 0
        assert psutil.boot_time() == int(host.state().boot_time)
        assert set(psutil.pids()) == set(host.processes())
        assert psutil.cpu_times().idle > 0
        assert psutil.cpu_stats().ctx_switches > 0
        assert {p.mountpoint for p in psutil.disk_partitions(all=True)} >= {"/", "/usr/irissys"}
        assert psutil.disk_io_counters(perdisk=True)["vda"].read_count > 0
        assert psutil.net_io_counters(pernic=True)["eth0"].bytes_recv > 0
        assert psutil.net_if_stats() is not None
        assert psutil.users() is not None
        control = psutil.Process(host.pids()["control"][0])
        assert control.uids().real == host.state().instances["IRIS"].owner_uid
        assert control.memory_info().vms >= host.state().instances["IRIS"].shm_mb * 1024 * 1024
        assert control.memory_maps()
        assert control.status() == psutil.STATUS_SLEEPING
        assert control.num_threads() >= 1
        assert control.create_time() >= psutil.boot_time()
        assert control.children()
        assert control.cmdline()[0].endswith("/bin/irisdb")
        jobs = host.pids()["user_job"]
        assert {c.laddr.port for p in jobs for c in psutil.Process(p).net_connections()} == {1972}


def test_a_real_tools_stderr_comes_back(host: SandboxHost) -> None:
    # the binding script once silenced it: every real tool's error read as ''
    real = host.run_with_procfs(["sysctl", "kernel.shmmx"], timeout=60)
    fake = host.run(["sysctl", "kernel.shmmx"])
    assert real.returncode == fake.returncode == 1
    expected = "sysctl: cannot stat /proc/sys/kernel/shmmx: No such file or directory\n"
    assert real.stderr == fake.stderr == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["-w", "kernel.sem=250 32000 100 128"],  # echoed as given, not tab-separated
        ["-n", "-w", "kernel.shmmax=8589934592"],  # -n: the value alone
        ["-q", "-w", "kernel.shmmni=8192"],
        ["-w", "kernel.shmmax"],  # no '=': invalid syntax, nothing written
    ],
)
def test_the_sandbox_sysctl_writes_as_the_real_one(tmp_path: Path, argv: list[str]) -> None:
    # each runs on a host of its own: the real sysctl writes the same value to its procfs
    with SandboxHost(tmp_path / "fake", running=False) as fake_host:
        fake = fake_host.run(["sysctl", *argv])
    with SandboxHost(tmp_path / "real", running=False) as real_host:
        real = real_host.run_with_procfs(["sysctl", *argv], timeout=60)
    assert (fake.stdout, fake.stderr, fake.returncode) == (
        real.stdout,
        real.stderr,
        real.returncode,
    )
