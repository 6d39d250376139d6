"""Hostile input: each case ends quickly with one clear line, exit 2, and nothing left behind.

Every case runs the real ``pytest-iris`` command in a subprocess. Its timeout
is a generous deadline (a hang fails the test), not a speed assertion: the
errors come in milliseconds. Full disks and read-only directories are real
(a small tmpfs, a read-only mount) in a private mount namespace (skipped
where ``unshare`` is not permitted).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from pytest_iris import _yaml
from pytest_iris.chaos.loader import load_scenario_text
from pytest_iris.errors import ConfigError, ScenarioError
from pytest_iris.settings import load_settings
from pytester_support import CLI, run_cli, start_cli

DEADLINE_S = 60  # generous: a hang fails, a slow machine does not

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(9)
)
RECURSIVE = "name: loop\nhost: &h\n  self: *h\n"
PYTHON_TAG = "name: x\nhost: !!python/object/apply:os.system ['true']\n"

SCENARIO = """name: hostile
host:
  instance: running
  users: {users}
faults:
  - at: {at}
    {action}
expect:
  instance: running
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(cwd, *args, timeout=DEADLINE_S)


def _one_clear_line(run: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert run.returncode == 2, (run.returncode, run.stderr[-2000:])
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _nothing_left(directory: Path, *expected: str) -> None:
    assert sorted(p.name for p in directory.iterdir()) == sorted(expected)


# --- YAML --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needle"),
    [(BOMB, "anchors (&a)"), (RECURSIVE, "anchors (&h)"), (PYTHON_TAG, "python/object")],
    ids=["anchor-bomb", "recursive-anchor", "python-tag"],
)
def test_hostile_scenario_yaml_is_refused_with_file_and_line(
    tmp_path: Path, text: str, needle: str
) -> None:
    path = tmp_path / "iris_chaos_hostile.yaml"
    path.write_text(text)
    line = _one_clear_line(_cli("chaos", str(path), cwd=tmp_path), needle)
    assert f"{path}:" in line
    with pytest.raises(ScenarioError, match=r"<s>:\d+: "):
        load_scenario_text(text, "<s>")


@pytest.mark.parametrize("text", [BOMB, RECURSIVE, PYTHON_TAG], ids=["bomb", "recursive", "tag"])
def test_hostile_settings_yaml_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "iris.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"{path}:\d+: "):
        load_settings(path)


def test_a_hostile_scenario_file_does_not_stall_collection(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", iris_chaos_bomb=BOMB)
    result = pytester.runpytest_subprocess("-p", "no:randomly", timeout=DEADLINE_S)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*iris_chaos_bomb.yaml:1: YAML anchors (&a) are not allowed*"])


def test_yaml_depth_and_size_are_bounded() -> None:
    with pytest.raises(_yaml.YamlInputError, match="deeper than"):
        _yaml.load("[" * 200 + "]" * 200, "deep.yaml")
    with pytest.raises(_yaml.YamlInputError, match="larger than"):
        _yaml.load("a: " + "x" * (_yaml.MAX_BYTES + 1), "big.yaml")


# --- scenario values -------------------------------------------------------------


@pytest.mark.parametrize(
    ("users", "at", "action", "needle"),
    [
        (5000, 0, "connect: 1", "users"),
        (0, 0, "connect: 100000", "connect"),
        (0, "1e300", "connect: 1", "at"),
        (0, 0, "kernel: {kernel.shmmax: -5}", "kernel.shmmax=-5"),
        (0, 0, "kernel: {kernel.sem: '250 32000'}", "four integers"),
        (0, 0, "sequence: license_limit\n    params: {times: 1000000000}", "times"),
        (0, 0, "sequence: lock_table\n    params: {peak: abc}", "peak"),
        (0, 0, 'lines: ["a\\nb"]', "line break"),
    ],
    ids=["users", "connect", "at", "shmmax", "sem", "times", "peak", "lines-newline"],
)
def test_scenario_values_have_documented_maximums(
    tmp_path: Path, users: int, at: object, action: str, needle: str
) -> None:
    path = tmp_path / "iris_chaos_hostile.yaml"
    path.write_text(SCENARIO.format(users=users, at=at, action=action))
    run = _cli("chaos", str(path), cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert needle in run.stderr and "Traceback" not in run.stderr
    assert not list(tmp_path.glob("iris-chaos-*"))


# --- generate ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--count", "1e23"], "--count"),
        (["--count", "100000000000"], "in 0..10000000"),
        (["--rate", "1e300"], "rate"),
        (["--sequence", "license_limit:times=1000000000"], "times=1000000000: allowed 1..1000"),
        (["--sequence", "lock_table:peak=abc"], "peak='abc': must be an integer"),
        (["--sequence", "process_crash:job_type=x\ny"], "line breaks"),
        (["--sequence", "process_crash:job_type=x\n03/09/24-21:16:17:787 (1) 3 [X] forged"],
         "line breaks"),
    ],
    ids=["count-float", "count-huge", "rate", "times", "peak", "newline", "forged-entry"],
)  # fmt: skip
def test_generate_bounds(tmp_path: Path, args: list[str], needle: str) -> None:
    run = _cli("generate", *args, "-o", "out.log", cwd=tmp_path)
    _one_clear_line(run, needle)
    _nothing_left(tmp_path)


