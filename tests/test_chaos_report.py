"""The HTML report: self-contained, one timeline per scenario, checked in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_iris.chaos.journal import Event, Journal, Probe
from pytest_iris.chaos.report import render_report, write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _journal(name: str, status: str, failures: list[str]) -> Journal:
    events = [
        Event(0.0, "fault", "kernel kernel.shmmax=33554432"),
        Event(
            1.5, "message", "[Generic.Event] Failed to allocate 1099MB shared memory", severity=2
        ),
        Event(1.6, "message", "[Generic.Event] An error was detected <startup>", severity=3),
        Event(2.0, "command", "kernel.apply(shared_memory_mb=1099)"),
        Event(2.0, "result", "kernel.apply: success", ok=True),
        Event(3.0, "message", "[Generic.Event] Allocated 1099MB shared memory", severity=0),
        Event(3.5, "result", "restart.start: failure", ok=False),
        Event(4.0, "note", "not on the timeline"),
    ]
    return Journal(
        scenario=name,
        title=f"title of {name}",
        remediator="rules",
        status=status,  # type: ignore[arg-type]
        events=events,
        steady_before=[Probe("instance running", True, "instance IRIS is running")],
        steady_after=[Probe("instance running", status == "passed", "instance IRIS is down")],
        failures=failures,
        time_to_remediate_s=2.0,
    )


JOURNALS = [
    _journal("shm_exhaustion_at_startup", "passed", []),
    _journal("restart_with_users_connected", "failed", ["expected 5 users, found 0 <sic>"]),
]
MARKED = 7  # every event but the note


def test_report_is_self_contained_and_escaped() -> None:
    page = render_report(JOURNALS)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["']?(https?:|//|/)""", page)  # nothing fetched
    assert "&lt;startup&gt;" in page and "<startup>" not in page
    assert "expected 5 users, found 0 &lt;sic&gt;" in page
    assert page.count('class="mark ') == 2 * MARKED
    assert "2 scenario(s): 1 passed, 1 not passed." in page


def test_write_report_is_atomic(tmp_path: Path) -> None:
    target = write_report(JOURNALS, tmp_path / "out" / "report.html")
    assert target.read_text(encoding="utf-8") == render_report(JOURNALS)
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def _browser() -> str | None:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip(f"no headless browser found (looked for {', '.join(BROWSERS)})")
    page = write_report(JOURNALS, tmp_path / "report.html")
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=2000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    dom = done.stdout
    assert 'data-rendered="yes"' in dom, done.stderr[-2000:]
    sections = re.findall(r'<section class="scenario" id="scenario-([a-z_]+)"([^>]*)>', dom)
    assert [name for name, _ in sections] == [j.scenario for j in JOURNALS]
    for _name, attributes in sections:
        shown = re.search(r'data-marks-shown="(\d+)"', attributes)
        total = re.search(r'data-marks="(\d+)"', attributes)
        width = re.search(r'data-timeline-width="(\d+)"', attributes)
        assert shown and total and width, attributes
        # every fault, message, command and result is drawn inside the timeline
        assert int(total.group(1)) == MARKED
        assert int(shown.group(1)) == MARKED
        assert int(width.group(1)) >= 960  # laid out at full size (plus its border)
    assert 'data-status="failed"' in dom and ">FAILED</span>" in dom
    assert "steady state after" in dom
