"""Turn a model's answer into IRIS messages with the project's own parser."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_iris.log.model import IRISMessage
from pytest_iris.log.reader import LogEntry, LogProblem, parse_text


@dataclass(frozen=True, slots=True)
class Checked:
    """The valid entries of one answer and a description of every invalid line."""

    messages: tuple[IRISMessage, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return bool(self.messages) and not self.problems


def check_answer(answer: str) -> Checked:
    """Parse ``answer`` as messages.log text; code fences and surrounding blanks are dropped."""
    lines = [line for line in answer.split("\n") if not line.lstrip().startswith("```")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    messages: list[IRISMessage] = []
    problems: list[str] = []
    for item in parse_text("\n".join(lines)):
        if isinstance(item, LogEntry):
            messages.append(item.message)
        elif isinstance(item, LogProblem):
            raw = item.raw.decode("utf-8", "replace")[:160]
            problems.append(f"line {item.line}: {item.reason}: {raw!r}")
        else:
            problems.append(f"line {item.line}: an unstamped {item.kind} block is not a message")
    if not lines:
        problems.append("the answer holds no lines")
    return Checked(tuple(messages), tuple(problems))
