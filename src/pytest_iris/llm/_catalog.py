"""IRIS lines for an incident from the template engine (``pytest_iris.generation``).

Bridge: until the engine offers the incident as a sequence, entries are taken
from the real samples shipped with this package and restamped (new times
from ``start``, PIDs drawn from the seed, each original PID mapped to one new
one so daemons keep theirs).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from pytest_iris.codec import parse_message
from pytest_iris.grammar import format_message
from pytest_iris.models import IRISMessage

STAMP_FORMAT = "%m/%d/%y-%H:%M:%S:%f"


def parse_stamp(text: str) -> datetime:
    """``MM/DD/YY-HH:MM:SS:mmm`` (the log's own form) to a datetime."""
    head, _, millis = text.rpartition(":")
    return datetime.strptime(head, "%m/%d/%y-%H:%M:%S") + timedelta(milliseconds=int(millis))


def format_stamp(when: datetime) -> str:
    """A datetime in the log's ``MM/DD/YY-HH:MM:SS:mmm`` form."""
    return when.strftime("%m/%d/%y-%H:%M:%S:") + f"{when.microsecond // 1000:03d}"


def incident_lines(name: str, limit: int) -> list[str]:
    """Catalog examples for few-shot prompts (none until the engine names incidents)."""
    del name, limit
    return []


def render_incident(name: str, count: int, start: datetime, seed: int) -> list[IRISMessage]:
    """``count`` entries for incident ``name``, deterministic for ``seed``."""
    from pytest_iris.llm.prompts import incident, sample_entries

    item = incident(name)
    pool = [e for e in sample_entries() if any(k in e for k in item.keywords)]
    pool = pool or list(sample_entries())
    rng = random.Random(seed)
    pids: dict[int, int] = {}
    when = start.replace(microsecond=(start.microsecond // 1000) * 1000)
    out: list[IRISMessage] = []
    for index in range(count):
        source = parse_message(pool[index % len(pool)])
        pid = pids.setdefault(source.pid, rng.randrange(300, 60000))
        out.append(source.model_copy(update={"timestamp": when, "pid": pid}))
        when += timedelta(milliseconds=rng.randrange(1, 4000))
    return out


def render_text(messages: list[IRISMessage]) -> str:
    return "\n".join(format_message(m) for m in messages)
