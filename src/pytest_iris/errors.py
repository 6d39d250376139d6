"""One exception hierarchy for everything pytest-iris raises on purpose.

Catch :class:`InstanceError` to handle any of them; each subclass names the
stage that failed, and each message names what was wrong and where.
"""

from __future__ import annotations


class InstanceError(Exception):
    """Root of every error pytest-iris raises deliberately."""


class ValidationError(InstanceError, ValueError):
    """A value, command or configuration was rejected before anything changed."""


class ParseError(ValidationError):
    """Text given to :func:`pytest_iris.parse` is not one messages.log entry."""


class LogReadError(InstanceError, OSError):
    """A log file could not be opened or read (the content never raises)."""


class ConfigError(ValidationError):
    """Settings (environment, YAML file, ini, options) are invalid."""


class ToolError(InstanceError):
    """A remediation tool could not do what it was asked."""


class PrivilegeError(ToolError):
    """The tool lacks the privilege; the message holds the command to run by hand."""


class CommandPrivilegeError(PrivilegeError):
    """A privileged command was refused; ``commands`` are what a person would run as root.

    ``result`` is the tool's ``ToolResult`` up to the refusal (what was applied before it).
    """

    def __init__(self, message: str, commands: tuple[str, ...] = (), result: object = None) -> None:
        super().__init__(message)
        self.commands = commands
        self.result = result


class TransportError(InstanceError):
    """A transport could not publish or consume."""


class LLMError(InstanceError):
    """An LLM provider failed or its output never became valid IRIS lines."""


class CassetteError(LLMError):
    """A request has no recording in replay mode, or a cassette is unusable."""


class SandboxError(InstanceError):
    """The sandboxed host could not be built or driven."""


class ContainmentError(SandboxError):
    """Code under test tried to reach the real host from inside a sandbox."""


class ScenarioError(ValidationError):
    """A chaos scenario file is invalid (names the file, line and field)."""
