"""``pytest-iris`` command line: one subcommand per module in :data:`COMMANDS`.

Each module defines ``register(subparsers)``, which adds its parser and sets
``handler`` (a callable taking the parsed arguments and returning the exit
status). Modules load only when the CLI runs. Settings (environment and
``$PYTEST_IRIS_CONFIG``) are loaded once, here, the first time a handler
calls ``args.settings()``; handlers pass them down to the library.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_iris.settings import IrisSettings

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
    args.settings = _settings_once()
    try:
        status: int = args.handler(args)
    except BrokenPipeError:  # e.g. `pytest-iris parse --json big.log | head`
        sys.stderr.close()
        return 0
    return status


def _settings_once() -> Callable[[], IrisSettings]:
    """``args.settings()``: the settings, loaded at the first call (a command that needs
    none does not pay for pydantic)."""
    loaded: list[IrisSettings] = []

    def settings() -> IrisSettings:
        if not loaded:
            from pytest_iris.settings import load_settings

            loaded.append(load_settings())
        return loaded[0]

    return settings
