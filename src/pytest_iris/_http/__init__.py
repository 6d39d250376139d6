"""The HTTP core both local servers (mock endpoint, OpenAI-compatible server) sit on."""

from __future__ import annotations

from pytest_iris._http.server import BackgroundServer, Request, Response, json_response

__all__ = ["BackgroundServer", "Request", "Response", "json_response"]
