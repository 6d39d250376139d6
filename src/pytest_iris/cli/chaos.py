"""``pytest-iris chaos [SCENARIO...] [--report PATH]``: the main job.

Runs the chaos scenario library (the built-ins plus any registered by
plugins, or the names/files given) against the configured remediator, each
in its own sandbox host, prints the summary per scenario and exits 0 only
when every scenario passed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "chaos",
        help="run the chaos scenarios against the remediator in sandboxed IRIS hosts",
        description="Run chaos scenarios (built-in names, registered names or iris_chaos_*.yaml "
        "files; all registered scenarios when none is given) against a remediator. Exit 0 "
        "when every scenario passed, 1 when one failed, 2 on bad input.",
    )
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO")
    parser.add_argument(
        "--remediator",
        default=None,
        metavar="MODULE:CALLABLE",
        help="the remediator under test (default: the chaos.remediator setting, "
        "PYTEST_IRIS_CHAOS__REMEDIATOR, else the built-in 'rules')",
    )
    parser.add_argument("--report", metavar="PATH", help="write the HTML report to PATH")
    parser.add_argument("--json", metavar="PATH", help="write the journals as JSON to PATH")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--keep", metavar="DIR", help="build the sandbox hosts under DIR and keep them"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_iris import logging as iris_logging
    from pytest_iris.chaos.journal import Journal, summary_lines
    from pytest_iris.chaos.loader import load_scenario
    from pytest_iris.chaos.remediator import resolve_remediator
    from pytest_iris.chaos.runner import ScenarioRunner
    from pytest_iris.errors import InstanceError
    from pytest_iris.registry import Registry

    iris_logging.configure(level="warning")
    # like `python -m`, a remediator module in the current directory is importable
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        settings = args.settings()
        remediator = args.remediator or settings.chaos.remediator
        registry = Registry.standalone()
        library = registry.scenario_paths
        if args.list:
            for name, path in sorted(library.items()):
                print(f"{name:32} {load_scenario(path).title}")
            return 0
        # a bad spec fails before any host is built
        resolve_remediator(remediator, registry, settings=settings)
        chosen = _choose(args.scenarios, library)
        scenarios = [(load_scenario(path), path) for path in chosen]
    except InstanceError as error:
        print(f"pytest-iris chaos: {error}", file=sys.stderr)
        return 2
    journals: list[Journal] = []
    for scenario, path in scenarios:
        root = Path(args.keep) / scenario.name if args.keep else None
        runner = ScenarioRunner(
            scenario,
            remediator=remediator,
            registry=registry,
            root=root,
            source=str(path),
            settings=settings,
        )
        journal = runner.run()
        journals.append(journal)
        print("\n".join(summary_lines(journal)), flush=True)
    passed = sum(1 for j in journals if j.passed)
    print(f"\n{passed}/{len(journals)} scenarios passed with remediator {remediator!r}")
    if args.report:
        from pytest_iris.chaos.report import write_report

        print(f"report: {write_report(journals, args.report)}")
    if args.json:
        Path(args.json).write_text(
            json.dumps([j.to_dict() for j in journals], indent=2, default=str), encoding="utf-8"
        )
    return 0 if passed == len(journals) else 1


def _choose(wanted: list[str], library: dict[str, Path]) -> list[Path]:
    from pytest_iris.errors import ScenarioError

    if not wanted:
        return [library[name] for name in sorted(library)]
    out: list[Path] = []
    for item in wanted:
        if item in library:
            out.append(library[item])
        elif Path(item).is_file():
            out.append(Path(item))
        else:
            raise ScenarioError(
                f"no scenario {item!r}: not a registered name ({', '.join(sorted(library))}) "
                "and not a file"
            )
    return out
