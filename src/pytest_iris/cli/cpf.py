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

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
        sub.add_argument("file", metavar="FILE", help="the iris.cpf to act on")
        sub.add_argument("--json", action="store_true", help="print the ToolResult as JSON")
        sub.add_argument(
            "--ram-mb", type=int, default=None, help="physical memory for automatic globals"
        )
        sub.set_defaults(handler=run)
        return sub

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
    merger = add("merge", "apply a CPF merge file (its [Actions] are recorded, not run)")
    merger.add_argument("merge_file", metavar="MERGE_FILE")
    merger.add_argument("--apply", action="store_true", help="write (after a dated backup)")


def run(args: argparse.Namespace) -> int:
    from pytest_iris.errors import InstanceError, ValidationError
    from pytest_iris.models import ToolResult
    from pytest_iris.tools.cpf import CpfTool

    tool = CpfTool(
        args.file, total_ram_mb=args.ram_mb, allow_unknown=getattr(args, "allow_unknown", False)
    )
    try:
        result: ToolResult
        if args.cpf_action == "show":
            result = tool.show()
        elif args.cpf_action == "validate":
            result = tool.validate()
        elif args.cpf_action == "set":
            result = tool.set(_assignments(args.assignments), apply=args.apply)
        elif args.cpf_action == "rollback":
            result = tool.rollback(apply=args.apply, backup=args.backup)
        else:
            result = tool.merge(args.merge_file, apply=args.apply)
    except ValidationError as error:
        print(f"pytest-iris cpf {args.cpf_action}: {error}", file=sys.stderr)
        return 2
    except InstanceError as error:
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
