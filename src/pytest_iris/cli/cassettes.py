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
    listing = commands.add_parser(
        "list",
        help="list cassettes: interactions, status codes, where they were recorded",
        description="One line per cassette under PATH (default: cassettes). Exit 2 when a "
        "PATH does not exist or a cassette cannot be read.",
    )
    listing.add_argument("paths", nargs="*", default=["cassettes"], metavar="PATH")
    listing.set_defaults(handler=run_list)


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


def run_list(args: argparse.Namespace) -> int:
    from collections import Counter

    from pytest_iris.errors import CassetteError
    from pytest_iris.llm.storage import read_cassette

    status = 0
    for root in map(Path, args.paths):
        if not root.exists():  # as check says: a listing of nothing would look like no cassettes
            print(f"pytest-iris cassettes list: {root}: no such file or directory", file=sys.stderr)
            status = 2
            continue
        files = [root] if root.is_file() else sorted(root.rglob("*.yaml"))
        for path in files:
            try:
                data = read_cassette(path)
            except CassetteError as error:
                print(f"pytest-iris cassettes list: {error}", file=sys.stderr)
                status = 2
                continue
            codes = Counter(str(i["response"]["status"]["code"]) for i in data["interactions"])
            shown = ", ".join(f"{n}x{code}" for code, n in sorted(codes.items()))
            origin = "; ".join((data.get("metadata") or {}).get("recorded_against", ["unknown"]))
            print(
                f"{path}: {len(data['interactions'])} interaction(s) ({shown}); recorded against {origin}"
            )
    return status
