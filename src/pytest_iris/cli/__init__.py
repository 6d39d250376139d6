"""``pytest-iris`` command line: one subcommand per module in :data:`COMMANDS`.

Each module defines ``register(subparsers)``, which adds its parser and sets
``handler`` (a callable taking the parsed arguments and returning the exit
status). Modules load only when the CLI runs.

Errors: every error is one line on stderr and exit status 2, never a
traceback - argparse's usage errors, the library's own errors
(:class:`~pytest_iris.errors.InstanceError`) and the system's (full disk,
read-only directory, ``-o`` naming a directory) alike. SIGTERM is turned
into :class:`Interrupted`, so the ``finally`` and ``except BaseException``
blocks that remove temporary files and directories run; the exit status is
then 128 + the signal number. Settings (environment and
``$PYTEST_IRIS_CONFIG``) are loaded once, here, the first time a handler
calls ``args.settings()``; handlers pass them down to the library.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from pytest_iris.settings import IrisSettings

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "pytest_iris.cli.chaos",
    "pytest_iris.cli.parse",
    "pytest_iris.cli.generate",
    "pytest_iris.cli.memory",
    "pytest_iris.cli.catalog",
    "pytest_iris.cli.schema",
    "pytest_iris.cli.cpf",
    "pytest_iris.cli.kernel",
    "pytest_iris.cli.restart",
    "pytest_iris.cli.cassettes",
)


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT arrived: unwind (cleaning up), then exit 128 + ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (and exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {_one_line(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pytest-iris",
        description="Realistic InterSystems IRIS logs, a fake IRIS host and chaos tests.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 failure, 2 bad input)."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:  # said by the subcommand they were given to, pointing at its own --help
        _chosen(parser, args).error(f"unrecognized arguments: {' '.join(extras)}")
    args.settings = _settings_once()
    name = f"pytest-iris {args.command}"
    from pytest_iris.errors import InstanceError

    try:
        with _signals_interrupt():
            status: int = args.handler(args)
    except BrokenPipeError:  # e.g. `pytest-iris parse --json big.log | head`
        sys.stderr.close()
        return 0
    except Interrupted as stop:
        print(f"{name}: interrupted by {signal.Signals(stop.signum).name}", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except InstanceError as error:
        print(f"{name}: {_one_line(str(error))}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:  # an extra not installed: say which, no traceback
        from pytest_iris._extras import EXTRAS

        if error.name not in EXTRAS:
            raise
        print(f"{name}: {_one_line(str(error))}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"{name}: {_os_error(error, getattr(args, 'output', None))}", file=sys.stderr)
        return 2
    except (ValueError, OverflowError, MemoryError, RecursionError) as error:
        print(f"{name}: {type(error).__name__}: {_one_line(str(error))}", file=sys.stderr)
        return 2
    return status


def _chosen(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The innermost (sub)command parser the arguments selected (``kernel apply``'s)."""
    while True:
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        name = getattr(args, actions[0].dest, None) if actions else None
        if name is None:
            return parser
        parser = actions[0].choices[name]


def _one_line(text: str) -> str:
    return "; ".join(part.strip() for part in text.splitlines() if part.strip()) or text


def _os_error(error: OSError, output: str | None = None) -> str:
    """``PATH: No space left on device`` (the file - else the command's output - then why)."""
    what = error.strerror or str(error)
    where = error.filename if error.filename is not None else output
    if where is not None and error.filename2 is not None:
        return f"{where} -> {error.filename2}: {what}"
    return f"{where}: {what}" if where is not None else _one_line(what)


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM/SIGINT raise :class:`Interrupted` while the command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
