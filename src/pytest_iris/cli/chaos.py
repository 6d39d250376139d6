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
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO


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
        "--explore",
        type=_examples,
        default=None,
        metavar="N",
        help="property-based search instead of the library: run N generated scenarios "
        "(pytest_iris.strategies.scenarios(), needs pytest-iris[hypothesis]), shrink every "
        "failure of the invariants and write it as an iris_chaos_*.yaml file under --out; "
        "exit 1 when one was found",
    )
    parser.add_argument(
        "--out", metavar="DIR", default="iris-chaos-found", help="where --explore writes failures"
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="--explore: the search's seed (same seed, same search)",
    )
    parser.add_argument(
        "-n",
        dest="workers",
        type=_workers,
        default=0,
        metavar="W",
        help="--explore: spread the search over W pytest-xdist workers (seed ranges; 0: here)",
    )
    parser.add_argument(
        "--keep", metavar="DIR", help="build the sandbox hosts under DIR and keep them"
    )
    parser.add_argument(
        "--log-file",
        metavar="PATH",
        help="write the tools' and transports' JSON events to PATH (default: not written, so "
        "they never land between report lines)",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error", "critical"),
        default=None,
        help="minimum level of the JSON events (default: info with --log-file; without "
        "--log-file, giving a level writes the events to stderr)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_iris import logging as iris_logging
    from pytest_iris.chaos.loader import load_scenario
    from pytest_iris.chaos.remediator import preflight
    from pytest_iris.errors import InstanceError
    from pytest_iris.registry import Registry

    _check_outputs(args)  # before the log file is opened or anything runs
    log = _log_stream(args)
    try:
        settings = args.settings()
        remediator = args.remediator or settings.chaos.remediator
        registry = Registry.standalone()
        library = registry.scenario_paths
        if args.explore is not None:
            preflight(remediator, registry, settings=settings)
            from pytest_iris.cli._explore import run_explore

            return run_explore(args, remediator, registry, settings)
        if args.list:
            for name, path in sorted(library.items()):
                print(f"{name:32} {load_scenario(path).title}")
            return 0
        # a bad remediator or scenario stops the run before any host is built
        preflight(remediator, registry, settings=settings)
        chosen = _choose(args.scenarios, library)
        scenarios = [(load_scenario(path, registry), path) for path in chosen]
    except InstanceError as error:
        print(f"pytest-iris chaos: {error}", file=sys.stderr)
        if log is not None:
            log.close()
        return 2
    try:
        return _run_all(args, scenarios, remediator, registry, settings)
    finally:
        if log is not None:
            log.close()
        iris_logging.configure()


def _check_outputs(args: argparse.Namespace) -> None:
    """Every output path is checked first: a wrong path failed after the whole run.

    The directory that will hold the file (for ``--report``, the nearest one that
    exists, the rest being made) must be a directory one can create a file in, and
    the path itself must not be a directory. Nothing is left behind.
    """
    from pytest_iris.errors import ConfigError

    for option, value, makes_parents in (
        ("--report", args.report, True),
        ("--json", args.json, False),
        ("--log-file", args.log_file, False),
    ):
        if not value:
            continue
        path = Path(value)
        if path.is_dir():
            raise ConfigError(f"{option} {value}: is a directory (give a file name)")
        parent = path.parent  # as given: the message names it as the user wrote it
        if makes_parents:
            while not parent.exists() and parent != parent.parent:
                parent = parent.parent
        if not parent.is_dir():
            what = (
                f"{parent} is not a directory"
                if parent.exists()
                else f"directory {parent} does not exist"
            )
            raise ConfigError(f"{option} {value}: {what}")
        why = _not_writable(parent / path.name)
        if why is not None:
            raise ConfigError(f"{option} {value}: directory {parent}: {why}")
    if args.keep and Path(args.keep).exists() and not Path(args.keep).is_dir():
        # it said '<DIR>/<scenario>/host/.sandbox: Not a directory' when the first host was built
        raise ConfigError(
            f"--keep {args.keep}: is not a directory (give a directory to keep the hosts in)"
        )


def _not_writable(target: Path) -> str | None:
    """Why no file can be made in ``target``'s directory, or None.

    ``os.access`` answers for the permission bits only, and yes to root everywhere
    (``/proc``, a read-only mount), so the temporary the write will make
    (:func:`pytest_iris.atomic.temporary_name`, one that a later write removes
    if it is ever left) is made and removed at once.
    """
    from pytest_iris.atomic import fresh_temporary, temporary_name

    if not os.access(target.parent, os.W_OK | os.X_OK):
        return "not writable"
    try:
        with fresh_temporary(temporary_name(target)) as fd:
            os.close(fd)
    except FileExistsError:
        return None  # a file of that name can be made there, by someone
    except OSError as error:
        return f"cannot create a file there ({error.strerror or error})"
    return None


def _write_output(option: str, value: str, write: Callable[[], object]) -> None:
    """Write an output file; a failure (full disk, removed directory) names the option."""
    from pytest_iris.errors import ConfigError

    try:
        write()
    except OSError as error:
        raise ConfigError(f"{option} {value}: {error.strerror or error}") from None


def _log_stream(args: argparse.Namespace) -> TextIO | None:
    """Where the JSON events go: a file, stderr when a level is asked for, else nowhere."""
    from pytest_iris import logging as iris_logging

    if args.log_file:
        stream = open(args.log_file, "a", encoding="utf-8")  # noqa: SIM115 - closed by run()
        iris_logging.configure(level=args.log_level or "info", stream=stream)
        return stream
    if args.log_level:
        iris_logging.configure(level=args.log_level)
        return None
    stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - closed by run()
    iris_logging.configure(level="critical", stream=stream)
    return stream


def _run_all(
    args: argparse.Namespace,
    scenarios: list[tuple[Any, Path]],
    remediator: str,
    registry: Any,
    settings: Any,
) -> int:
    from pytest_iris.chaos.journal import Journal, summary_lines
    from pytest_iris.chaos.runner import ScenarioRunner

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

        _write_output(
            "--report",
            args.report,
            lambda: print(f"report: {write_report(journals, args.report)}"),
        )
    if args.json:
        from pytest_iris.atomic import write_atomic

        text = json.dumps([j.to_dict() for j in journals], indent=2, default=str) + "\n"
        _write_output("--json", args.json, lambda: write_atomic(args.json, text))
    return 0 if passed == len(journals) else 1


def _examples(text: str) -> int:
    """``--explore N``: 1..100000 examples."""
    from pytest_iris.cli._numbers import bounded_int

    return bounded_int(1, 100_000, "examples")(text)


def _seed(text: str) -> int:
    """``--seed``: 0..2**63-1."""
    from pytest_iris.cli._numbers import MAX_SEED, bounded_int

    return bounded_int(0, MAX_SEED)(text)


def _workers(text: str) -> int:
    """``-n W``: 0..256 workers."""
    from pytest_iris.cli._numbers import bounded_int

    return bounded_int(0, 256, "workers")(text)


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
