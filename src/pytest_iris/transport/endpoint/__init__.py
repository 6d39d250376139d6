"""The mock IRIS endpoint: a real HTTP server for transports and the user's own publishers."""

from __future__ import annotations

from pytest_iris._http.server import Request, Response
from pytest_iris.transport.endpoint.expect import Expectation
from pytest_iris.transport.endpoint.faults import Faults
from pytest_iris.transport.endpoint.mock import MockEndpoint

__all__ = ["Expectation", "Faults", "MockEndpoint", "Request", "Response"]
