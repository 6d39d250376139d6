"""The sandbox's iris, sysctl, sudo and kill, run as real subprocesses on its PATH."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_iris.sandbox import SandboxHost
from pytest_iris.tools.cpf import CpfFile

CTIME = r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> SandboxHost:
    return SandboxHost(tmp_path_factory.mktemp("cmd") / "host", users=1, user="irisowner").build()


def test_iris_list_has_the_real_layout(host: SandboxHost) -> None:
    out = host.run(["iris", "list"])
    assert out.returncode == 0
    lines = out.stdout.split("\n")
    assert lines[0] == ""  # the real output starts with an empty line
    assert lines[1] == "Configuration 'IRIS'   (default)"
    assert lines[2] == f"        directory:    {host.install_dir}"
    assert re.fullmatch(r"        versionid:    \d{4}\.\d\.\d\.\d+\.\d+com", lines[3])
    assert (
        lines[5] == "        conf file:    iris.cpf  (SuperServer port = 1972, WebServer = 52773)"
    )
    assert re.fullmatch(rf"        status:       running, since {CTIME}", lines[6])
    assert lines[7] == "        state:        ok"
    assert lines[8] == "        product:      InterSystems IRIS"


def test_iris_list_of_a_stopped_instance_has_no_state_line(tmp_path: Path) -> None:
    host = SandboxHost(
        tmp_path / "h",
        running=False,
        cpf={"Startup": {"DefaultPort": "51773", "WebServerPort": "52774"}},
    ).build()
    out = host.run(["iris", "list", "IRIS"]).stdout
    assert re.search(rf"\n        status:       down, last used {CTIME}\n", out)
    assert "state:" not in out
    assert "(SuperServer port = 51773, WebServer = 52774)" in out


def test_qlist_fields_as_real_scripts_cut_them(host: SandboxHost) -> None:
    line = host.run(["iris", "qlist"]).stdout
    fields = line.rstrip("\n").split("^")
    assert fields[0] == "IRIS" and fields[1] == str(host.install_dir)
    assert fields[2].endswith("com")
    assert fields[3].startswith("running, since ")
    # the eHMP recipe: ccontrol qlist | grep running | cut -d^ -f3
    piped = host.run("iris qlist | grep running | cut -d^ -f3", shell=True)
    assert piped.stdout.strip() == fields[2]


def test_iris_all_table(host: SandboxHost) -> None:
    out = host.run(["iris", "all"]).stdout.splitlines()
    assert out[0] == "    Instance          Version ID        Port   Directory"
    assert out[1] == "    -------------     ----------        ----   ---------"
    assert re.fullmatch(
        rf"up  IRIS {{14}}\d{{4}}\.\d\.\d\.\d+\.\d+ +1972   {re.escape(str(host.install_dir))}",
        out[2],
    )


def test_unknown_instance_and_subcommand_fail(host: SandboxHost) -> None:
    assert host.run(["iris", "stop", "NOPE", "quietly"]).returncode == 1
    bad = host.run(["iris", "frobnicate"])
    assert bad.returncode == 1 and "usage:" in bad.stderr


def test_sysctl_reads_like_procps(host: SandboxHost) -> None:
    assert host.run(["sysctl", "kernel.shmmni"]).stdout == "kernel.shmmni = 4096\n"
    assert host.run(["sysctl", "-n", "kernel.sem"]).stdout == "32000\t1024000000\t500\t32000\n"
    assert host.run(["sysctl", "kernel/shmmni"]).stdout == "kernel.shmmni = 4096\n"
    missing = host.run(["sysctl", "kernel.nosuch"])
    assert missing.returncode == 1
    assert (
        missing.stderr == "sysctl: cannot stat /proc/sys/kernel/nosuch: No such file or directory\n"
    )
    everything = host.run(["sysctl", "-a"]).stdout
    assert "vm.nr_hugepages = 0\n" in everything and "kernel.shmmax = " in everything


def test_sysctl_write_needs_root_and_sudo_policy_decides(tmp_path: Path) -> None:
    for policy, expected in [
        ("nopasswd", ""),
        ("password", "sudo: a password is required\n"),
        ("denied", "irisowner is not in the sudoers file.  This incident will be reported.\n"),
    ]:
        host = SandboxHost(tmp_path / policy, user="irisowner", sudo=policy, running=False).build()
        plain = host.run(["sysctl", "-w", "kernel.shmmax=68719476736"])
        assert (plain.returncode, plain.stderr) == (
            1,
            'sysctl: permission denied on key "kernel.shmmax"\n',
        )
        via = host.run(["sudo", "-n", "sysctl", "-w", "kernel.shmmax=68719476736"])
        assert via.stderr == expected
        assert (via.returncode == 0) == (policy == "nopasswd")
        want = "68719476736" if policy == "nopasswd" else "18446744073692774399"
        assert (host.proc / "sys/kernel/shmmax").read_text() == want + "\n"


def test_sysctl_sem_is_stored_tab_separated_and_bad_values_refused(tmp_path: Path) -> None:
    host = SandboxHost(tmp_path / "h", running=False).build()
    done = host.run(["sysctl", "-w", "kernel.sem=250 32000 100 128"])
    assert done.stdout == "kernel.sem = 250 32000 100 128\n"  # procps echoes what it was given
    assert host.run(["sysctl", "kernel.sem"]).stdout == "kernel.sem = 250\t32000\t100\t128\n"
    bad = host.run(["sysctl", "-w", "kernel.shmmax=lots"])
    assert (bad.returncode, bad.stderr) == (
        1,
        'sysctl: setting key "kernel.shmmax": Invalid argument\n',
    )


def test_nr_hugepages_updates_meminfo(tmp_path: Path) -> None:
    host = SandboxHost(tmp_path / "h", running=False, total_ram_mb=4096).build()
    assert host.run(["sysctl", "-w", "vm.nr_hugepages=100"]).returncode == 0
    meminfo = (host.proc / "meminfo").read_text()
    assert "HugePages_Total:     100\n" in meminfo and "HugePages_Free:      100\n" in meminfo
    # more than memory allows: the kernel allocates what it can
    host.run(["sysctl", "-w", "vm.nr_hugepages=100000"])
    assert int(host.read_sysctl("vm.nr_hugepages")) < 100000


def test_sudo_refuses_the_real_hosts_guarded_commands(host: SandboxHost) -> None:
    out = host.run(["sudo", "systemctl", "restart", "iris"])
    assert out.returncode == 1 and "refusing to run the real host's" in out.stderr
    assert host.run(["sudo", "nosuchcommand"]).stderr == "sudo: nosuchcommand: command not found\n"
    # run outside any guard (a shell script, another tool): sudo itself checks
    hidden = host.run("sudo -n sh -c '/usr/sbin/sysctl -n kernel.shmmax'", shell=True)
    assert hidden.returncode == 1 and "sandbox containment" in hidden.stderr


def test_kill_signals_fake_processes_with_permissions(tmp_path: Path) -> None:
    host = SandboxHost(tmp_path / "h", users=2, user="irisowner").build()
    job = host.pids()["user_job"][0]
    # the superserver's jobs run as irisusr (facts.md §4.5): irisowner may not signal them
    refused = host.run(["kill", str(job)])
    assert (refused.returncode, refused.stderr) == (1, f"kill: ({job}): Operation not permitted\n")
    assert host.run(["sudo", "kill", str(job)]).returncode == 0
    assert job not in host.state().processes and host.connections() == 1
    gc = host.pids()["garbage_collector"][0]  # a daemon of the instance owner
    assert host.run(["kill", str(gc)]).returncode == 0 and gc not in host.state().processes
    denied = host.run(["kill", "-9", "1"])
    assert (denied.returncode, denied.stderr) == (1, "kill: (1): Operation not permitted\n")
    assert host.run(["sudo", "kill", "-s", "STOP", "1"]).returncode == 0
    assert (host.proc / "1/stat").read_text().split()[2] == "T"
    assert host.run(["kill", "999999"]).stderr == "kill: (999999): No such process\n"


def test_merge_applies_the_file_and_logs_the_real_lines(tmp_path: Path) -> None:
    host = SandboxHost(tmp_path / "h").build()
    merge = tmp_path / "merge.cpf"
    merge.write_text("[config]\nglobals=0,0,1024,0,0,0\n# a comment\nroutines=128\n")
    out = host.run(["iris", "merge", "IRIS", str(merge)])
    assert out.returncode == 0, out.stderr
    cpf = CpfFile.read(host.cpf_path)
    assert (
        cpf.get("config", "globals") == "0,0,1024,0,0,0" and cpf.get("config", "routines") == "128"
    )
    log = host.log_text()
    assert f"[Utility.Event] Merging {merge} into {host.cpf_path}\n" in log
    assert f"[Utility.Event] No errors found in CPF file {host.cpf_path}_Merge\n" in log


def test_merge_of_an_invalid_file_changes_nothing(tmp_path: Path) -> None:
    host = SandboxHost(tmp_path / "h").build()
    before = host.cpf_path.read_bytes()
    merge = tmp_path / "bad.cpf"
    merge.write_text("[config]\nglobals=lots\n")
    out = host.run(["iris", "merge", "IRIS", str(merge)])
    assert out.returncode == 1 and "globals" in out.stderr
    assert host.cpf_path.read_bytes() == before


def test_isc_cpf_merge_file_is_merged_at_start(tmp_path: Path) -> None:
    host = SandboxHost(tmp_path / "h", running=False).build()
    merge = tmp_path / "merge.cpf"
    merge.write_text("[config]\nglobals=0,0,256,0,0,0\n")
    env = {**host.env, "ISC_CPF_MERGE_FILE": str(merge)}
    out = host.run(["iris", "start", "IRIS", "quietly"], env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "256MB global buffers" in host.log_text()


def test_stop_restart_gives_new_pids(tmp_path: Path) -> None:
    host = SandboxHost(tmp_path / "h").build()
    before = set(host.pids()["control"] + host.pids()["write_daemon"])
    assert host.run(["iris", "stop", "IRIS", "quietly", "restart"]).returncode == 0
    after = set(host.pids()["control"] + host.pids()["write_daemon"])
    assert host.status() == "running" and not before & after
    again = host.run(["iris", "start", "IRIS"])
    assert again.returncode == 1 and "already running" in again.stderr


def test_sysctl_loads_conf_files_from_the_host_root(tmp_path: Path) -> None:
    host = SandboxHost(tmp_path / "h", running=False).build()
    conf_d = host.root / "etc" / "sysctl.d"
    conf_d.mkdir(parents=True)
    (conf_d / "99-iris.conf").write_text(
        "# IRIS\nkernel.shmmax = 4294967296\nvm.nr_hugepages=128\n"
    )
    out = host.run(["sysctl", "--system"])
    assert out.returncode == 0, out.stderr
    assert f"* Applying {conf_d / '99-iris.conf'} ...\n" in out.stdout
    assert "kernel.shmmax = 4294967296\n" in out.stdout
    assert host.read_sysctl("vm.nr_hugepages") == "128"
    (host.root / "etc" / "sysctl.conf").write_text("kernel.shmmni=8192\n")
    assert host.run(["sysctl", "-p"]).stdout == "kernel.shmmni = 8192\n"
    missing = host.run(["sysctl", "-p", "/etc/nope.conf"])
    assert (missing.returncode, missing.stderr) == (
        1,
        'sysctl: cannot open "/etc/nope.conf": No such file or directory\n',
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel": {"kernel.shmmx": 1}}, "unknown tunable 'kernel.shmmx'; known: fs.file-max"),
        ({"kernel": {"kernel.shmmax": "lots"}}, "kernel.shmmax must be a non-negative number"),
        ({"users": -1}, "users=...) must be an int in 0..1000, not -1"),
        # an absurd count: it built processes until the test was killed
        ({"users": 10**9}, "users=...) must be an int in 0..1000, not 1000000000"),
        ({"web_users": 5000}, "web_users=...) must be an int in 0..1000"),
        ({"total_ram_mb": 2**40}, "total_ram_mb=...) must be an int in 1..67108864"),
        ({"sudo": "maybe"}, "sudo=...) must be 'nopasswd'"),
        ({"instance": "a b"}, "instance=...) must be a name"),
    ],
)
def test_bad_starting_state_is_refused_with_the_argument_named(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    from pytest_iris.errors import SandboxError

    with pytest.raises(SandboxError, match=re.escape(message)):
        SandboxHost(tmp_path / "h", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "h").exists(), "nothing is built from a refused state"


def test_connecting_past_the_maximum_is_refused(tmp_path: Path) -> None:
    from pytest_iris.errors import SandboxError

    host = SandboxHost(tmp_path / "h", users=2).build()
    with pytest.raises(SandboxError, match=r"connect\(users=\.\.\.\) must be an int in 0\.\.1000"):
        host.connect(10**9)
    with pytest.raises(SandboxError, match=r"connect\(web_users=\.\.\.\) .*, not -1"):
        host.connect(0, web_users=-1)
    assert host.connections() == 2


def test_a_second_instance_like_the_real_iris_list(tmp_path: Path) -> None:
    host = SandboxHost(tmp_path / "h", instances={"IRIS2": {"running": False}}, users=1).build()
    listing = host.run(["iris", "list"]).stdout
    assert listing.startswith("\nConfiguration 'IRIS'   (default)\n")  # empty first line, as real
    blocks = listing.strip("\n").split("\n\n")  # one empty line between configurations
    assert blocks[1].startswith("Configuration 'IRIS2'\n")
    assert "(SuperServer port = 51773, WebServer = 52774)" in blocks[1]
    assert re.search(rf"status:       down, last used {CTIME}\n        product:", blocks[1])
    assert host.run(["iris", "start", "IRIS2", "quietly"]).returncode == 0
    assert host.status("IRIS2") == "running" and host.status() == "running"
    qlist = host.run(["iris", "qlist"]).stdout.splitlines()
    assert [line.split("^")[0] for line in qlist] == ["IRIS", "IRIS2"]
    table = host.run(["iris", "all"]).stdout.splitlines()
    assert table[3].startswith("up  IRIS2") and " 51773  " in table[3]
    assert host.connections("IRIS2") == 0 and host.connections() == 1
    assert host.run(["iris", "stop", "IRIS", "quietly"]).returncode == 0
    assert host.status("IRIS2") == "running", "stopping one instance leaves the other"
    assert "Shutting down" not in (host.root / "opt/iris2/mgr/messages.log").read_text()


def test_same_seed_same_host_other_seed_other_pids(tmp_path: Path) -> None:
    def build(name: str, seed: int) -> tuple[dict[str, list[int]], str]:
        host = SandboxHost(tmp_path / name, users=2, seed=seed).build()
        host.iris("stop", "IRIS", "quietly", "restart")
        return host.pids(), host.log_text().replace(str(host.root), "ROOT")

    first, again, other = build("a", 7), build("b", 7), build("c", 8)
    assert first == again, "a seed gives the same PIDs and a byte-identical messages.log"
    assert first[0] != other[0]
