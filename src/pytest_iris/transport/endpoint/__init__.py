"""The mock IRIS endpoint: a real HTTP server for transports under test."""

from __future__ import annotations

from pytest_iris.transport.endpoint.faults import Faults
from pytest_iris.transport.endpoint.mock import MockEndpoint

__all__ = ["Faults", "MockEndpoint"]
