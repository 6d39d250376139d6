"""Lines per second writing a generated messages.log, against two baselines.

Run: ``.venv/bin/python bench/generate.py [--lines 1000000]``

All three write the same line shape (``MM/DD/YY-HH:MM:SS:mmm (PID) SEV
[Category] text`` with a user, an address, a namespace and a number in the
text) to a file in the same process:

* ``f-string``: a plain loop, ``random`` calls and an f-string per line;
* ``faker``: the same loop calling Faker for each line's free-form fields;
* ``LogStream``: pytest-iris's engine (pools filled by Faker up front,
  pre-rendered variants, batched draws, timestamp tables), with every
  sequence scheduled in it.

Targets (issue 3): LogStream >= 10x the Faker loop and >= 2x the f-string loop.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

CATEGORIES = ("Utility.Event", "Generic.Event", "System.Monitor", "Database.StartExpansion")


def fstring_loop(path: Path, lines: int) -> None:
    rng = random.Random(1)
    t = datetime(2024, 3, 9, 21, 16, 17)
    users = ["alice", "bob", "carol", "dave"]
    with open(path, "w", encoding="utf-8") as out:
        for _ in range(lines):
            t += timedelta(milliseconds=rng.randint(0, 40_000))
            out.write(
                f"{t:%m/%d/%y-%H:%M:%S}:{t.microsecond // 1000:03d} ({rng.randint(300, 99999)}) "
                f"{rng.choice((0, 0, 0, 1))} [{rng.choice(CATEGORIES)}] Login failure for user "
                f"{rng.choice(users)} from 10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)} in "
                f"namespace USER{rng.randint(1, 9)}\n"
            )


def faker_loop(path: Path, lines: int) -> None:
    from faker import Faker

    fake = Faker()
    fake.seed_instance(1)
    rng = random.Random(1)
    t = datetime(2024, 3, 9, 21, 16, 17)
    with open(path, "w", encoding="utf-8") as out:
        for _ in range(lines):
            t += timedelta(milliseconds=rng.randint(0, 40_000))
            out.write(
                f"{t:%m/%d/%y-%H:%M:%S}:{t.microsecond // 1000:03d} ({rng.randint(300, 99999)}) "
                f"{rng.choice((0, 0, 0, 1))} [{rng.choice(CATEGORIES)}] Login failure for user "
                f"{fake.user_name()} from {fake.ipv4()} in namespace "
                f"{fake.word().upper()}\n"
            )


def logstream(path: Path, lines: int) -> None:
    from pytest_iris.generation import LogStream, sequence_names

    LogStream(1, count=lines, sequences=sequence_names(), rate=0.05).write(path)


def measure(name: str, run: Callable[[Path, int], None], lines: int, directory: Path) -> float:
    path = directory / f"{name}.log"
    started = time.perf_counter()
    run(path, lines)
    elapsed = time.perf_counter() - started
    with open(path, "rb") as handle:
        written = sum(1 for _ in handle)
    assert written == lines, (name, written)
    os.unlink(path)
    rate = lines / elapsed
    print(f"{name:<10} {lines:>9,} lines  {elapsed:7.2f} s  {rate:>12,.0f} lines/s", flush=True)
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--faker-lines", type=int, default=50_000,
                        help="lines for the slow Faker loop (its rate is per line, so fewer "
                             "lines measure the same thing; default 50,000)")  # fmt: skip
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        ours = measure("LogStream", logstream, args.lines, directory)
        plain = measure("f-string", fstring_loop, args.lines, directory)
        faker = measure("faker", faker_loop, min(args.faker_lines, args.lines), directory)
    print(f"LogStream / f-string loop: {ours / plain:5.1f}x  (target >= 2x)")
    print(f"LogStream / Faker loop:    {ours / faker:5.1f}x  (target >= 10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
