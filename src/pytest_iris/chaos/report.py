"""``--iris-report PATH``: one self-contained HTML page, a timeline per scenario.

No external file, font or script: inline CSS and SVG, so the page opens
anywhere (a CI artifact, an email). Each scenario shows its verdict, the
steady state before and after, the time to remediate, the failures in
words, and one time axis with five lanes: messages by severity (info,
warning, severe, fatal), faults, commands and tool results. Every mark has
a tooltip with its text, and a table below lists the same events.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable
from pathlib import Path

from pytest_iris.chaos.journal import Event, Journal, check_text, probes_text

_WIDTH = 960
_LEFT = 110
_RIGHT = 20
_LANE = 26
_LANES = ("fatal (3)", "severe (2)", "warning (1)", "info (0)", "faults", "commands", "results")
_SEVERITY_COLOURS = ("#8a8f98", "#d9a400", "#e0561b", "#b00020")

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d1f23;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}
.overview{margin:0 0 24px;color:#444}
section.scenario{background:#fff;border:1px solid #ddd;border-radius:6px;padding:16px;margin:0 0 24px}
section.scenario h2{font-size:18px;margin:0 0 8px}
.badge{display:inline-block;padding:2px 8px;border-radius:4px;color:#fff;font-size:12px;
 font-weight:600;vertical-align:middle;margin-right:8px}
.passed{background:#1b7f3b}.failed{background:#b00020}.error{background:#6b3fa0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}
dt{color:#666}dd{margin:0}
ul.failures{color:#b00020;margin:8px 0}
svg.timeline{display:block;margin:12px 0;background:#fcfcfd;border:1px solid #eee}
svg text{font:11px system-ui,sans-serif;fill:#555}
table{border-collapse:collapse;width:100%;font-size:12px}
td,th{border-bottom:1px solid #eee;padding:2px 6px;text-align:left;vertical-align:top}
td.t{white-space:nowrap;text-align:right;color:#666}
details{margin-top:8px}
"""


#: After layout, records on each scenario how many timeline marks are visible
#: inside the timeline (what a browser test reads back); changes nothing shown.
_SCRIPT = """
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("section.scenario").forEach(function (section) {
    var svg = section.querySelector("svg.timeline");
    var box = svg.getBoundingClientRect();
    var marks = svg.querySelectorAll(".mark");
    var shown = 0;
    marks.forEach(function (mark) {
      var r = mark.getBoundingClientRect();
      if (r.width > 0 && r.left >= box.left - 1 && r.right <= box.right + 1 &&
          r.top >= box.top - 1 && r.bottom <= box.bottom + 1) { shown += 1; }
    });
    section.dataset.marks = String(marks.length);
    section.dataset.marksShown = String(shown);
    section.dataset.timelineWidth = String(Math.round(box.width));
  });
  document.body.dataset.rendered = "yes";
});
"""


def render_report(journals: Iterable[Journal], *, title: str = "pytest-iris chaos report") -> str:
    journals = list(journals)
    passed = sum(1 for j in journals if j.passed)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="overview" id="overview">{len(journals)} scenario(s): {passed} passed, '
        f"{len(journals) - passed} not passed.</p>",
    ]
    parts += [_scenario(j) for j in journals]
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts)


def write_report(journals: Iterable[Journal], path: str | os.PathLike[str]) -> Path:
    """Write the report atomically (temp file, fsync, rename); returns the path."""
    from pytest_iris.atomic import write_atomic

    target = Path(path)
    # write_atomic: a failed write (full disk) leaves no temporary file behind
    write_atomic(target, render_report(journals), make_parents=True)
    return target


