"""``iris restart`` and ``iris view`` on the sandbox hosts, against the captures they cite.

commands.md §3.3 (``iris restart iris``: only the start's console, status 0)
and §1.5 (``iris view``: the ``iris list`` block headed ``Instance 'IRIS'``;
``iris restart iris quietly``: the licence lines then ``Starting IRIS``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_iris.sandbox import LiveSandbox, SandboxHost, namespaces_available

SOURCES = Path(__file__).resolve().parents[1] / "docs" / "sources"
AUTO = {"config": {"globals": "0,0,0,0,0,0"}}
CTIME = r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}"
GB = 1024**3


def block(heading: str, index: int = 0) -> list[str]:
    """Lines of the ``index``-th fenced block under the commands.md heading ``heading``."""
    text = (SOURCES / "commands.md").read_text(encoding="utf-8")
    section = text[text.index("\n" + heading) + 1 :]
    end = re.search(r"\n#{1,3} ", section)
    blocks = re.findall(r"```\n(.*?)```", section[: end.start()] if end else section, re.S)
    return blocks[index].rstrip("\n").split("\n")


def shape(lines: list[str]) -> list[str]:
    """Dates and numbers replaced: what varies between two hosts."""
    return [re.sub(r"\d+", "N", re.sub(CTIME, "<DATE>", line)) for line in lines]


def test_restart_prints_exactly_the_captured_console_and_restarts(tmp_path: Path) -> None:
    # commands.md §3.3: the command line, then the start console; lines 54-58 are the app's own
    captured = block("### 3.3 ")
    assert captured[0].endswith("$ iris restart iris")
    real = captured[
        1 : captured.index("Any other use is a violation of your license agreement") + 1
    ]
    with SandboxHost(tmp_path / "h", version="2020.4", cpf=AUTO, users=2) as host:
        before = host.pids()["control"]
        since = host.iris("qlist").stdout.split("^")[3]
        host.advance(60)
        out = host.iris("restart", "iris")
        assert (out.status, out.stderr) == (0, "")
        assert shape(out.stdout.rstrip("\n").split("\n")) == shape(real)
        assert out.stdout.startswith("Starting IRIS\nStarting Control Process\n")
        # the effect: stopped (users' jobs halted, as `iris stop`) and started again
        assert host.status() == "running"
        assert host.pids()["control"] != before
        assert host.connections() == 0
        assert host.iris("qlist").stdout.split("^")[3] != since
        text = host.log_text()
        assert "Journal restore not required at next startup" in text
        assert text.rindex("Enabling logons") > text.rindex("Journal restore not required")
        # the same through the bin/ script a user's subprocess runs
        script = host.run(["iris", "restart", "IRIS"])
        assert (script.returncode, shape(script.stdout.rstrip("\n").split("\n"))) == (
            0,
            shape(real),
        )


def test_restart_quietly_prints_the_licence_then_starting_iris(tmp_path: Path) -> None:
    # commands.md §1.5: the banner of `iris restart iris quietly` after the `$>#` marker
    real = [line.removeprefix("$>") for line in block("### 1.5 ", 1)]
    real = real[
        real.index("This copy of InterSystems IRIS has been licensed for use exclusively by:") :
    ]
    with SandboxHost(tmp_path / "h", version="2020.4") as host:
        out = host.iris("restart", "IRIS", "quietly")
    assert (out.status, out.stdout.split("\n")) == (0, real)


def test_restart_of_a_stopped_instance_fails_as_stop_does(tmp_path: Path) -> None:
    with SandboxHost(tmp_path / "h", running=False) as host:
        stop = host.iris("stop", "IRIS")
        out = host.iris("restart", "IRIS")
        assert (out.status, out.stdout, out.stderr) == (stop.status, "", stop.stderr)
        assert out.status == 1 and host.status() == "down"


def test_restart_needs_root_or_the_owner(tmp_path: Path) -> None:
    with SandboxHost(tmp_path / "h", user="nobody") as host:
        out = host.run(["iris", "restart", "IRIS"])
        assert out.returncode == 1 and "permission denied" in out.stderr
        assert host.status() == "running"


def test_view_is_the_list_block_headed_instance(tmp_path: Path) -> None:
    # commands.md §1.5: blank line, `Instance 'IRIS'   (default)`, the same fields as `iris list`
    captured = block("### 1.5 ")
    real = captured[captured.index("$ cat iris_view.log") + 1 : captured.index("$")]
    with SandboxHost(tmp_path / "h", version="2020.4") as host:
        out = host.run(["iris", "view"])
        listed = host.iris("list").stdout
        root = str(host.root)
    assert (out.returncode, out.stderr) == (0, "")
    ours = out.stdout.replace(root, "").rstrip("\n").split("\n")
    assert ours[1] == "Instance 'IRIS'   (default)"
    # same shape as the capture, the `state:` value aside (the capture's instance was in alert)
    assert shape(ours)[:-2] == shape(real)[:-2]
    assert ours[-1] == real[-1] and ours[-2] == "        state:        ok"
    assert out.stdout == listed.replace("Configuration 'IRIS'", "Instance 'IRIS'")


def test_view_of_an_unknown_instance_fails_as_list(tmp_path: Path) -> None:
    with SandboxHost(tmp_path / "h") as host:
        out = host.iris("view", "NOPE")
        assert (out.status, out.stderr) == (1, host.iris("list", "NOPE").stderr)


def test_live_restart_replaces_the_real_processes(tmp_path: Path) -> None:
    reason = namespaces_available()
    if reason:
        pytest.skip(f"live sandbox needs Linux namespaces: {reason}")
    with LiveSandbox(tmp_path / "live", users=2, kernel={"kernel.shmmax": 2 * GB}) as live:
        before = live.pids()["control"]
        out = live.iris("restart", "IRIS")
        assert out.status == 0, out.stderr
        assert out.stdout.startswith("Starting IRIS\n") and "Stopping" not in out.stdout
        assert live.pids()["control"] != before and live.connections() == 0
        view = live.iris("view")
        assert view.status == 0 and "\nInstance 'IRIS'   (default)\n" in view.stdout
