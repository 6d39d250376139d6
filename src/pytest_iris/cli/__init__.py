"""``pytest-iris`` command line: one subcommand per module in :data:`COMMANDS`.

Each module defines ``register(subparsers)``, which adds its parser and sets
``handler`` (a callable taking the parsed arguments and returning the exit
status). Modules load only when the CLI runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "pytest_iris.cli.chaos",
    "pytest_iris.cli.parse",
    "pytest_iris.cli.generate",
    "pytest_iris.cli.schema",
    "pytest_iris.cli.cpf",
    "pytest_iris.cli.kernel",
    "pytest_iris.cli.restart",
    "pytest_iris.cli.cassettes",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-iris",
        description="Realistic InterSystems IRIS logs, a fake IRIS host and chaos tests.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 failure, 2 bad input)."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except BrokenPipeError:  # e.g. `pytest-iris parse --json big.log | head`
        sys.stderr.close()
        return 0
    return status
