"""Keep secrets out of cassettes: drop credential headers and query parameters at record time."""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Header and query-parameter names that carry credentials or sessions.
SECRET_NAME: Final = re.compile(
    r"(?i)^(authorization|proxy-authorization|cookie|set-cookie|api[-_]?key|x-api-key"
    r"|openai-organization|openai-project|x-goog-api-key|ocp-apim-subscription-key"
    r"|key|code|sig|signature|.*(token|secret|passw|api[-_]?key|auth|session|credential).*)$"
)


def is_secret_name(name: str) -> bool:
    return SECRET_NAME.match(name) is not None


def scrub_request(request: Any) -> Any:
    """vcrpy ``before_record_request``: the request without credentials."""
    request.headers = {k: v for k, v in request.headers.items() if not is_secret_name(k)}
    parts = urlsplit(request.uri)
    if parts.query:
        query = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not is_secret_name(k)
        ]
        request.uri = urlunsplit(parts._replace(query=urlencode(query)))
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy ``before_record_response``: the response without cookies or account headers."""
    headers = response.get("headers") or {}
    response["headers"] = {k: v for k, v in headers.items() if not is_secret_name(k)}
    return response
