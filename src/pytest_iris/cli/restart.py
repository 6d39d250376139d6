"""``pytest-iris restart [--force] [--root DIR]``: the restart tool from a shell.

Refuses to stop an instance with established client connections on the
superserver (1972) or web (52773) port, naming them, unless ``--force``.
Dry run unless ``--apply``: then ``iris stop <instance> quietly`` and ``iris
start <instance>``, each under a safety timeout, confirmed in messages.log.
``--root`` is the host root: ``/`` is this host; any other root uses the
commands in ``ROOT/bin`` (a sandbox's). Exit status: 0 done, 1 refused or
failed, 2 rejected input.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "restart",
        help="safely restart an IRIS instance (dry run unless --apply)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--root", default="/", metavar="DIR", help="host root (default /)")
    parser.add_argument("--instance", default=None, help="instance name (default IRIS)")
    parser.add_argument("--force", action="store_true", help="stop even with users connected")
    parser.add_argument("--apply", action="store_true", help="really stop and start")
    parser.add_argument(
        "--only",
        choices=("stop", "start"),
        default=None,
        help="only stop, or only start, the instance",
    )
    parser.add_argument("--json", action="store_true", help="print the ToolResult as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_iris.cli._tools import dispatch

    params: dict[str, Any] = {}
    if args.instance is not None:
        params["instance"] = args.instance
    if args.force and args.only != "start":
        params["force"] = True
    return dispatch(args, "restart", args.only or "restart", params, apply=args.apply)