def test_generate_into_a_directory(tmp_path: Path) -> None:
    _one_clear_line(_cli("generate", "-o", str(tmp_path), cwd=tmp_path), "is a directory")
    _nothing_left(tmp_path)


def _wait_for(predicate: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_generate_leaves_no_temporary_file(tmp_path: Path, signum: int) -> None:
    child = start_cli(tmp_path, "generate", "--count", "10000000", "-o", "out.log")
    try:
        _wait_for(lambda: any(p.name.endswith(".tmp") for p in tmp_path.iterdir()), "a temp file")
        child.send_signal(signum)
        _out, err = child.communicate(timeout=DEADLINE_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 128 + signum, err
    assert err.strip().splitlines() == [
        f"pytest-iris generate: interrupted by {signal.Signals(signum).name}"
    ]
    _nothing_left(tmp_path)


# --- the system's errors: one line, nothing left ----------------------------------


def _unshare() -> str:
    found = shutil.which("unshare")
    if found is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([found, "-rm", "true"], capture_output=True, timeout=DEADLINE_S)
    if probe.returncode != 0:
        pytest.skip(f"user+mount namespaces not permitted: {probe.stderr.decode().strip()}")
    return found


@pytest.mark.parametrize(
    ("mount", "needle"),
    [("size=64k", "No space left on device"), ("ro", "Read-only file system")],
    ids=["full-disk", "read-only"],
)
def test_full_disk_and_read_only_directory(tmp_path: Path, mount: str, needle: str) -> None:
    unshare = _unshare()
    target = tmp_path / "mnt"
    target.mkdir()
    script = (
        f'mount -t tmpfs -o {mount} tmpfs "$1" && shift && "$@"; status=$?; '
        'ls -A "$MNT"; exit $status'
    )
    run = subprocess.run(
        [unshare, "-rm", "sh", "-c", script, "sh", str(target), *CLI, "generate", "--count",
         "200000", "-o", str(target / "out.log")],
        capture_output=True, text=True, timeout=DEADLINE_S, env={**os.environ, "MNT": str(target)},
    )  # fmt: skip
    _one_clear_line(run, needle, str(target))
    assert run.stdout.strip() == ""  # ls of the mount: no out.log, no temporary file


def test_a_chaos_run_stopped_by_sigterm_removes_its_directories(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    child = start_cli(tmp_path, "chaos", env={"TMPDIR": str(tmp)})
    try:
        _wait_for(lambda: any(p.name.startswith("iris-chaos-") for p in tmp.iterdir()),
                  "a chaos sandbox directory")  # fmt: skip
        child.send_signal(signal.SIGTERM)
        _out, err = child.communicate(timeout=DEADLINE_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 128 + signal.SIGTERM, err
    assert "interrupted by SIGTERM" in err and "Traceback" not in err
    assert not [p.name for p in tmp.iterdir() if p.name.startswith("iris-chaos-")]
