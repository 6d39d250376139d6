"""pytest-iris: realistic InterSystems IRIS logs, a fake IRIS host and chaos tests.

The public API is importable from here (``from pytest_iris import
IRISMessage``). Names load on first use so that pytest, which imports this
package in every suite where the plugin is installed, pays nothing for
features a suite does not use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_iris import _extras
from pytest_iris._lazy import lazy_exports
from pytest_iris.log import _EXPORTS as LOG_EXPORTS

_extras.install()  # a missing optional dependency names its extra

__version__ = "0.1.0"

#: public name -> module that defines it (the log package's names from its own table)
_EXPORTS: dict[str, str] = {
    **LOG_EXPORTS,
    "RemediationCommand": "pytest_iris.models",
    "ToolResult": "pytest_iris.models",
    "ToolStatus": "pytest_iris.models",
    "Change": "pytest_iris.models",
    "json_schemas": "pytest_iris.transport.schema",
    "InstanceError": "pytest_iris.errors",
    "ValidationError": "pytest_iris.errors",
    "ParseError": "pytest_iris.errors",
    "LogReadError": "pytest_iris.errors",
    "ConfigError": "pytest_iris.errors",
    "ToolError": "pytest_iris.errors",
    "PrivilegeError": "pytest_iris.errors",
    "TransportError": "pytest_iris.errors",
    "LLMError": "pytest_iris.errors",
    "CassetteError": "pytest_iris.errors",
    "SandboxError": "pytest_iris.errors",
    "ContainmentError": "pytest_iris.errors",
    "ScenarioError": "pytest_iris.errors",
    "Scenario": "pytest_iris.chaos.schema",
    "load_scenario": "pytest_iris.chaos.loader",
    "ScenarioRunner": "pytest_iris.chaos.runner",
    "run_scenario": "pytest_iris.chaos.runner",
    "Journal": "pytest_iris.chaos.journal",
    "ChaosHarness": "pytest_iris.chaos.harness",
    "RuleBasedRemediator": "pytest_iris.chaos.rules",
    "RemediationContext": "pytest_iris.chaos.remediator",
    "SharedMemoryPlan": "pytest_iris.memory",
    "plan_shared_memory": "pytest_iris.memory",
    "LogStream": "pytest_iris.generation",
    "SequenceContext": "pytest_iris.generation",
    "render_sequence": "pytest_iris.generation",
    "sequence_names": "pytest_iris.generation",
    "LiveLogWriter": "pytest_iris.generation",
    "CpfFile": "pytest_iris.tools.cpf",
    "CpfTool": "pytest_iris.tools.cpf",
    "KernelTool": "pytest_iris.tools.kernel",
    "RestartTool": "pytest_iris.tools.restart",
    "Dispatcher": "pytest_iris.tools.dispatch",
    "ToolSettings": "pytest_iris.tools.settings",
    "CommandPrivilegeError": "pytest_iris.errors",
    "capture_events": "pytest_iris.testing",
    "CapturedEvents": "pytest_iris.testing",
    "MessageTransport": "pytest_iris.transport",
    "MessageEnvelope": "pytest_iris.transport",
    "FileTransport": "pytest_iris.transport",
    "HttpTransport": "pytest_iris.transport",
    "Outbox": "pytest_iris.transport",
    "MockEndpoint": "pytest_iris.transport",
    "TransportSettings": "pytest_iris.transport",
    "RetryPolicy": "pytest_iris.transport",
    "build_transport": "pytest_iris.transport",
    "LLMGenerator": "pytest_iris.llm.generator",
    "Generation": "pytest_iris.llm.generator",
    "Classification": "pytest_iris.llm.generator",
    "Provider": "pytest_iris.llm.providers",
    "LLMSettings": "pytest_iris.llm.settings",
    "CassetteSession": "pytest_iris.llm.cassette",
    "IrisOpenAIServer": "pytest_iris.llm.server",
    "SandboxHost": "pytest_iris.sandbox.host",
    "LiveSandbox": "pytest_iris.sandbox.live",
}
#: ``format`` and ``parse`` are the design's names; they shadow builtins only
#: as attributes of this package.
_EXPORTS["format"] = "pytest_iris.log.grammar:format_message"
_EXPORTS["parse"] = "pytest_iris.log.codec:parse_message"

__all__ = sorted([*_EXPORTS, "__version__"])

__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from pytest_iris.errors import (
        CassetteError,
        ConfigError,
        ContainmentError,
        InstanceError,
        LLMError,
        LogReadError,
        ParseError,
        PrivilegeError,
        SandboxError,
        ScenarioError,
        ToolError,
        TransportError,
        ValidationError,
    )
    from pytest_iris.log.codec import parse_message
    from pytest_iris.log.codec import parse_message as parse
    from pytest_iris.log.grammar import format_message
    from pytest_iris.log.grammar import format_message as format
    from pytest_iris.log.reader import (
        LogEntry,
        LogProblem,
        iter_messages,
        parse_lines,
        parse_text,
        read_log,
    )
    from pytest_iris.log.summary import LogSummary, summarize
    from pytest_iris.models import (
        Change,
        IRISMessage,
        RemediationCommand,
        Severity,
        ToolResult,
        ToolStatus,
    )
    from pytest_iris.transport.schema import json_schemas
