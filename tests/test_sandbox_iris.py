"""The sandbox's ``iris`` command against the real output it cites (docs/sources/commands.md, facts.md).

Each test takes the real block from the repository's copy of the sources,
reduces both it and the sandbox's output to their shape (dates, numbers,
paths and names replaced by placeholders) and compares them line by line.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from pytest_iris.log.reader import read_log
from pytest_iris.sandbox import SandboxHost

SOURCES = Path(__file__).resolve().parents[1] / "docs" / "sources"
#: ``globals`` all zero: IRIS sizes the buffers itself, as in every captured start
AUTO = {"config": {"globals": "0,0,0,0,0,0"}}
CTIME = r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}"


def real_block(source: str, heading: str, index: int = 0) -> list[str]:
    """Lines of the ``index``-th fenced block under the heading that starts with ``heading``."""
    text = (SOURCES / source).read_text(encoding="utf-8")
    start = text.index("\n" + heading)
    following = text[start + 1 :]
    end = re.search(r"\n#{1,3} ", following)
    section = following[: end.start()] if end else following
    blocks = re.findall(r"```\n(.*?)```", section, re.S)
    return blocks[index].rstrip("\n").split("\n")


def shape(lines: list[str]) -> list[str]:
    """Lines with what varies between hosts replaced: dates, paths, numbers, names."""
    out = []
    for line in lines:
        line = re.sub(CTIME, "<DATE>", line)
        line = re.sub(r"(?<![\w/])/[\w./-]*", "<PATH>", line)
        line = re.sub(r"\d+", "N", line)
        out.append(line)
    return out


def between(lines: list[str], first: str, last: str) -> list[str]:
    """The lines from the first that starts with ``first`` to the next that starts with ``last``."""
    i = next(n for n, line in enumerate(lines) if line.startswith(first))
    j = next(n for n in range(i, len(lines)) if lines[n].startswith(last))
    return lines[i : j + 1]


# -- iris list / qlist / all -------------------------------------------------------


def test_list_of_a_running_mirror_member_is_the_real_block(tmp_path: Path) -> None:
    # commands.md §1.1: the `mirroring:` line sits between `status:` and `state:`
    real = real_block("commands.md", "### 1.1 ")[1:]  # without the shell prompt line
    host = SandboxHost(tmp_path / "h", mirror=("Failover", "Primary"), version="2021.1").build()
    ours = host.iris("list").stdout.split("\n")[1:-1]
    assert shape(ours) == shape(real)[:-1] + shape(["        product:      InterSystems IRIS"])
    assert ours[6] == "        mirroring: Member Type = Failover; Status = Primary"
    assert ours[2] == "        versionid:    2021.1.0.215.0"


def test_stop_quietly_prints_nothing_and_list_shows_the_real_down_block(tmp_path: Path) -> None:
    # commands.md §1.2: `iris stop iris quietly` prints nothing; the stopped
    # instance loses its `mirroring:` and `state:` lines
    real = real_block("commands.md", "### 1.2 ")
    assert real[1] == "irismeister@msvm0:~$ iris list"
    host = SandboxHost(tmp_path / "h", mirror=("Failover", "Primary"), version="2021.1").build()
    stop = host.run(["iris", "stop", "IRIS", "quietly"])
    assert (stop.returncode, stop.stdout, stop.stderr) == (0, "", "")
    ours = host.iris("list").stdout.split("\n")[1:-1]
    assert shape(ours)[:-1] == shape(real[2:])[:-1]
    assert re.fullmatch(rf"        status:       down, last used {CTIME}", ours[5])


def test_list_after_a_crash_says_crashed_as_the_installation_guide(tmp_path: Path) -> None:
    # commands.md §1.9: `status: crashed, last used Sat Sep 22 08:37:32 2018`
    real = " ".join(real_block("commands.md", "### 1.9 "))
    wanted = re.search(rf"status: (crashed, last used {CTIME})", real)
    assert wanted is not None
    with SandboxHost(tmp_path / "h") as host:
        host.signal(host.pids()["control"][0], signal.SIGKILL)
        status = re.search(r"status:\s+(.*)\n", host.iris("list").stdout)
        assert status is not None and shape([status.group(1)]) == shape([wanted.group(1)])
        assert host.iris("all").stdout.splitlines()[2].startswith("dn  IRIS")
        # a forced instance is `down` (commands.md §1.8), not `crashed`
        host.iris("start", "IRIS", "quietly")
        host.iris("force", "IRIS")
        assert "status:       down, last used " in host.iris("list").stdout


def test_qlist_has_the_fourteen_documented_fields_shaped_as_real_lines(tmp_path: Path) -> None:
    # commands.md §2.1: IRIS 2018.1 running line; §2.2: the mirror variant
    running = real_block("commands.md", "### 2.1 ")[1]
    mirror = real_block("commands.md", "### 2.2 ")[5]
    assert mirror.endswith("^ok^^Failover^Primary^/mgr/config")
    with SandboxHost(tmp_path / "h", mirror=("Failover", "Primary")) as host:
        ours = host.iris("qlist").stdout.rstrip("\n").split("^")
        real = running.split("^")
        assert len(ours) == len(real) == 13  # field 14 is empty in every real line, and so is ours
        assert shape(ours[3:9]) == shape(real[3:9])  # status, cpf, three ports, health
        assert ours[8:12] == ["ok", "InterSystems IRIS", "Failover", "Primary"]
        host.iris("stop", "IRIS", "quietly")
        down = host.iris("qlist").stdout.rstrip("\n").split("^")
        assert down[3].startswith("down, last used ") and down[8:12] == [
            "",
            "InterSystems IRIS",
            "",
            "",
        ]


# -- iris start ----------------------------------------------------------------------


def test_start_of_2022_1_prints_the_real_console_block(tmp_path: Path) -> None:
    # commands.md §3.1, the first real start: from `Starting IRIS` to the alert count;
    # a clean start, as the captured one: the one alert is the missing license key
    real = between(real_block("commands.md", "### 3.1 "), "Starting IRIS", "1 alert(s)")
    # the sandbox writes no WIJ file, so it never prints `Creating a WIJ file ...` (ours)
    real = [line for line in real if not line.startswith("Creating a WIJ file")]
    with SandboxHost(
        tmp_path / "h", version="2022.1", total_ram_mb=972, running=False, cpf=AUTO
    ) as host:
        ours = host.iris("start", "IRIS").stdout.rstrip("\n").split("\n")
        alerts = [m for m in host.messages() if m.kind == "entry" and m.severity >= 2]
    assert shape(ours) == shape(real)
    # the licence block and the alert count are the capture's lines, word for word
    assert ours[-6:] == real[-6:]
    assert ours[-1] == "1 alert(s) during startup. See messages.log for details."
    # the alert the capture counts: the LMF error of a host without a key
    assert [(m.severity, m.category, m.text) for m in alerts] == [
        (
            2,
            "Utility.Event",
            "LMF Error: No valid license key. Local key file not found and LicenseID not defined.",
        )
    ]


def test_start_of_2022_1_after_a_force_counts_both_alerts(tmp_path: Path) -> None:
    with SandboxHost(tmp_path / "h", version="2022.1", cpf=AUTO) as host:
        host.iris("force", "IRIS")  # the next start also logs the abnormal shutdown
        ours = host.iris("start", "IRIS").stdout.rstrip("\n").split("\n")
    assert ours[-2:] == ["", "2 alert(s) during startup. See messages.log for details."]


def test_start_of_2023_3_names_its_license_server_line(tmp_path: Path) -> None:
    # commands.md §3.2, the real start after installation, to its alert count
    real = between(real_block("commands.md", "### 3.2 "), "Starting IRIS", "1 alert(s)")
    real = [line for line in real if not line.startswith("Creating a WIJ file")]
    with SandboxHost(tmp_path / "h", version="2023.3", running=False, cpf=AUTO) as host:
        ours = host.iris("start", "IRIS").stdout.rstrip("\n").split("\n")
    assert shape(ours) == shape(real)
    assert ours[-6:] == real[-6:]


@pytest.mark.parametrize("version", ["2020.4", "2021.1", "2023.1", "2024.1"])
def test_start_with_a_licence_key_counts_no_alert(tmp_path: Path, version: str) -> None:
    # commands.md §3.3 / facts.md §4.4: a keyed start prints no alert count
    with SandboxHost(tmp_path / "h", version=version, running=False, cpf=AUTO) as host:
        out = host.iris("start", "IRIS").stdout
        assert "alert(s)" not in out
        assert not [m for m in host.messages() if m.kind == "entry" and "LMF" in m.text]


def test_start_of_2020_4_prints_the_one_line_allocation(tmp_path: Path) -> None:
    # commands.md §3.3: `iris restart iris` in an IRIS Community 2020.x container
    real = between(real_block("commands.md", "### 3.3 "), "Starting IRIS", "Any other use")
    with SandboxHost(tmp_path / "h", version="2020.4", cpf=AUTO) as host:
        out = host.run(["iris", "stop", "IRIS", "restart"])
        assert out.returncode == 0
        started = out.stdout.split("\n")
        ours = between(started, "Starting IRIS", "Any other use")
        allocated = [m.text for m in host.messages() if m.kind == "entry" and "Allocated" in m.text]
    assert shape(ours) == shape(real)
    # messages.log gets the one-line form too (facts.md §5.2, 2020.x/2021.1)
    assert re.fullmatch(
        r"Allocated \d+MB shared memory: \d+MB global buffers, \d+MB routine buffers", allocated[-1]
    )


def test_quiet_start_of_2020_4_prints_the_licence_and_starting_iris(tmp_path: Path) -> None:
    # commands.md §1.5: `iris restart iris quietly` prints the licence lines then `Starting IRIS`
    real = [line.removeprefix("$>") for line in real_block("commands.md", "### 1.5 ", 1)]
    real = between(real, "This copy of", "Starting IRIS")
    with SandboxHost(tmp_path / "h", version="2020.4", running=False) as host:
        ours = host.iris("start", "IRIS", "quietly").stdout.rstrip("\n").split("\n")
    assert ours == real


def test_quiet_start_of_2024_1_is_the_container_console(tmp_path: Path) -> None:
    # facts.md §4.4, container output of `iris start IRIS quietly` (iris-main's [INFO] prefix removed)
    block = real_block("facts.md", "### 4.4 ", 1)
    real = [
        line.removeprefix("[INFO] ")
        for line in between(block, "[INFO] Starting Control", "Starting IRIS")
    ]
    with SandboxHost(
        tmp_path / "h", version="2024.1", total_ram_mb=6100, running=False, cpf=AUTO
    ) as host:
        ours = host.iris("start", "IRIS", "quietly").stdout.rstrip("\n").split("\n")
    assert shape(ours) == shape(real)
    assert ours[5] == "ISC RE Build Community Key"


def test_start_without_enough_memory_walks_the_failure_ladder_and_aborts(tmp_path: Path) -> None:
    # commands.md §3.6: `Unable to allocate N MB shared memory...` per rung, then the minimum;
    # §3.7: how an aborted IRIS start ends
    ladder = real_block("commands.md", "### 3.6 ")
    abort = real_block("commands.md", "### 3.7 ")[1:]
    with SandboxHost(tmp_path / "h", running=False, kernel={"kernel.shmmax": 1 << 20}) as host:
        done = host.run(["iris", "start", "IRIS"])
        log = host.log_text()
    ours = done.stdout.rstrip("\n").split("\n")
    rungs = [line for line in ours if line.startswith("Unable to allocate")]
    assert done.returncode == 1
    assert set(shape(rungs[:-1])) == set(shape(ladder[2:-3]))
    assert shape(rungs[-1:]) == shape(ladder[-1:])
    sizes = [int(re.findall(r"\d+", line)[0]) for line in rungs]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == sizes[-2]
    assert ours[-3:] == abort
    assert "Failed to allocate" in log  # messages.log keeps IRIS's own texts (facts.md §5.2)


def test_memlock_requiring_huge_pages_aborts_instead_of_standard_pages(tmp_path: Path) -> None:
    # facts.md §3.8: LargePagesRequired (64) aborts the start when huge pages cannot hold it
    cpf = {"config": {"memlock": "64", "globals": "0,0,256,0,0,0"}}
    with SandboxHost(tmp_path / "none", running=False, cpf=cpf) as host:
        done = host.run(["iris", "start", "IRIS"])
        assert done.returncode == 1 and host.status() == "down"
        assert "Insufficient Huge Pages configured for required shared memory.\n" in done.stdout
        assert done.stdout.endswith("** Startup aborted **\n")
    with SandboxHost(
        tmp_path / "enough", running=False, cpf=cpf, kernel={"vm.nr_hugepages": 400}
    ) as host:
        done = host.run(["iris", "start", "IRIS"])
        assert done.returncode == 0 and host.status() == "running"
        assert re.search(r"Allocated \d+MB shared memory using Huge Pages\n", done.stdout)


def _recovery_items(host: SandboxHost) -> tuple[list[object], list[object]]:
    items = list(read_log(host.messages_log))
    return [i for i in items if i.kind == "wij-recovery"], [i for i in items if i.kind == "problem"]


@pytest.mark.parametrize("how", ["force", "crash"])
def test_start_after_force_or_crash_writes_the_real_wij_recovery(tmp_path: Path, how: str) -> None:
    # messages_real.log lines 111-122: the recovery program's block, then the instance's lines
    real_text = (SOURCES / "messages_real.log").read_text(encoding="utf-8").split("\n")
    first = real_text.index(next(line for line in real_text if line.startswith("*** Recovery")))
    real = real_text[first - 1 : first + 11]
    with SandboxHost(tmp_path / "h", timezone="Europe/Paris") as host:
        assert _recovery_items(host) == ([], [])
        if how == "force":
            assert host.run(["iris", "force", "IRIS"]).stdout == ""
        else:
            host.signal(host.pids()["control"][0], signal.SIGKILL)
        started = host.run(["iris", "start", "IRIS"])
        blocks, problems = _recovery_items(host)
        assert started.returncode == 0 and not problems
        assert len(blocks) == 1
        ours = list(blocks[0].lines)  # type: ignore[attr-defined]
        assert shape(ours) == shape(real)
        # the block's date is the host's local time, the same second as the next stamped line
        entries = [i for i in read_log(host.messages_log) if i.kind == "entry"]
        after = next(e for e in entries if e.line > blocks[0].end_line)  # type: ignore[attr-defined]
        assert (
            after.message.text
            == "Previous system shutdown was abnormal, system forced down or crashed"
        )
        assert after.message.severity == 2
        assert host.now().strftime("%b %d") in ours[1].replace("  ", " 0")
        assert "1 alert(s) during startup. See messages.log for details." in started.stdout
        # one abnormal end, one recovery: a clean restart writes none
        host.run(["iris", "stop", "IRIS", "quietly", "restart"])
        assert len(_recovery_items(host)[0]) == 1


def test_messages_and_list_use_the_hosts_local_time(tmp_path: Path) -> None:
    utc = SandboxHost(tmp_path / "utc", running=False).build()
    tokyo = SandboxHost(tmp_path / "tokyo", running=False, timezone="Asia/Tokyo").build()
    for host in (utc, tokyo):
        host.iris("start", "IRIS")
    assert utc.clock() == tokyo.clock()
    hours = [
        int(re.search(r"since \w+ \w+ +\d+ (\d\d):", h.iris("list").stdout).group(1))
        for h in (utc, tokyo)
    ]  # type: ignore[union-attr]
    assert (hours[1] - hours[0]) % 24 == 9
    stamps = [[m.timestamp for m in h.messages()][-1] for h in (utc, tokyo)]
    assert (stamps[1] - stamps[0]).total_seconds() == 9 * 3600
    with pytest.raises(Exception, match="not an IANA time zone"):
        SandboxHost(tmp_path / "bad", timezone="Mars/Olympus")


# -- iris session / terminal -----------------------------------------------------------


@pytest.mark.parametrize("sub", ["session", "terminal"])
def test_session_prints_the_real_banner_and_runs_no_code(tmp_path: Path, sub: str) -> None:
    # commands.md §4 and §3.5: a blank line, then `Node: 39702b122ab6, Instance: IRIS`
    real = real_block("commands.md", "### 3.5 ")[-2:]
    with SandboxHost(tmp_path / "h") as host:
        done = host.run(["iris", sub, "IRIS", "-U", "%SYS"], input="w 1+1\nh\n")
        ours = done.stdout.rstrip("\n").split("\n")
        assert ours == ["", "Node: iris-host, Instance: IRIS"]
        assert shape([ours[1].replace("iris-host", "h0st")]) == shape(
            [real[1].replace("39702b122ab6", "h0st")]
        )
        assert done.returncode == 1 and "runs no ObjectScript" in done.stderr
        host.iris("stop", "IRIS", "quietly")
        assert host.run(["iris", sub, "IRIS"]).stdout == ""


def test_an_unknown_version_is_refused_naming_the_known(tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"'2019\.2' is not known .*2020\.1, 2020\.4, 2021\.1"):
        SandboxHost(tmp_path / "h", version="2019.2")


def test_the_version_sizes_the_allocation_with_its_memory_model(tmp_path: Path) -> None:
    # item 6: the log profile's memory model (pytest_iris.memory, memory_pairs.md) decides the total
    from pytest_iris.tools.cpf import shared_memory_plan

    cpf = {"config": {"globals": "0,0,100,0,0,0", "routines": "35"}}
    totals = {}
    for version, log_version in (("2020.4", "2020.1"), ("2022.1", "2022.1"), ("2023.3", "2023.1")):
        with SandboxHost(tmp_path / version, version=version, cpf=cpf, running=False) as host:
            out = host.iris("start", "IRIS").stdout
            found = re.search(r"Allocated (\d+)MB shared memory", out)
            assert found is not None
            plan = shared_memory_plan(host.cpf_path, host.total_ram_mb, version=log_version)
            assert int(found.group(1)) == plan.total_mb
            totals[version] = plan.total_mb
    assert len(set(totals.values())) == 3, totals
