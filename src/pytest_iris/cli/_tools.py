"""What the ``kernel`` and ``restart`` commands share: dispatch, print, exit status."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def dispatch(
    args: argparse.Namespace,
    tool: str,
    action: str,
    params: dict[str, Any],
    *,
    apply: bool,
    overrides: dict[str, Any] | None = None,
) -> int:
    """Run one remediation command through the Dispatcher and print its result."""
    from pytest_iris import logging as iris_logging
    from pytest_iris.errors import ConfigError
    from pytest_iris.models import RemediationCommand
    from pytest_iris.tools.dispatch import Dispatcher

    name = f"pytest-iris {tool}" + (f" {action}" if tool != "restart" else "")
    try:
        root_settings = args.settings()
        settings = root_settings.tools
        if overrides:
            settings = settings.model_copy(update=overrides)
    except ConfigError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 2
    root = Path(args.root)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a directory"
        print(
            f"{name}: --root {args.root}: {what} (give the host root: / for this host, "
            "or a sandbox's root)",
            file=sys.stderr,
        )
        return 2
    # the command prints its own result and one-line errors; JSON events only when asked for
    # (PYTEST_IRIS_TOOLS__LOG_LEVEL), never a warning event before a person's failure line
    chosen = "log_level" in settings.model_fields_set
    iris_logging.configure(level=settings.log_level if chosen else "error")
    if tool == "restart":
        params = {"instance": root_settings.instance, **params}
    command = RemediationCommand(
        tool=tool,
        action=action,
        parameters=params,
        dry_run=not apply,
    )
    result = Dispatcher.for_root(args.root, settings=settings).dispatch_sync(command)
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        plan = result.details.get("plan")
        if plan:
            print(plan)
        for change in result.changes:
            state = "applied" if change.applied else "planned"
            after = change.after
            if isinstance(after, str) and "\n" in after.strip():
                after = f"<{len(after.splitlines())} lines>"
            print(f"{state}: {change.target}: {change.before} -> {after}")
        for line in result.confirmations:
            print(f"log: {line}")
        stream = sys.stdout if result.ok else sys.stderr
        print(f"{name}: {result.status.value}: {result.message}", file=stream)
    if result.ok:
        return 0
    return 2 if result.details.get("error") == "ValidationError" else 1
