"""``pytest-iris generate`` and ``pytest-iris sequences``: seeded IRIS logs from the shell.

The committed sample ``log_samples/messages.log`` was made with::

    pytest-iris generate --seed 20240309 --count 50000 --rate 0.02 \\
        --sequence startup --sequence cpf_merge --sequence backup \\
        ... -o log_samples/messages.log

(the exact command is in docs/logs.md, Command line).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write a realistic, seeded messages.log (noise plus named sequences)",
        description="Generate IRIS messages.log lines. The same arguments give the same bytes "
        "on every machine. Sequences take parameters as NAME:key=value,key=value and a "
        "position as NAME@0.5 (fraction of the log); see `pytest-iris sequences`.",
    )
    from pytest_iris._limits import MAX_LINES, MAX_RATE
    from pytest_iris.cli._numbers import MAX_SEED, bounded_float, bounded_int

    parser.add_argument("--seed", type=bounded_int(0, MAX_SEED), default=0, help="seed (default 0)")
    parser.add_argument(
        "--count",
        type=bounded_int(0, MAX_LINES),
        default=1000,
        help=f"lines to write (0..{MAX_LINES}, default 1000)",
    )
    parser.add_argument(
        "--sequence",
        action="append",
        default=None,
        metavar="NAME",
        help="a sequence to include, repeatable, in order (default: startup, when "
        "--count leaves room for it; otherwise background noise only)",
    )
    parser.add_argument("--no-sequences", action="store_true", help="background noise only")
    parser.add_argument("--start", default=None, metavar="ISO", help="time of the first line")
    parser.add_argument(
        "--rate",
        type=bounded_float(0, MAX_RATE, above_low=True),
        default=0.02,
        metavar="R",
        help=f"noise lines per second of log time (above 0, at most {MAX_RATE:g})",
    )
    parser.add_argument(
        "--jitter", type=bounded_float(0, 1), default=0.8, help="0 steady .. 1 Poisson clock"
    )
    parser.add_argument("--install-dir", default="/usr/irissys", help="install directory in paths")
    parser.add_argument("--instance", default="IRIS", help="instance name")
    from pytest_iris.log.versions import DEFAULT_VERSION, VERSIONS

    parser.add_argument(
        "--version",
        choices=VERSIONS,
        default=DEFAULT_VERSION,
        help=f"product version whose log shapes to write (default {DEFAULT_VERSION}, the newest)",
    )
    parser.add_argument(
        "-o", "--output", default=None, metavar="FILE", help="write to FILE (atomic)"
    )
    parser.set_defaults(handler=run)

    listing = subparsers.add_parser(
        "sequences", help="list the named log sequences with a one-line description each"
    )
    listing.set_defaults(handler=run_sequences)


#: the default startup sequence is left out of logs shorter than this
_ROOM_FOR_STARTUP = 50


def run(args: argparse.Namespace) -> int:
    from pytest_iris.errors import ConfigError
    from pytest_iris.generation.factory import parse_start
    from pytest_iris.generation.stream import LogStream

    if args.no_sequences:
        sequences: list[str] = []
    elif args.sequence:
        sequences = args.sequence
    else:
        # A log usually opens with the instance starting; a few lines cannot hold it.
        sequences = ["startup"] if args.count >= _ROOM_FOR_STARTUP else []
    import os

    if args.output and os.path.isdir(args.output):
        print(f"pytest-iris generate: -o {args.output}: is a directory (give a file name)",
              file=sys.stderr)  # fmt: skip
        return 2
    parent = os.path.dirname(args.output or "") or "."
    if args.output and not os.path.isdir(parent):
        # a mistyped path is an error, not a new directory tree (the docs promise none)
        why = ("is not a directory" if os.path.exists(parent)
               else "does not exist (create it first)")  # fmt: skip
        print(f"pytest-iris generate: -o {args.output}: {parent} {why}", file=sys.stderr)
        return 2
    try:
        stream = LogStream(
            args.seed,
            count=args.count,
            sequences=sequences,
            start=parse_start(args.start),
            rate=args.rate,
            jitter=args.jitter,
            install_dir=args.install_dir,
            instance=args.instance,
            version=args.version,
        )
        if args.output:
            stream.write(args.output)
        else:
            write = sys.stdout.write
            for chunk in stream.chunks():
                write(chunk)
    except ConfigError as error:
        print(f"pytest-iris generate: {error}", file=sys.stderr)
        return 2
    return 0


def run_sequences(args: argparse.Namespace) -> int:
    from pytest_iris.generation.sequences import SEQUENCES

    width = max(len(name) for name in SEQUENCES)
    for name, seq in SEQUENCES.items():
        print(f"{name:<{width}}  {seq.description}")
        if seq.params:
            params = ", ".join(f"{k}={v!r}" for k, v in seq.params.items())
            print(f"{'':<{width}}  params: {params}")
    return 0
