"""Remediation tools: CPF edits, kernel parameters, safe restart, and the dispatcher.

Each tool is a plain class usable without pytest; it works on any host root
(the real ``/`` or a sandbox directory), validates before it acts, runs as a
dry run unless asked to apply, and returns a :class:`~pytest_iris.models.ToolResult`.
Submodules load on demand, so importing this package costs nothing.
"""

from __future__ import annotations
