"""``pytest-iris schema``: the JSON schemas of the public models."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="print the JSON schemas of the models (messages, commands, results, and the "
        "transport's wire envelopes)",
    )
    parser.add_argument("model", nargs="?", help="only this model's schema")
    parser.add_argument(
        "--openapi",
        action="store_true",
        help="print an OpenAPI 3.1 document of the receiver's routes (publish, batch, "
        "commands) instead",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_iris.transport.schema import json_schemas, openapi

    if args.openapi:
        if args.model:
            print("pytest-iris schema: --openapi prints the whole document; drop the model name")
            return 2
        print(json.dumps(openapi(), indent=2))
        return 0
    schemas = json_schemas()
    if args.model:
        if args.model not in schemas:
            print(f"pytest-iris schema: unknown model {args.model!r}; known: {', '.join(schemas)}")
            return 2
        print(json.dumps(schemas[args.model], indent=2))
    else:
        print(json.dumps(schemas, indent=2))
    return 0
