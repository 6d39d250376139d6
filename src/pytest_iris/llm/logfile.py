"""A messages.log file written from LLM output."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from pytest_iris.llm._catalog import format_stamp, parse_stamp
from pytest_iris.llm.generator import LLMGenerator
from pytest_iris.llm.prompts import DEFAULT_START
from pytest_iris.llm.storage import write_atomic


def write_incidents(
    generator: LLMGenerator, path: Path, incidents: Sequence[str], count: int
) -> Path:
    """Generate ``count`` entries per incident (concurrently, an hour apart), write them in order.

    Written atomically, so a failure leaves no half-written log.
    """

    first = parse_stamp(DEFAULT_START)
    starts = [format_stamp(first + timedelta(hours=i)) for i in range(len(incidents))]

    async def all_incidents() -> list[str]:
        calls = [
            generator.generate(name, count, start=start)
            for name, start in zip(incidents, starts, strict=True)
        ]
        return [g.text for g in await generator.gather(calls)]

    texts = generator.run(all_incidents())
    write_atomic(path, "".join(texts))
    return path
