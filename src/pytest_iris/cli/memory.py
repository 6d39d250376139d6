"""``pytest-iris memory``: the shared memory an IRIS version allocates, and the lines it logs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    from pytest_iris.log.versions import DEFAULT_VERSION, VERSIONS

    parser = subparsers.add_parser(
        "memory",
        help="the shared memory an IRIS configuration allocates, and the lines IRIS logs",
        description="Plan the startup allocation for [config] values (0 = automatic, as in "
        "the CPF) with the chosen version's rules, and print the lines IRIS logs about it.",
    )
    from pytest_iris._limits import MAX_RAM_MB
    from pytest_iris.cli._numbers import bounded_int

    # each size is at most a host's RAM (64 TiB, pytest_iris._limits.MAX_RAM_MB)
    mb = bounded_int(0, MAX_RAM_MB)
    parser.add_argument("--globals-mb", type=mb, default=0, metavar="MB")
    parser.add_argument("--routines-mb", type=mb, default=0, metavar="MB")
    parser.add_argument("--jrnbufs-mb", type=mb, default=0, metavar="MB")
    parser.add_argument(
        "--gmheap-kb", type=bounded_int(0, MAX_RAM_MB * 1024), default=0, metavar="KB"
    )
    parser.add_argument("--ram-mb", type=mb, default=0, metavar="MB")
    parser.add_argument(
        "--version",
        choices=VERSIONS,
        default=DEFAULT_VERSION,
        help=f"product version whose rules apply (default {DEFAULT_VERSION})",
    )
    parser.add_argument("--huge-pages", action="store_true", help="the allocation used huge pages")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_iris.log.grammar import format_tail
    from pytest_iris.log.versions import profile
    from pytest_iris.memory import (
        CATEGORY,
        SEVERITY_ALLOCATED,
        allocation_lines,
        auto_globals_message,
        plan_shared_memory,
    )

    if args.globals_mb == 0 and args.ram_mb == 0:
        print(
            "pytest-iris memory: --globals-mb 0 (automatic) needs --ram-mb "
            "(IRIS takes 25% of physical memory)",
            file=sys.stderr,
        )
        return 2
    plan = plan_shared_memory(
        args.globals_mb,
        args.routines_mb,
        args.jrnbufs_mb,
        args.gmheap_kb,
        args.ram_mb,
        version=args.version,
    )
    category = CATEGORY if profile(args.version).categories else None
    texts = list(allocation_lines(plan, version=args.version, huge_pages=args.huge_pages))
    if args.globals_mb == 0:
        texts.insert(0, auto_globals_message())
    lines = [format_tail(SEVERITY_ALLOCATED, category, text) for text in texts]
    if args.json:
        record = {
            "version": args.version,
            "total_mb": plan.total_mb,
            **plan.parts_mb(),
            "lines": lines,
        }
        print(json.dumps(record))
    else:
        print("\n".join(lines))
    return 0
