"""What a receiver implements: JSON schemas of the wire models and an OpenAPI 3.1 document.

The schemas describe the JSON the transport really sends. pydantic would
call the timestamp ``format: date-time``, but RFC 3339 date-times carry an
offset and the wire does not: an IRIS timestamp is the instance's local time
with no zone (messages.log has none, see docs/sources/documented_messages.md),
sent as ``2026-11-26T10:00:00`` or ``2026-11-26T10:00:00.123000``. So the
timestamp gets the pattern of that form instead, and the rules of the log
grammar that a pattern can state (no line breaks, no ``]`` in a category,
years 2000-2099, whole milliseconds) become patterns too. Two rules cannot
be said in JSON Schema and are named in ``x-iris-rules``: the date must
exist in the calendar, and continuation lines must be ones the grammar
allows after the entry's text.
"""

from __future__ import annotations

import copy
from typing import Any, Final

#: the timestamp as the wire carries it (naive ISO 8601, whole milliseconds)
TIMESTAMP_PATTERN: Final = (
    r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{3}(000)?)?$"
)
_NO_BREAKS: Final = r"^[^\r\n\u0000]*$"
_CATEGORY: Final = r"^[^\]\r\n\u0000]+$"
_RULES: Final = [
    "timestamp: a date that exists in the calendar (2026-02-30 matches the pattern, "
    "but is refused)",
    "continuation: lines the messages.log grammar allows after the text "
    "(pytest_iris.log.grammar.continuation_allowed); an empty list is always valid",
    "text: when category is null, text must not start with '[...] ' (it would read "
    "back as a category)",
]


def _wire_message(schema: dict[str, Any]) -> dict[str, Any]:
    """The IRISMessage schema with the wire's timestamp form and the grammar's patterns."""
    out = copy.deepcopy(schema)
    properties = out["properties"]
    properties["timestamp"] = {
        "type": "string",
        "pattern": TIMESTAMP_PATTERN,
        "title": "Timestamp",
        "description": "The instance's local time, no zone (as in messages.log), ISO 8601.",
        "examples": ["2026-11-26T10:00:00", "2026-11-26T10:00:00.123000"],
    }
    properties["category"] = {
        "anyOf": [{"type": "string", "pattern": _CATEGORY}, {"type": "null"}],
        "default": None,
        "title": "Category",
    }
    properties["text"] = {**properties["text"], "pattern": _NO_BREAKS}
    items = properties["continuation"].get("items", {"type": "string"})
    properties["continuation"]["items"] = {**items, "pattern": _NO_BREAKS}
    out["x-iris-rules"] = list(_RULES)
    return out


def wire(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every IRISMessage in it (top level or in ``$defs``) in wire form."""
    out = copy.deepcopy(schema)
    if out.get("title") == "IRISMessage":
        out = _wire_message(out)
    for name, definition in list((out.get("$defs") or {}).items()):
        if name == "IRISMessage":
            out["$defs"][name] = _wire_message(definition)
    return out


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON schemas of the public models and the transport's wire envelopes, by name.

    Timestamps are described as the wire carries them (see the module docstring).
    """
    from pytest_iris.models import IRISMessage, RemediationCommand, ToolResult

    schemas = {
        model.__name__: wire(model.model_json_schema(mode="serialization"))
        for model in (IRISMessage, RemediationCommand, ToolResult)
    }
    return {**schemas, **envelope_schemas()}


def envelope_schemas() -> dict[str, dict[str, Any]]:
    """JSON schemas of the transport's wire models (what ``POST /messages`` carries)."""
    from pytest_iris.transport.envelope import MessageBatch, MessageEnvelope

    return {
        model.__name__: wire(model.model_json_schema(mode="serialization"))
        for model in (MessageEnvelope, MessageBatch)
    }


def _components_refs(value: Any) -> Any:
    """pydantic's ``#/$defs/X`` references as OpenAPI's ``#/components/schemas/X``."""
    if isinstance(value, dict):
        return {
            k: (
                v.replace("#/$defs/", "#/components/schemas/")
                if k == "$ref" and isinstance(v, str)
                else _components_refs(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_components_refs(v) for v in value]
    return value


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def openapi(title: str = "IRIS message receiver") -> dict[str, Any]:
    """An OpenAPI 3.1 document of the routes a receiver serves (publish, batch, commands)."""
    from pytest_iris import __version__
    from pytest_iris.models import RemediationCommand

    components: dict[str, Any] = {}

    def add(name: str, schema: dict[str, Any]) -> dict[str, str]:
        schema = _components_refs(schema)
        for inner, definition in (schema.pop("$defs", None) or {}).items():
            components.setdefault(inner, definition)
        components[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}

    envelopes = envelope_schemas()
    envelope = add("MessageEnvelope", envelopes["MessageEnvelope"])
    batch = add("MessageBatch", envelopes["MessageBatch"])
    command = add("RemediationCommand", RemediationCommand.model_json_schema(mode="serialization"))
    accepted = add(
        "Accepted",
        {
            "type": "object",
            "required": ["accepted", "duplicates"],
            "properties": {
                "accepted": {"type": "integer", "minimum": 0},
                "duplicates": {"type": "integer", "minimum": 0},
            },
        },
    )
    add(
        "Error",
        {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "index": {"type": "integer", "description": "the rejected message of a batch"},
            },
        },
    )
    page = add(
        "CommandsPage",
        {
            "type": "object",
            "required": ["commands", "next"],
            "properties": {
                "commands": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["seq", "command"],
                        "properties": {
                            "seq": {"type": "integer", "minimum": 1},
                            "command": command,
                        },
                    },
                },
                "next": {"type": "integer", "minimum": 0},
            },
        },
    )
    json_body = {"application/json": {"schema": accepted}}
    retry = {
        "description": "try again later (the transport retries, then keeps it in its outbox)",
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}},
    }
    key = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "the message id (single) or 'FIRSTID+N' (batch); drop repeats",
        "schema": {"type": "string"},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": __version__,
            "description": "What pytest-iris's HTTP transport sends and polls. Ids are "
            "idempotency keys: a receiver keeps the first copy of an id and acknowledges "
            "repeats. 400, 409, 413, 415 and 422 are permanent rejections (the transport "
            "moves the message to its dead-letter file); 408, 425, 429 and 5xx are retried, "
            "then kept in the outbox; other 4xx are kept and retried until the retention.",
        },
        "paths": {
            "/messages": {
                "post": {
                    "operationId": "publishMessage",
                    "parameters": [key],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": envelope}},
                    },
                    "responses": {
                        "200": {"description": "stored (or a duplicate)", "content": json_body},
                        "422": _error("the envelope is invalid; not retried"),
                        "503": retry,
                    },
                }
            },
            "/messages/batch": {
                "post": {
                    "operationId": "publishBatch",
                    "parameters": [key],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": batch}},
                    },
                    "responses": {
                        "200": {"description": "all stored, all or nothing", "content": json_body},
                        "422": _error("one envelope is invalid (its index); none stored"),
                        "503": retry,
                    },
                }
            },
            "/commands": {
                "get": {
                    "operationId": "pollCommands",
                    "parameters": [
                        {
                            "name": "after",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "default": 0},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "default": 100},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "commands with seq > after, oldest first",
                            "content": {"application/json": {"schema": page}},
                        },
                        "400": _error("after/limit are not non-negative integers"),
                    },
                }
            },
        },
        "components": {"schemas": components},
    }
