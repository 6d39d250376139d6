"""The part of JSON Schema that structured output uses: check an instance, make one.

OpenAI's structured outputs accept a subset of JSON Schema (objects with
``properties``/``required``/``additionalProperties``, arrays, ``enum``,
``const``, ``anyOf``, ``$ref`` into ``$defs``, the scalar types, ``pattern``,
``minimum``/``maximum``, ``minLength``/``maxLength``, ``minItems``). The local
server checks a scripted ``json=`` answer against the request's schema and,
when a reply scripts no content, makes the smallest instance that validates,
so a client's ``parse()`` gets a value its model accepts. Not a general
validator: keywords outside that subset are ignored (said here on purpose).
"""

from __future__ import annotations

import re
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 50:
        ref = str(schema["$ref"])
        node: Any = root
        for part in ref.removeprefix("#/").split("/") if ref.startswith("#/") else []:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema, seen = node, seen + 1
    return schema


def _is(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(kind, (object,)))


def errors(
    instance: Any, schema: Any, root: dict[str, Any] | None = None, at: str = "$"
) -> list[str]:
    """Where ``instance`` breaks ``schema``, as ``$.path: what`` lines (empty: valid)."""
    root = root if root is not None else (schema if isinstance(schema, dict) else {})
    schema = _resolve(schema, root)
    if not isinstance(schema, dict):
        return []
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf") or []
        found = [errors(instance, option, root, at) for option in options]
        if not any(not f for f in found):
            return [
                f"{at}: matches none of {len(options)} alternatives ({found[0][0] if found and found[0] else ''})"
            ]
    if "const" in schema and instance != schema["const"]:
        return [f"{at}: {instance!r} is not {schema['const']!r}"]
    if "enum" in schema and instance not in schema["enum"]:
        return [f"{at}: {instance!r} is not one of {schema['enum']!r}"]
    kinds = schema.get("type")
    if kinds is not None:
        allowed = kinds if isinstance(kinds, list) else [kinds]
        if not any(_is(instance, k) for k in allowed):
            return [f"{at}: expected {' or '.join(allowed)}, got {type(instance).__name__}"]
    out: list[str] = []
    if isinstance(instance, str):
        if "pattern" in schema and re.search(schema["pattern"], instance) is None:
            out.append(f"{at}: {instance[:40]!r} does not match {schema['pattern']!r}")
        if len(instance) < int(schema.get("minLength", 0)):
            out.append(f"{at}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(instance) > int(schema["maxLength"]):
            out.append(f"{at}: longer than {schema['maxLength']}")
    if isinstance(instance, int | float) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            out.append(f"{at}: {instance} is below the minimum {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            out.append(f"{at}: {instance} is above the maximum {schema['maximum']}")
    if isinstance(instance, dict):
        properties = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in instance:
                out.append(f"{at}: missing required property {name!r}")
        for name, value in instance.items():
            if name in properties:
                out.extend(errors(value, properties[name], root, f"{at}.{name}"))
            elif schema.get("additionalProperties") is False:
                out.append(f"{at}: property {name!r} is not allowed")
    if isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            out.extend(errors(item, schema["items"], root, f"{at}[{index}]"))
        if len(instance) < int(schema.get("minItems", 0)):
            out.append(f"{at}: fewer than {schema['minItems']} items")
    return out


def instance(schema: Any, root: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """The smallest value that validates against ``schema`` (first enum value, zeros, "")."""
    root = root if root is not None else (schema if isinstance(schema, dict) else {})
    schema = _resolve(schema, root)
    if not isinstance(schema, dict) or depth > 20:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf") or [{}]
        return instance(options[0], root, depth + 1)
    kinds = schema.get("type", "object" if "properties" in schema else "null")
    kind = kinds[0] if isinstance(kinds, list) else kinds
    if kind == "object":
        properties = schema.get("properties") or {}
        required = schema.get("required") or list(properties)
        return {name: instance(properties.get(name, {}), root, depth + 1) for name in required}
    if kind == "array":
        count = int(schema.get("minItems", 0))
        return [instance(schema.get("items", {}), root, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
        value = max(0, low) if "maximum" not in schema else min(max(0, low), schema["maximum"])
        return int(value) if kind == "integer" else float(value)
    if kind == "string":
        return "x" * int(schema.get("minLength", 0))
    return {"boolean": False}.get(kind)
