"""The IRIS-aware answers of the local server: pytest-iris's own prompts, unscripted.

A generation prompt (``Incident: NAME`` and ``Write N entries ... starting at
STAMP``, see :mod:`pytest_iris.llm.prompts`) gets entries from the template
engine; a classify prompt (``Entry:\n...``) gets a label from fixed rules.
Any other prompt is not IRIS's: :func:`iris_answer` returns None and the
server asks the test to script a reply.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pytest_iris.llm._catalog import parse_stamp, render_incident, render_text

_INCIDENT = re.compile(r"^Incident: (\S+)$", re.M)
_SEVERITY = re.compile(r"^\S+ \(\d+\) ([0-3]) ")
_COUNT = re.compile(r"^Write (\d+) entries.*starting at (\S+?)\.?$", re.M)
#: what :func:`answer` says to a prompt that is not pytest-iris's
NOT_IRIS: Final = "I only write InterSystems IRIS messages.log entries."


def iris_answer(messages: list[dict[str, Any]], seed: int) -> str | None:
    """The answer to a pytest-iris prompt, or None when the prompt is not one."""
    text = answer(messages, seed)
    return None if text == NOT_IRIS else text


def answer(messages: list[dict[str, Any]], seed: int) -> str:
    """The assistant's text for a pytest-iris prompt (generation or classification)."""
    user = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
    if user and user[0].startswith("Entry:\n"):  # a classify chat (maybe a retry of one)
        return classify_rule(user[0][len("Entry:\n") :])
    for text in reversed(user):
        found = _INCIDENT.search(text)
        if found is None:
            continue
        count_match = _COUNT.search(text)
        count = int(count_match.group(1)) if count_match else 5
        start = (
            parse_stamp(count_match.group(2))
            if count_match
            else parse_stamp("11/26/26-10:00:00:000")
        )
        try:
            return render_text(render_incident(found.group(1), min(count, 200), start, seed))
        except ValueError as error:
            return f"I cannot write that incident: {error}"
    return NOT_IRIS


def classify_rule(entry: str) -> str:
    """The fixed rules the server uses as its 'model' for classification."""
    lowered = entry.lower()
    if any(
        w in lowered for w in ("died", "terminated abnormally", "freezing", "pausing users", "hung")
    ):
        return "restart"
    if any(
        w in lowered for w in ("failed to allocate", "insufficient huge pages", "shmmax", "space")
    ):
        return "os"
    stamped = _SEVERITY.match(entry)
    if (
        stamped
        and stamped.group(1) != "0"
        and "allocated" in lowered
        and "shared memory" in lowered
    ):
        return "os"  # started only after the 1/8 reduction: the kernel limits are too low
    if any(
        w in lowered for w in ("lock table", "gmheap", "global buffer setting", "license limit")
    ):
        return "config"
    return "none"
