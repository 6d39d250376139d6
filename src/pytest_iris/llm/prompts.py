"""Few-shot prompts for generating and classifying IRIS messages.

Prompts are built only from deterministic inputs (real sample entries shipped
as package data, the template catalog, the request's own arguments), so the
same request always produces the same JSON body: that is what makes a
recorded cassette replay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, Literal

Label = Literal["config", "os", "restart", "none"]
LABELS: Final[tuple[Label, ...]] = ("config", "os", "restart", "none")
#: Default first timestamp of a generated incident (in the log's own format).
DEFAULT_START: Final = "11/26/26-10:00:00:000"
_FEW_SHOT_MAX: Final = 8
_CATALOG_MAX: Final = 4


@dataclass(frozen=True, slots=True)
class Incident:
    """A kind of event the generator can be asked for, and how to find examples of it."""

    name: str
    description: str
    keywords: tuple[str, ...]


INCIDENTS: Final[dict[str, Incident]] = {
    i.name: i
    for i in (
        # Names are those of pytest_iris.generation's sequences, so the local
        # server (and a reader) can map a request to the template engine.
        Incident(
            "startup",
            "a normal instance startup: shared memory allocated, WIJ file, write daemon "
            "started, databases mounted, logons enabled",
            ("Allocated", "WIJ", "Write daemon", "Mounted database", "Enabling logons"),
        ),
        # The real clean shutdown: messages_real.log lines 137-138 (one pid, one
        # millisecond), "shutting down poorly" from documented_messages.md §3; the same
        # entries as generation's ``shutdown`` sequence and the sandbox's ``iris stop``.
        # No real log shows a line per user, daemon or database at shutdown.
        Incident(
            "shutdown",
            "a clean shutdown (iris stop): IRIS writes two information entries, from one "
            "process in the same millisecond: 'Journal restore not required at next startup' "
            "then 'Transaction rollback not required at next startup'. Only when transactions "
            "are still open does a severe 'System is shutting down poorly, because there are "
            "open transactions, or ECP failed to preserve its state' come first. No entry "
            "names the users, daemons or databases it stops",
            ("not required at next startup", "shutting down poorly"),
        ),
        Incident(
            "wij_recovery",
            "a start after a crash: the previous shutdown was abnormal and the WIJ is "
            "recovered before databases are mounted",
            ("WIJ", "Mounted database"),
        ),
        Incident(
            "shm_failure",
            "shared memory cannot be allocated at startup because kernel.shmmax or the huge "
            "page pool is too small; IRIS retries with standard pages and then reduces the "
            "request by one eighth",
            ("shared memory", "Huge Pages", "global buffers"),
        ),
        Incident(
            "write_daemon_death",
            "the write daemon dies or stops showing activity, daemons are reported dead and "
            "the system freezes",
            ("died", "terminated abnormally", "cleandeadjob", "Pausing users"),
        ),
        Incident(
            "lock_table",
            "the lock table fills up (System Monitor warns above 85% and alerts above 95%)",
            ("lock", "Monitor"),
        ),
        Incident(
            "disk_space",
            "a database disk is filling up (warning below 250 MB free, alert below 50 MB)",
            ("database", "Expansion"),
        ),
        Incident(
            "journal_space",
            "the journal directory is running out of space (warning below 250 MB, alert "
            "below 50 MB)",
            ("journal", "Journal"),
        ),
        Incident(
            "license_limit",
            "the license limit is exceeded and new logins are refused",
            ("License", "logons"),
        ),
        Incident(
            "process_crash",
            "a user process catches a signal and the parent process cleans up and halts",
            ("Process", "abnormally"),
        ),
        Incident(
            "cpf_merge",
            "a CPF merge file is applied: the CPF is validated and the [Actions] section run",
            ("Merging", "CPF", "[Actions]"),
        ),
        Incident(
            "mirror",
            "a mirror member changes role: it finds the primary, becomes backup and dejournals",
            ("mirror", "primary", "MirrorClient"),
        ),
    )
}

GENERATE_SYSTEM: Final = (
    "You write InterSystems IRIS messages.log entries. Every entry starts with one line\n"
    "MM/DD/YY-HH:MM:SS:mmm (PID) SEVERITY [Category] Message\n"
    "where SEVERITY is 0 (information), 1 (warning), 2 (severe) or 3 (fatal) and the "
    "category is IRIS's own (Generic.Event, Utility.Event, WriteDaemon.Started, ...). "
    "Continuation lines of a multi-line entry are indented. Timestamps only move forward; "
    "a daemon keeps its PID. Reply with the log lines only: no commentary, no numbering, "
    "no code fences.\nExample entries (real ones first, then from the template catalog):\n"
)
CLASSIFY_SYSTEM: Final = (
    "You decide which remediation an InterSystems IRIS messages.log entry calls for. "
    "Answer with exactly one word: config (change the CPF: globals, routines, gmheap, "
    "locksiz, jrnbufs, memlock), os (change the operating system: kernel.shmmax, "
    "kernel.shmall, huge pages, disk space), restart (restart the instance or a dead "
    "daemon), none (no action needed)."
)

ChatMessage = dict[str, str]


@cache
def sample_entries() -> tuple[str, ...]:
    """Real messages.log entries shipped with the package (see ``data/samples.json``)."""
    data = resources.files("pytest_iris.llm").joinpath("data/samples.json").read_text("utf-8")
    entries: list[str] = json.loads(data)["entries"]
    return tuple(entries)


@cache
def few_shot(incident: Incident) -> tuple[str, ...]:
    """Real entries relevant to ``incident`` (file order), topped up with catalog texts."""
    entries = sample_entries()
    picked = [e for e in entries if any(k in e for k in incident.keywords)][:_FEW_SHOT_MAX]
    for extra in entries:  # always show the format with at least a few lines
        if len(picked) >= 4:
            break
        if extra not in picked:
            picked.append(extra)
    return tuple(picked) + catalog_examples(incident)


@cache
def _catalog_snapshot() -> dict[str, list[str]]:
    data = resources.files("pytest_iris.llm").joinpath("data/catalog_examples.json")
    snapshot: dict[str, list[str]] = json.loads(data.read_text("utf-8"))
    return snapshot


def catalog_examples(incident: Incident) -> tuple[str, ...]:
    """Entries the template catalog writes for the incident (fixed seed and time).

    Read from a snapshot (``python -m pytest_iris.llm._catalog`` refreshes it)
    so that catalog edits change recorded request bodies only on purpose.
    """
    return tuple(_catalog_snapshot().get(incident.name, ())[:_CATALOG_MAX])


def incident(name: str) -> Incident:
    """The incident called ``name``; a ``ValueError`` listing the known ones otherwise."""
    try:
        return INCIDENTS[name]
    except KeyError:
        known = ", ".join(sorted(INCIDENTS))
        raise ValueError(f"unknown incident {name!r}; known incidents: {known}") from None


def generate_messages(item: Incident, count: int, start: str = DEFAULT_START) -> list[ChatMessage]:
    """The chat for a first generation attempt."""
    examples = "\n".join(few_shot(item))
    return [
        {"role": "system", "content": GENERATE_SYSTEM + examples},
        {
            "role": "user",
            "content": (
                f"Incident: {item.name}\nDescription: {item.description}\n"
                f"Write {count} entries for this incident, in time order, starting at {start}."
            ),
        },
    ]


def retry_messages(
    previous: list[ChatMessage], answer: str, problems: list[str], count: int
) -> list[ChatMessage]:
    """The chat for the next attempt: the bad answer and what was wrong with it."""
    listed = "\n".join(f"- {p}" for p in problems[:10])
    return [
        *previous,
        {"role": "assistant", "content": answer},
        {
            "role": "user",
            "content": (
                "These lines are not valid messages.log entries:\n"
                f"{listed}\nReply again with all {count} entries, every one valid."
            ),
        },
    ]


def classify_messages(entry: str) -> list[ChatMessage]:
    """The chat for the classify call: no examples, so it stays short and cheap."""
    return [
        {"role": "system", "content": CLASSIFY_SYSTEM},
        {"role": "user", "content": f"Entry:\n{entry}"},
    ]


def classify_retry_messages(previous: list[ChatMessage], answer: str) -> list[ChatMessage]:
    """The classify chat again, with the answer that was not one of the labels."""
    return [
        *previous,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "Answer with exactly one word: config, os, restart or none."},
    ]
