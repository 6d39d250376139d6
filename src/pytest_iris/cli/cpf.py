"""``pytest-iris cpf show|validate|set|rollback|merge``: the CPF tool from a shell.

Dry run unless ``--apply``. ``NAME`` in ``NAME=VALUE`` is a catalogued bare
name (``globals``), ``section.key`` (``config.globals``) or the exact
``[Section]key`` form that works for any key. Exit status: 0 done, 1 the
tool reported a failure (problems found, no backup), 2 rejected input (the
message names the parameter, the value and the rule) or unreadable file.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cpf",
        help="show, validate, change, merge into or roll back an iris.cpf (dry run unless --apply)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="cpf_action", metavar="ACTION", required=True)

    from pytest_iris._limits import MAX_RAM_MB
    from pytest_iris.cli._numbers import bounded_int

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
        sub.add_argument("file", metavar="FILE", help="the iris.cpf to act on")
        sub.add_argument("--json", action="store_true", help="print the ToolResult as JSON")
        sub.add_argument(
            "--ram-mb",
            type=bounded_int(1, MAX_RAM_MB),
            default=None,
            help=f"physical memory for automatic globals (1..{MAX_RAM_MB})",
        )
        sub.set_defaults(handler=run)
        return sub

    def retention(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--keep-backups", type=bounded_int(1, 10_000), default=50, metavar="N",
            help="keep the N newest dated backups (1..10000, default 50)",
        )  # fmt: skip
        sub.add_argument(
            "--backup-max-age-days", type=bounded_int(0, 36_500), default=365, metavar="DAYS",
            help="remove backups older than DAYS (0..36500, default 365)",
        )  # fmt: skip

    add("show", "catalogued parameters, units, defaults and the shared memory estimate")
    add("validate", "check every catalogued value and the file's form")
    setter = add("set", "change parameters: NAME=VALUE ...")
    setter.add_argument("assignments", nargs="+", metavar="NAME=VALUE")
    setter.add_argument("--apply", action="store_true", help="write (after a dated backup)")
    setter.add_argument(
        "--allow-unknown", action="store_true", help="write keys the catalog does not know"
    )
    rollback = add("rollback", "restore the newest dated backup (FILE_YYYYMMDD)")
    rollback.add_argument("--apply", action="store_true", help="restore (current file backed up)")
    rollback.add_argument("--backup", default=None, help="restore this backup instead")
    rollback.add_argument(
        "--force", action="store_true",
        help="restore --backup even if it is not a CPF of the same instance",
    )  # fmt: skip
    merger = add("merge", "apply a CPF merge file (its [Actions] are recorded, not run)")
    merger.add_argument("merge_file", metavar="MERGE_FILE")
    merger.add_argument("--apply", action="store_true", help="write (after a dated backup)")
    for sub in (setter, rollback, merger):
        retention(sub)


def run(args: argparse.Namespace) -> int:
    from pytest_iris import logging as iris_logging
    from pytest_iris.errors import ConfigError, InstanceError, ValidationError
    from pytest_iris.models import ToolResult
    from pytest_iris.tools.cpf import CpfTool
    from pytest_iris.tools.cpf.storage import BackupRetention

    try:
        tools = args.settings().tools
    except ConfigError as error:
        print(f"pytest-iris cpf {args.cpf_action}: {error}", file=sys.stderr)
        return 2
    # the command prints its own result and one-line errors; JSON events only when asked for
    # (PYTEST_IRIS_TOOLS__LOG_LEVEL), never an info or warning event between a person's lines
    chosen = "log_level" in tools.model_fields_set
    iris_logging.configure(level=tools.log_level if chosen else "error")
    try:
        retention = BackupRetention(
            keep=getattr(args, "keep_backups", 50),
            max_age_days=getattr(args, "backup_max_age_days", 365),
        )
        tool = CpfTool(
            args.file,
            total_ram_mb=args.ram_mb,
            allow_unknown=getattr(args, "allow_unknown", False),
            retention=retention,
        )
        result: ToolResult
        if args.cpf_action == "show":
            result = tool.show()
        elif args.cpf_action == "validate":
            result = tool.validate()
        elif args.cpf_action == "set":
            result = tool.set(_assignments(args.assignments), apply=args.apply)
        elif args.cpf_action == "rollback":
            result = tool.rollback(apply=args.apply, backup=args.backup, force=args.force)
        else:
            result = tool.merge(args.merge_file, apply=args.apply)
    except (ValidationError, InstanceError) as error:
        print(f"pytest-iris cpf {args.cpf_action}: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        _print(result)
    return 0 if result.ok else 1


def _assignments(items: list[str]) -> list[tuple[str, object]]:
    from pytest_iris.errors import ValidationError

    pairs: list[tuple[str, object]] = []
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise ValidationError(f"{item!r} is not NAME=VALUE")
        pairs.append((name, value))
    return pairs


def _print(result: Any) -> None:
    print(result.message)
    for line in result.confirmations:
        print(f"  log: {line}")
    diff = result.details.get("diff")
    if diff:
        sys.stdout.write(diff if diff.endswith("\n") else diff + "\n")
    if result.details.get("restart_required"):
        print("restart required for the change to take effect")
