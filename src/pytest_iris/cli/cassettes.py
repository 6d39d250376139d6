"""``pytest-iris cassettes check [PATH...]``: fail when a cassette holds anything key-like."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cassettes",
        help="inspect LLM cassettes",
        description="Inspect the vcrpy cassettes recorded by pytest-iris.",
    )
    commands = parser.add_subparsers(dest="cassettes_command", metavar="ACTION", required=True)
    check = commands.add_parser(
        "check",
        help="scan cassettes for API keys, tokens and credential headers",
        description="Scan every file under PATH (default: cassettes) for anything that looks "
        "like a credential. Exit 0 when clean, 1 when something was found, 2 when a PATH "
        "does not exist.",
    )
    check.add_argument("paths", nargs="*", default=["cassettes"], metavar="PATH")
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    from pytest_iris.llm.scan import scan_paths

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        for path in missing:
            print(
                f"pytest-iris cassettes check: {path}: no such file or directory", file=sys.stderr
            )
        return 2
    findings = scan_paths(*args.paths)
    for finding in findings:
        print(finding)
    files = sum(
        1 if Path(p).is_file() else sum(1 for f in Path(p).rglob("*") if f.is_file())
        for p in args.paths
    )
    if findings:
        print(
            f"{len(findings)} key-like value(s) found; re-record after fixing the scrubbing.",
            file=sys.stderr,
        )
        return 1
    print(f"{files} file(s) checked, nothing key-like found")
    return 0
