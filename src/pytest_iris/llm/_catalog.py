"""IRIS lines for an incident from the template engine (``pytest_iris.generation``).

An incident named like one of the engine's sequences is rendered by
``render_sequence``; any other name falls back to the real samples shipped
with this package, restamped (new times from ``start``, PIDs drawn from the
seed, each original PID mapped to one new one so daemons keep theirs).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from pytest_iris.log.codec import parse_message
from pytest_iris.log.grammar import format_message
from pytest_iris.log.model import IRISMessage

STAMP_FORMAT = "%m/%d/%y-%H:%M:%S:%f"


def parse_stamp(text: str) -> datetime:
    """``MM/DD/YY-HH:MM:SS:mmm`` (the log's own form) to a datetime."""
    head, _, millis = text.rpartition(":")
    return datetime.strptime(head, "%m/%d/%y-%H:%M:%S") + timedelta(milliseconds=int(millis))


def format_stamp(when: datetime) -> str:
    """A datetime in the log's ``MM/DD/YY-HH:MM:SS:mmm`` form."""
    return when.strftime("%m/%d/%y-%H:%M:%S:") + f"{when.microsecond // 1000:03d}"


#: Fixed time and seed for few-shot examples, so prompts never change between runs.
EXAMPLE_START = datetime(2024, 3, 9, 21, 16, 17, 787000)


def _sequence(name: str, start: datetime, seed: int) -> list[IRISMessage] | None:
    from pytest_iris.generation import SequenceContext, render_sequence, sequence_names

    if name not in sequence_names():
        return None
    return render_sequence(name, SequenceContext(start=start, seed=seed))


def incident_lines(name: str, limit: int) -> list[str]:
    """Up to ``limit`` entries the catalog writes now for the incident's sequence."""
    messages = _sequence(name, EXAMPLE_START, 0) or []
    return [format_message(m) for m in messages[:limit]]


def write_examples(limit: int = 4) -> Path:
    """Refresh ``data/catalog_examples.json`` from the catalog (then re-record cassettes).

    Prompts use this snapshot, not the live catalog, so that editing the
    catalog does not silently change every recorded request body.
    """
    from pytest_iris.llm.prompts import INCIDENTS
    from pytest_iris.llm.storage import write_atomic

    path = Path(__file__).with_name("data") / "catalog_examples.json"
    examples = {name: incident_lines(name, limit) for name in INCIDENTS}
    write_atomic(path, json.dumps(examples, indent=1, ensure_ascii=False) + "\n")
    return path


if __name__ == "__main__":
    print(write_examples())


def render_incident(name: str, count: int, start: datetime, seed: int) -> list[IRISMessage]:
    """Up to ``count`` entries for incident ``name`` from ``start``, deterministic for ``seed``."""
    from pytest_iris.llm.prompts import incident, sample_entries

    rendered = _sequence(name, start, seed)
    if rendered is not None:
        return rendered[:count]
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