def _scenario(journal: Journal) -> str:
    e = html.escape
    ttr = (
        f"{journal.time_to_remediate_s:.1f} s (host clock)"
        if journal.time_to_remediate_s is not None
        else "no fix was applied"
    )
    c = journal.counts()
    failures = "".join(f"<li>{e(f)}</li>" for f in journal.failures)
    rows = "".join(_row(ev) for ev in journal.events)
    checks = "".join(
        f'<li class="{"ok" if p.ok else "failed"}">{"ok" if p.ok else "FAILED"} '
        f"{e(check_text(p))}</li>"
        for p in journal.checks
    )
    tracebacks = "".join(
        f'<pre class="traceback">{e(str(ev.data["traceback"]))}</pre>'
        for ev in journal.events
        if ev.kind == "error" and ev.data.get("traceback")
    )
    return (
        f'<section class="scenario" id="scenario-{e(journal.scenario)}" '
        f'data-status="{e(journal.status)}">'
        f'<h2><span class="badge {e(journal.status)}">{e(journal.status.upper())}</span>'
        f"{e(journal.scenario)}</h2>"
        f"<div>{e(journal.title)}</div>"
        "<dl>"
        f"<dt>remediator</dt><dd>{e(journal.remediator)}</dd>"
        f"<dt>steady state before</dt><dd>{e(probes_text(journal.steady_before))}</dd>"
        f"<dt>steady state after</dt><dd>{e(probes_text(journal.steady_after))}</dd>"
        f"<dt>time to remediate</dt><dd>{e(ttr)}</dd>"
        f"<dt>counts</dt><dd>{c['faults']} faults, {c['messages']} messages, "
        f"{c['commands']} commands, {c['results_ok']} results ok, "
        f"{c['results_failed']} failed</dd>"
        "</dl>"
        + (f'<ul class="failures">{failures}</ul>' if failures else "")
        + tracebacks
        + (f'<h3>checks</h3><ul class="checks">{checks}</ul>' if checks else "")
        + _timeline(journal)
        + f"<details><summary>all {len(journal.events)} events</summary>"
        f"<table><tr><th>t (s)</th><th>kind</th><th>what</th></tr>{rows}</table></details>"
        "</section>"
    )


def _row(event: Event) -> str:
    kind = event.kind if event.severity is None else f"{event.kind} (severity {event.severity})"
    return (
        f'<tr><td class="t">{event.t:.3f}</td><td>{html.escape(kind)}</td>'
        f"<td>{html.escape(event.summary)}</td></tr>"
    )


def _lane(event: Event) -> int | None:
    if event.kind == "message" and event.severity is not None:
        return 3 - event.severity
    return {"fault": 4, "rollback": 4, "command": 5, "result": 6}.get(event.kind)


def _timeline(journal: Journal) -> str:
    marked: list[tuple[Event, int]] = []
    for event in journal.events:
        lane = _lane(event)
        if lane is not None:
            marked.append((event, lane))
    end = max([ev.t for ev, _ in marked] + [1.0])
    start = min([ev.t for ev, _ in marked] + [0.0])
    span = end - start or 1.0
    height = _LANE * len(_LANES) + 30
    inner = _WIDTH - _LEFT - _RIGHT

    def x(t: float) -> float:
        return round(_LEFT + (t - start) / span * inner, 1)

    out = [
        f'<svg class="timeline" role="img" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" aria-label="timeline of {html.escape(journal.scenario)}">'
    ]
    for index, name in enumerate(_LANES):
        y = index * _LANE + _LANE / 2 + 4
        out.append(f'<text x="6" y="{y + 4}">{name}</text>')
        out.append(f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y}" y2="{y}" stroke="#eee"/>')
    axis_y = len(_LANES) * _LANE + 8
    for n in range(6):
        t = start + span * n / 5
        out.append(
            f'<text x="{x(t)}" y="{axis_y + 14}" text-anchor="middle">{t:.1f}s</text>'
            f'<line x1="{x(t)}" x2="{x(t)}" y1="4" y2="{axis_y}" stroke="#f0f0f0"/>'
        )
    for ev, lane in marked:
        y = lane * _LANE + _LANE / 2 + 4
        tip = f"<title>t={ev.t:.3f}s {html.escape(ev.kind)}: {html.escape(ev.summary)}</title>"
        cls = f'class="mark {ev.kind}" data-t="{ev.t}"'
        if ev.kind == "message":
            colour = _SEVERITY_COLOURS[ev.severity or 0]
            out.append(
                f'<circle {cls} cx="{x(ev.t)}" cy="{y}" r="4" fill="{colour}">{tip}</circle>'
            )
        elif ev.kind in ("fault", "rollback"):
            fill = "#b00020" if ev.kind == "fault" else "#999"
            px = x(ev.t)
            out.append(
                f'<polygon {cls} points="{px},{y - 7} {px - 6},{y + 5} {px + 6},{y + 5}" '
                f'fill="{fill}">{tip}</polygon>'
            )
        elif ev.kind == "command":
            out.append(
                f'<rect {cls} x="{x(ev.t) - 5}" y="{y - 5}" width="10" height="10" '
                f'fill="#1f5fbf">{tip}</rect>'
            )
        else:
            fill = "#1b7f3b" if ev.ok else "#b00020"
            out.append(
                f'<circle {cls} cx="{x(ev.t)}" cy="{y}" r="6" fill="none" stroke="{fill}" '
                f'stroke-width="3">{tip}</circle>'
            )
    out.append("</svg>")
    return "".join(out)
