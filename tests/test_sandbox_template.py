"""Starting hosts built once and copied (``HostTemplates``): a copy is a build, and independent."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pytest_iris.chaos.loader import load_scenario
from pytest_iris.chaos.runner import ScenarioRunner
from pytest_iris.registry import Registry
from pytest_iris.sandbox import SandboxHost
from pytest_iris.sandbox.template import HostTemplates, HostTree

SPECS: dict[str, dict[str, Any]] = {
    "running with users": {"users": 3, "web_users": 1, "seed": 11},
    "down, small shmmax": {"running": False, "kernel": {"kernel.shmmax": 33554432}, "seed": 4},
    "two instances, other version": {
        "instances": {"TEST": {"running": True, "users": 1}},
        "version": "2024.1",
        "cpf": {"config": {"globals": "0,0,300,0,0,0"}},
    },
}


def _tree(root: Path) -> dict[str, tuple[str, bytes, int, Any]]:
    """Every entry under ``root`` with the root written as ``<ROOT>``: comparable across places."""
    mark = str(root).encode()
    return {
        e.rel: (e.kind, e.data.replace(mark, b"<ROOT>"), e.mode, e.owner)
        for e in HostTree.read(root).entries
    }


def _copied(templates: HostTemplates, root: Path, **spec: Any) -> SandboxHost:
    """A host ``templates`` filled by copying (it has seen the same starting host before)."""
    before = templates.copies
    host = templates.provide(SandboxHost(root, **spec))
    assert templates.copies == before + 1, "the host was built in place, not copied"
    return host


@pytest.mark.parametrize("name", SPECS)
def test_a_copy_is_the_same_tree_as_a_build_in_its_place(tmp_path: Path, name: str) -> None:
    spec = SPECS[name]
    templates = HostTemplates(tmp_path / "templates")
    first = templates.provide(SandboxHost(tmp_path / "first" / "host", **spec))
    assert (templates.builds, templates.copies) == (1, 0)  # first sight: built in place
    copy = _copied(templates, tmp_path / "copy" / "host", **spec)
    built = SandboxHost(tmp_path / "built" / "host", **spec).build()
    assert _tree(copy.root) == _tree(built.root) == _tree(first.root)
    assert str(tmp_path / "templates") not in (copy.root / "bin" / "iris").read_text()
    # the copy works as its own host: its bin/ scripts and state name its root
    with copy:
        assert copy.run(["iris", "list"]).returncode == 0
        assert copy.status() == built.status()


def test_nothing_a_test_does_to_its_copy_reaches_the_template_or_the_next_copy(
    tmp_path: Path,
) -> None:
    spec = SPECS["running with users"]
    templates = HostTemplates(tmp_path / "templates")
    templates.provide(SandboxHost(tmp_path / "first" / "host", **spec))
    used = _copied(templates, tmp_path / "used" / "host", **spec)
    template_dirs = list((tmp_path / "templates").iterdir())
    assert len(template_dirs) == 1
    template_root = template_dirs[0] / "host"
    pristine = _tree(template_root)
    assert _tree(used.root) == pristine
    # no file of the copy is a file of the template (no hard links, no shared inodes)
    inodes = {os.lstat(p).st_ino for p in template_root.rglob("*")}
    assert not inodes & {os.lstat(p).st_ino for p in used.root.rglob("*")}
    assert all(os.lstat(p).st_nlink == 1 for p in used.root.rglob("*") if p.is_file())

    with used:  # what tests do to hosts: stop, tune, edit, log, connect, move the clock
        used.disconnect()
        assert used.iris("stop", "IRIS", "quietly").status == 0
        assert used.run(["sudo", "sysctl", "-w", "vm.nr_hugepages=7"]).returncode == 0
        with used.cpf_path.open("a", encoding="utf-8") as fh:
            fh.write("[Extra]\nAdded=1\n")
        with used.messages_log.open("a", encoding="utf-8") as fh:
            fh.write("garbage written by a test\n")
        assert used.iris("start", "IRIS", "quietly").status == 0
        used.set_sysctl("kernel.shmmax", 1 << 20)
        used.connect(users=5)
        used.advance(3600)
    (used.root / "usr" / "irissys" / "mgr" / "messages.log").chmod(0o600)
    (used.root / "etc" / "passwd").unlink()
    assert _tree(used.root) != pristine

    assert _tree(template_root) == pristine
    following = _copied(templates, tmp_path / "next" / "host", **spec)
    assert _tree(following.root) == pristine
    with following:
        assert following.status() == "running"
        assert following.connections() == spec["users"] + spec["web_users"]
        assert following.read_sysctl("kernel.shmmax") != str(1 << 20)


def test_each_distinct_starting_host_has_its_own_template(tmp_path: Path) -> None:
    templates = HostTemplates(tmp_path / "templates")
    for n in range(3):
        for seed in (1, 50):
            templates.provide(SandboxHost(tmp_path / f"h{n}-{seed}" / "host", seed=seed))
    assert (templates.builds, templates.copies) == (2, 4)
    assert len(list((tmp_path / "templates").iterdir())) == 2
    # the seed varies PIDs: a copy keeps those of its own starting host
    one, two = (sorted(SandboxHost(tmp_path / f"h2-{s}" / "host").processes()) for s in (1, 50))
    assert one == sorted(SandboxHost(tmp_path / "h0-1" / "host").processes())
    assert one != two


def test_a_root_no_file_can_name_plainly_is_built_in_place(tmp_path: Path) -> None:
    templates = HostTemplates(tmp_path / "templates")
    for n in range(2):
        host = templates.provide(SandboxHost(tmp_path / f"with space {n}" / "host"))
        assert host.built
    assert (templates.builds, templates.copies) == (2, 0)
    assert not (tmp_path / "templates").exists()


@pytest.mark.parametrize("name", ["license_limit", "restart_with_users_connected"])
def test_a_scenario_on_a_copied_host_journals_what_it_does_on_a_built_one(
    tmp_path: Path, name: str
) -> None:
    """The runner with templates: same events, checks and verdict (restart runs bin/ scripts)."""
    registry = Registry.standalone()
    scenario = load_scenario(registry.scenario_paths[name])
    templates = HostTemplates(tmp_path / "templates")

    def play(where: str, with_templates: bool) -> dict[str, Any]:
        runner = ScenarioRunner(
            scenario,
            registry=registry,
            root=tmp_path / where,
            templates=templates if with_templates else None,
        )
        journal = runner.run().to_dict()
        assert journal["status"] == "passed", journal["failures"]
        for event in journal["events"]:
            event["data"].pop("id", None)  # a command's id is random (uuid4)
        return {k: v for k, v in journal.items() if k != "wall_s"}

    built = play("built", False)
    play("seen", True)  # first sight: built in place
    assert templates.copies == 0
    copied = play("copied", True)
    assert templates.copies == 1
    assert copied == built


SHARED = """
import sys
from pathlib import Path
from pytest_iris.sandbox import SandboxHost
from pytest_iris.sandbox.template import HostTemplates
shared, mine = Path(sys.argv[1]), Path(sys.argv[2])
templates = HostTemplates(shared)
for n in range(3):
    templates.provide(SandboxHost(mine / f"h{n}" / "host", users=1, seed=9))
print(templates.builds, templates.copies)
"""


def test_processes_sharing_a_directory_build_each_template_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    shared = tmp_path / "shared"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SHARED, str(shared), str(tmp_path / f"proc{n}")],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outputs == [["1", "2"]] * 3
    assert len(list(shared.glob("*/host"))) == 1
    fresh = _tree(SandboxHost(tmp_path / "fresh" / "host", users=1, seed=9).build().root)
    for n in range(3):
        for h in range(3):
            assert _tree(tmp_path / f"proc{n}" / f"h{h}" / "host") == fresh
