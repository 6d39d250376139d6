"""``pytest-iris kernel plan|apply [--root DIR]``: the kernel tool from a shell.

``plan`` shows what the instance's shared memory needs (current, proposed,
why); ``apply`` is the same dry run unless ``--apply``, then runs ``sysctl
-w`` (and writes a sysctl.d file with ``--persist``). The shared-memory total
comes from ``--shared-memory MB`` or the CPF (``--cpf``, default
``ROOT/usr/irissys/iris.cpf``). ``--root`` is the host root: ``/`` is this
host; any other root uses the commands in ``ROOT/bin`` (a sandbox's).
Exit status: 0 done, 1 the tool failed (e.g. not permitted: the message
holds the commands to run as root), 2 rejected input.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "kernel",
        help="plan or apply the kernel shared-memory settings IRIS needs (dry run unless --apply)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from pytest_iris._limits import MAX_RAM_MB
    from pytest_iris.cli._numbers import bounded_int

    actions = parser.add_subparsers(dest="kernel_action", metavar="ACTION", required=True)
    for name, text in (
        ("plan", "show current and proposed values, and why"),
        ("apply", "apply the plan with sysctl -w (dry run unless --apply)"),
    ):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("--root", default="/", metavar="DIR", help="host root (default /)")
        source = sub.add_mutually_exclusive_group()
        source.add_argument("--cpf", metavar="FILE", help="CPF inside the root to size from")
        source.add_argument(
            "--shared-memory",
            type=bounded_int(1, MAX_RAM_MB),
            metavar="MB",
            help=f"shared memory total instead of a CPF (1..{MAX_RAM_MB})",
        )
        sub.add_argument(
            "--huge-pages",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="plan huge pages (default: when memlock requires them, or allows them and the host has a pool)",
        )
        sub.add_argument(
            "--instances",
            type=bounded_int(1, 1_000),  # invented bound: far beyond any real host
            default=None,
            help="IRIS instances on the host (1..1000)",
        )
        sub.add_argument(
            "--margin-mb",
            type=bounded_int(0, MAX_RAM_MB),
            default=None,
            help=f"shmmax margin (0..{MAX_RAM_MB}, default 16)",
        )
        sub.add_argument("--json", action="store_true", help="print the ToolResult as JSON")
        if name == "apply":
            sub.add_argument("--apply", action="store_true", help="really run sysctl -w")
            sub.add_argument(
                "--sudo",
                choices=("never", "auto", "always"),
                default=None,
                help="escalate with sudo -n: never (default), auto (retry when refused), always",
            )
            sub.add_argument(
                "--persist",
                nargs="?",
                const=True,
                default=None,
                metavar="FILE",
                help="also write a sysctl.d file (default /etc/sysctl.d/99-intersystems-iris.conf)",
            )
        sub.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_iris.cli._tools import dispatch

    params: dict[str, Any] = {}
    if args.cpf is not None:
        params["cpf"] = args.cpf
    if args.shared_memory is not None:
        params["shared_memory_mb"] = args.shared_memory
    for name in ("huge_pages", "instances", "margin_mb"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    if getattr(args, "persist", None) is not None:
        params["persist"] = args.persist
    apply = bool(getattr(args, "apply", False))
    overrides = {"sudo": args.sudo} if getattr(args, "sudo", None) else {}
    return dispatch(args, "kernel", args.kernel_action, params, apply=apply, overrides=overrides)
