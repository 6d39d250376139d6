"""``pytest-iris parse FILE... [--json]``: summarise or dump messages.log files."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="summarise messages.log files, or dump their entries as JSON lines",
        description="Parse messages.log files. Exit 0 when every file was read, 2 when one "
        "could not be read. Problems (lines that could not be placed) never fail the run.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument(
        "--json",
        action="store_true",
        help='one JSON object per item on stdout, each with a "kind" ("entry", or '
        '"wij-recovery" for the recovery program\'s unstamped block); problems on stderr '
        "as FILE:LINE: reason",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_iris.errors import LogReadError

    status = 0
    for path in args.files:
        try:
            if args.json:
                _dump_json(path)
            else:
                from pytest_iris.log.summary import summarize

                print(summarize(path).render())
        except LogReadError as error:
            print(f"pytest-iris parse: {error}", file=sys.stderr)
            status = 2
    return status


def _dump_json(path: str) -> None:
    from pytest_iris.log.reader import LogBlock, LogEntry, read_log

    write = sys.stdout.write
    for item in read_log(path):
        record: dict[str, object]
        if isinstance(item, LogEntry):
            record = {
                "kind": item.kind,
                "line": item.line,
                "timestamp": item.timestamp.isoformat(timespec="milliseconds"),
                "pid": item.pid,
                "severity": int(item.severity),
                "category": item.category,
                "text": item.text,
                "continuation": list(item.continuation),
            }
        elif isinstance(item, LogBlock):
            record = {"kind": item.kind, "line": item.line, "lines": list(item.lines)}
        else:
            print(f"{path}:{item.line}: {item.reason}", file=sys.stderr)
            continue
        write(json.dumps(record, ensure_ascii=False) + "\n")
