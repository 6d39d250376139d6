"""``pytest-iris catalog [--json]`` and ``pytest-iris catalog match FILE [--json]``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "catalog",
        help="list the log templates (id, category, severity, text, source or invented), "
        "or say which template produces each entry of a log ('catalog match FILE')",
        description="Without arguments: every template of the generator's catalog. With "
        "'match FILE': for each entry of FILE, the template that produces it, or none; "
        "the coverage goes to stderr. Add what a production log shows and the catalog "
        "lacks through the pytest_iris_add_templates hook.",
    )
    parser.add_argument("action", nargs="?", choices=("match",), help="match a log's entries")
    parser.add_argument("file", nargs="?", metavar="FILE", help="the log for 'match'")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_iris.generation.catalog import load_catalog

    catalog = load_catalog()
    if args.action is None:
        if args.file is not None:
            print("pytest-iris catalog: a FILE needs the 'match' action", file=sys.stderr)
            return 2
        _list(catalog, args.json)
        return 0
    if args.file is None:
        print("pytest-iris catalog match: missing FILE (a messages.log)", file=sys.stderr)
        return 2
    return _match(catalog, args.file, args.json)


def _list(catalog: Any, as_json: bool) -> None:
    for template in catalog:
        if as_json:
            record = {
                "id": template.id,
                "category": template.category,
                "severity": template.severity,
                "text": "\n".join((template.text, *template.continuation)),
                "source": template.source or None,
                "invented": template.invented or None,
            }
            print(json.dumps(record, ensure_ascii=False))
        else:
            origin = template.source or f"INVENTED: {template.invented}"
            category = f"[{template.category}] " if template.category else ""
            print(f"{template.id}\t{template.severity} {category}{template.text}\t{origin}")


def _match(catalog: Any, path: str, as_json: bool) -> int:
    from pytest_iris.errors import LogReadError
    from pytest_iris.generation.matching import TemplateMatcher
    from pytest_iris.log.reader import LogEntry, read_log

    matcher = TemplateMatcher(catalog)
    entries = matched = 0
    try:
        for item in read_log(path):
            if not isinstance(item, LogEntry):
                continue
            found = matcher.match(item.severity, item.category, item.text, item.continuation)
            entries += 1
            matched += found is not None
            if as_json:
                print(json.dumps({"line": item.line, "template": found}))
            else:
                print(f"{path}:{item.line}\t{found or '-'}\t{item.header[:100]}")
    except LogReadError as error:
        print(f"pytest-iris catalog match: {error}", file=sys.stderr)
        return 2
    share = matched / entries if entries else 0.0
    print(f"{path}: {matched} of {entries} entries match a template ({share:.0%})", file=sys.stderr)
    return 0
