"""The sandbox's ``sysctl -w`` refuses and stores what the real kernel does.

The user trial: ``kernel.shmmax=-1``, ``kernel.shmmax=10**30`` and
``kernel.msgmni=3000000000`` exited 0 on the fake host. Each case runs the
real procps ``sysctl`` in a private user+IPC namespace (``unshare --user
--map-root-user --ipc``: only IPC keys, nothing on the host changes) and the
sandbox's ``sysctl`` script, and compares status, output and the stored value.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_iris.sandbox import SandboxHost

SEM = "32000\t1024000000\t500\t32000"
#: (key, value written, value the key holds first); only IPC-namespaced keys
CASES = [
    ("kernel.shmmax", "-1", "68719476736"),
    ("kernel.shmmax", str(10**30), "68719476736"),
    ("kernel.shmmax", "18446744073709551616", "68719476736"),
    ("kernel.shmmax", "18446744073709551615", "68719476736"),
    ("kernel.shmmax", "-0", "68719476736"),
    ("kernel.shmmax", "0x10", "68719476736"),
    ("kernel.shmmax", "010", "68719476736"),
    ("kernel.shmmax", "5 6", "68719476736"),
    ("kernel.shmmax", "+5", "68719476736"),
    ("kernel.shmmax", "1.5", "68719476736"),
    ("kernel.shmmax", "5abc", "68719476736"),
    ("kernel.shmall", "-5", "4194304"),
    ("kernel.shmall", "8388608", "4194304"),
    ("kernel.msgmni", "3000000000", "32000"),
    ("kernel.msgmni", "32768", "32000"),
    ("kernel.msgmni", "32769", "32000"),
    ("kernel.msgmni", "-0", "32000"),
    ("kernel.msgmax", "2147483647", "8192"),
    ("kernel.msgmax", "2147483648", "8192"),
    ("kernel.msgmnb", "-1", "16384"),
    ("kernel.shmmni", "08", "4096"),
    ("kernel.shmmni", "65536", "4096"),
    ("kernel.shm_rmid_forced", "2", "0"),
    ("kernel.shm_rmid_forced", "1", "0"),
    ("kernel.sem", "250 32000 100 128", SEM),
    ("kernel.sem", "1 2 3 40000", SEM),
    ("kernel.sem", "7 2147483648 3 4", SEM),
    ("kernel.sem", "1 2 3", SEM),
    ("kernel.sem", "-1 2 3 4", SEM),
]


def _path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def _real(key: str, value: str, first: str) -> tuple[int, str, str, str]:
    """The real sysctl in a private user+IPC namespace: status, stdout, stderr, stored value."""
    script = 'printf "%s\\n" "$3" > "$2" && sysctl -w "$1"; echo "rc=$?" >&2; cat "$2" >&2'
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--ipc", "sh", "-c", script, "sh",
         f"{key}={value}", _path(key), first],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    *err, rc, stored = done.stderr.rstrip("\n").split("\n")
    return int(rc.removeprefix("rc=")), done.stdout, "".join(e + "\n" for e in err), stored


@pytest.fixture(scope="module")
def real() -> dict[tuple[str, str, str], tuple[int, str, str, str]]:
    if not shutil.which("unshare") or not shutil.which("sysctl"):
        pytest.skip("needs unshare and procps sysctl to compare with the real kernel")
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--ipc", "true"],
                           capture_output=True, check=False)  # fmt: skip
    if probe.returncode:
        pytest.skip(f"private user+IPC namespaces not permitted: {probe.stderr!r}")
    return {case: _real(*case) for case in CASES}


def test_the_sandbox_sysctl_matches_the_real_kernel(
    tmp_path: Path, real: dict[tuple[str, str, str], tuple[int, str, str, str]]
) -> None:
    with SandboxHost(tmp_path / "h", running=False) as host:
        for key, value, first in CASES:
            host.set_sysctl(key, first)
            done = host.run(["sysctl", "-w", f"{key}={value}"])
            ours = (done.returncode, done.stdout, done.stderr, host.read_sysctl(key))
            assert ours == real[key, value, first], (key, value)


@pytest.mark.parametrize(
    ("key", "value"),
    [("kernel.shmmax", "-1"), ("kernel.shmmax", str(10**30)), ("kernel.msgmni", "3000000000")],
)
def test_the_trials_values_are_refused_and_nothing_changes(
    tmp_path: Path, key: str, value: str
) -> None:
    with SandboxHost(tmp_path / "h", running=False) as host:
        before = host.read_sysctl(key)
        done = host.run(["sysctl", "-w", f"{key}={value}"])
        assert (done.returncode, done.stdout) == (1, "")
        assert done.stderr == f'sysctl: setting key "{key}": Invalid argument\n'
        assert host.read_sysctl(key) == before
        with pytest.raises(ValueError, match=value):
            host.set_sysctl(key, value)


def test_read_only_and_uts_keys_as_measured(tmp_path: Path) -> None:
    # unshare --user --map-root-user --ipc: `sysctl -w kernel.ostype=x` says Invalid argument, exit 0;
    # unshare --uts: a 70-character hostname keeps its first 64
    with SandboxHost(tmp_path / "h", running=False) as host:
        done = host.run(["sysctl", "-w", "kernel.ostype=x"])
        assert (done.returncode, done.stderr) == (
            0, 'sysctl: setting key "kernel.ostype": Invalid argument\n')  # fmt: skip
        assert host.read_sysctl("kernel.ostype") == "Linux"
        assert host.run(["sysctl", "-w", "kernel.hostname=" + "a" * 70]).returncode == 0
        assert host.read_sysctl("kernel.hostname") == "a" * 64
