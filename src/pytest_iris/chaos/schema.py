"""The chaos scenario file, as pydantic models.

A scenario is a Chaos Toolkit experiment made for IRIS: the starting state
of the sandbox host, a steady-state hypothesis checked before the faults and
after the remediation, the faults injected over (host-clock) time, what the
remediation must achieve and within what time, and rollbacks that always
run. Times are seconds of the sandbox host's clock from the scenario start,
so a run is deterministic and fast whatever the wall clock does.
:mod:`pytest_iris.chaos.loader` reads the YAML and maps validation errors to
file lines.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from pytest_iris._limits import (
    MAX_FAULT_LINES,
    MAX_RAM_MB,
    MAX_SCENARIO_S,
    MAX_TEXT,
    MAX_USERS,
    check_kernel_value,
)
from pytest_iris.log.grammar import HEADER, MAX_LINE_BYTES
from pytest_iris.sandbox.snapshot import KernelKey

#: CPF values by section then key, e.g. ``{"config": {"globals": "0,0,512,0,0,0"}}``.
CpfValues = dict[str, dict[str, str | int]]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


def _kernel_values(values: dict[str, int | str] | None) -> dict[str, int | str] | None:
    """Kernel values within their documented bounds (``kernel.shmmax: -5`` is refused)."""
    for key, value in (values or {}).items():
        check_kernel_value(key, value)
    return values


#: What a stamp adds to a ``SEVERITY [Category] text`` fault line: ``MM/DD/YY-HH:MM:SS:mmm``
#: (21), `` (``, a pid of up to 7 digits (Linux's largest pid_max, 4,194,304) and ``) ``.
STAMP_CHARS = 32


def _fits_the_reader(line: str) -> str:
    """A fault line the messages.log reader will read: at most MAX_LINE_BYTES once stamped.

    A longer line is a reader problem, never an entry: the remediator would not
    see it and the scenario would pass having tested nothing (user trial).
    Counted in UTF-8 bytes, the stricter of the reader's measures.
    """
    size = len(line.encode("utf-8"))
    limit = MAX_LINE_BYTES if HEADER.match(line) else MAX_LINE_BYTES - STAMP_CHARS
    if size > limit:
        stamp = "" if limit == MAX_LINE_BYTES else f", so {limit:,} before the stamp"
        raise ValueError(
            f"{size:,} bytes; a messages.log line holds at most {MAX_LINE_BYTES:,} "
            f"(the log reader's MAX_LINE_BYTES: a longer line is never read){stamp}"
        )
    return line


def kill_roles() -> tuple[str, ...]:
    """The roles of a running sandbox instance's processes, which a ``kill`` fault names."""
    from pytest_iris.sandbox._roles import DAEMONS

    daemons = [role for role, _routine, _job in DAEMONS]
    return (
        "control",
        *daemons[:1],
        "write_daemon_helper",
        *daemons[1:],
        "superserver",
        "web_server",
        "user_job",  # only while users are connected
        "gateway_job",  # only while web users are connected
    )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HostSpec(_Model):
    """Starting state of the sandbox host (what ``@pytest.mark.iris_host`` takes)."""

    instance: Literal["running", "down"] = "running"
    #: client connections to the superserver (1972) and the web server (52773)
    users: int = Field(default=0, ge=0, le=MAX_USERS)
    web_users: int = Field(default=0, ge=0, le=MAX_USERS)
    total_ram_mb: int | None = Field(default=None, gt=0, le=MAX_RAM_MB)
    kernel: dict[KernelKey, int | str] = Field(default_factory=dict)
    cpf: CpfValues = Field(default_factory=dict)
    #: whether ``sudo`` lets the remediation become root
    sudo: Literal["nopasswd", "password", "denied"] = "nopasswd"
    #: the IRIS release whose console and log forms the sandbox uses (``2022.1``...)
    version: str | None = None

    @field_validator("kernel")
    @classmethod
    def _kernel_bounds(cls, value: dict[str, int | str] | None) -> dict[str, int | str] | None:
        return _kernel_values(value)

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: str | None) -> str | None:
        if value is not None:
            from pytest_iris.sandbox._versions import profile

            try:
                profile(value)
            except Exception as error:  # SandboxError: one line naming the allowed releases
                raise ValueError(str(error)) from None
        return value


class Quiet(_Model):
    """No message of ``min_severity`` or worse within the last ``within_s`` seconds."""

    min_severity: int = Field(default=2, ge=0, le=3)
    within_s: float = Field(default=60, gt=0, le=MAX_SCENARIO_S)


class SteadyState(_Model):
    """The hypothesis that must hold before the faults and after the remediation."""

    title: str = "the instance serves its users"
    instance: Literal["running", "down"] | None = "running"
    quiet: Quiet | None = None
    users_can_connect: bool | None = None
    #: also check the hypothesis after the rollbacks ran
    after_rollbacks: bool = False


class LLMFault(_Model):
    """Messages an LLM writes for an incident (replayed from a cassette in tests)."""

    incident: str = Field(min_length=1)
    count: int = Field(default=3, ge=1, le=50)


class Fault(_Model):
    """One step injected at ``at`` seconds: exactly one action field is set.

    - ``sequence``: write a named log sequence (``params`` passed to it)
    - ``lines``: write these raw messages.log lines as they are
    - ``llm``: write what an LLM generates for an incident (``{incident, count}``)
    - ``kernel``: set kernel parameters on the host (a value lowered)
    - ``cpf``: change CPF values (someone edited the configuration)
    - ``kill``: kill the instance's daemon with this role (``write_daemon``...)
    - ``connect`` / ``disconnect``: open or close this many user connections
    - ``iris``: run the host's ``iris`` command (``start``/``stop``/``restart``)
    - ``endpoint``: take the transport's endpoint ``down`` or bring it ``up``
    """

    at: float = Field(default=0, ge=0, le=MAX_SCENARIO_S)
    note: str = Field(default="", max_length=MAX_TEXT, pattern=r"^[^\r\n]*$")
    sequence: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    lines: list[Annotated[str, AfterValidator(_fits_the_reader)]] | None = Field(
        default=None, max_length=MAX_FAULT_LINES
    )
    llm: LLMFault | None = None
    kernel: dict[KernelKey, int | str] | None = None
    cpf: CpfValues | None = None
    kill: str | None = None
    connect: int | None = Field(default=None, gt=0, le=MAX_USERS)
    disconnect: int | None = Field(default=None, gt=0, le=MAX_USERS)
    iris: Literal["start", "stop", "restart"] | None = None
    endpoint: Literal["down", "up"] | None = None

    @field_validator("kernel")
    @classmethod
    def _kernel_bounds(cls, value: dict[str, int | str] | None) -> dict[str, int | str] | None:
        return _kernel_values(value)

    @field_validator("kill")
    @classmethod
    def _known_role(cls, role: str | None) -> str | None:
        roles = kill_roles()
        if role is not None and role not in roles:
            raise ValueError(
                f"unknown role {role!r}: a kill names the role of one of the instance's "
                f"processes ({', '.join(roles)})"
            )
        return role

    @field_validator("lines")
    @classmethod
    def _one_line_each(cls, lines: list[str] | None) -> list[str] | None:
        for number, line in enumerate(lines or [], 1):
            if "\n" in line or "\r" in line:
                raise ValueError(f"line {number} holds a line break: give each line separately")
        return lines

    @model_validator(mode="after")
    def _one_action(self) -> Fault:
        chosen = [name for name in ACTIONS if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError(
                f"a fault needs exactly one of {', '.join(ACTIONS)}; got "
                f"{', '.join(chosen) if chosen else 'none'}"
            )
        if self.params and self.sequence is None:
            raise ValueError("'params' only goes with 'sequence'")
        return self

    @property
    def action(self) -> str:
        return next(name for name in ACTIONS if getattr(self, name) is not None)

    def describe(self) -> str:
        """One line for the summary and the report."""
        action = self.action
        value = getattr(self, action)
        if action == "sequence":
            extra = f" {self.params}" if self.params else ""
            text = f"sequence {value}{extra}"
        elif action == "lines":
            text = f"{len(value)} raw line(s)"
        elif action == "llm":
            text = f"llm {value.incident} x{value.count}"
        elif action in ("kernel", "cpf"):
            text = f"{action} " + ", ".join(_flatten(value))
        else:
            text = f"{action} {value}"
        return f"{text} ({self.note})" if self.note else text


ACTIONS: tuple[str, ...] = (
    "sequence",
    "lines",
    "llm",
    "kernel",
    "cpf",
    "kill",
    "connect",
    "disconnect",
    "iris",
    "endpoint",
)


class Bound(_Model):
    """A numeric bound; for comma lists (``globals``) the sum of the values is compared."""

    min: float | None = None
    max: float | None = None
    equals: str | int | None = None

    @model_validator(mode="after")
    def _something(self) -> Bound:
        if self.min is None and self.max is None and self.equals is None:
            raise ValueError("a bound needs min, max or equals")
        return self


class Count(_Model):
    """How many times something may happen: ``{min: 1, max: 1}``; a bare number means exactly."""

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _exactly(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return {"min": value, "max": value}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Count:
        if self.min is None and self.max is None:
            raise ValueError("a count needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    def problem(self, found: int) -> str | None:
        """``expected at most 1, found 2`` (None when ``found`` is within the bounds)."""
        if self.min is not None and found < self.min:
            return f"expected at least {self.min}, found {found}"
        if self.max is not None and found > self.max:
            return f"expected at most {self.max}, found {found}"
        return None


class ToolCall(_Model):
    """A tool call to look for among those the remediation made (a subset match).

    Under ``tool_calls`` at least one matching call is expected unless
    ``min``/``max`` bound the count (``{tool: restart, max: 1}``: none or one).
    """

    #: a built-in tool (cpf, kernel, restart) or one a plugin registered
    tool: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    action: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    status: Literal["success", "failure", "partial"] | None = None
    dry_run: bool | None = None
    #: how many matching calls are allowed (``tool_calls`` only)
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> ToolCall:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    def count(self) -> Count:
        """The allowed number of matching calls (at least one unless bounded)."""
        if self.min is None and self.max is None:
            return Count(min=1)
        return Count(min=self.min, max=self.max)

    def describe(self) -> str:
        parts = [self.tool + (f".{self.action}" if self.action else "")]
        parts += [f"{k}={v!r}" for k, v in self.parameters.items()]
        if self.status:
            parts.append(f"status={self.status}")
        return " ".join(parts)


class MessageMatch(_Model):
    """A messages.log entry to look for after the faults."""

    category: str | None = None
    text_contains: str | None = None
    text_regex: str | None = None
    min_severity: int | None = Field(default=None, ge=0, le=3)
    max_severity: int | None = Field(default=None, ge=0, le=3)

    @field_validator("text_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"not a regular expression: {error}") from error
        return value

    def describe(self) -> str:
        parts = []
        if self.category:
            parts.append(f"[{self.category}]")
        if self.text_contains:
            parts.append(repr(self.text_contains))
        if self.text_regex:
            parts.append(f"/{self.text_regex}/")
        if self.min_severity is not None:
            parts.append(f"severity>={self.min_severity}")
        if self.max_severity is not None:
            parts.append(f"severity<={self.max_severity}")
        return " ".join(parts) or "any message"


class EndpointExpectation(_Model):
    """What the endpoint must hold at the end (transport ``http`` only)."""

    received_all: bool = True
    min_received: int = Field(default=0, ge=0)
    outbox_empty: bool = True


class Expect(_Model):
    """What the remediation must achieve, within ``within_s`` host seconds of the first fault."""

    within_s: float = Field(default=300, gt=0, le=MAX_SCENARIO_S)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    no_tool_calls: list[ToolCall] = Field(default_factory=list)
    kernel: dict[KernelKey, Bound] = Field(default_factory=dict)
    cpf: dict[str, dict[str, Bound]] = Field(default_factory=dict)
    restarted: bool | None = None
    #: how many times the instance got a new control process (``{max: 1}``, or a number)
    restarts: Count | None = None
    instance: Literal["running", "down"] | None = None
    users_connected: int | None = Field(default=None, ge=0)
    #: shared memory the CPF needs must fit in kernel.shmmax
    shm_fits: bool | None = None
    messages_after: list[MessageMatch] = Field(default_factory=list)
    no_messages_after: list[MessageMatch] = Field(default_factory=list)
    endpoint: EndpointExpectation | None = None

    @field_validator("no_tool_calls")
    @classmethod
    def _no_counts(cls, value: list[ToolCall]) -> list[ToolCall]:
        for call in value:
            if call.min is not None or call.max is not None:
                raise ValueError(
                    "min/max go under tool_calls; no_tool_calls means none at all "
                    f"(found min/max on {call.describe()!r})"
                )
        return value

    @field_validator("kernel", "cpf", mode="before")
    @classmethod
    def _bare_values(cls, value: Any) -> Any:
        """``kernel.shmmax: 123`` is short for ``{equals: 123}``."""

        def wrap(item: Any) -> Any:
            return {"equals": item} if isinstance(item, str | int) else item

        if isinstance(value, dict):
            return {
                k: (
                    {kk: wrap(vv) for kk, vv in v.items()}
                    if isinstance(v, dict) and not set(v) & {"min", "max", "equals"}
                    else wrap(v)
                )
                for k, v in value.items()
            }
        return value


class Scenario(_Model):
    """One chaos experiment against a sandboxed IRIS host."""

    name: str
    title: str = ""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    seed: int = 0
    host: HostSpec = Field(default_factory=HostSpec)
    #: how messages reach the remediator and its commands the tools: ``direct``
    #: (handed over), or a registered transport by name: ``file`` (JSON Lines
    #: files), ``http`` (the mock endpoint, with the outbox) or a plugin's
    #: (``pytest_iris_add_transports``); the name is checked against the registry
    #: when the scenario is loaded for a run (:mod:`~pytest_iris.chaos.validate`)
    transport: str = Field(default="direct", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    steady_state: SteadyState = Field(default_factory=SteadyState)
    faults: list[Fault] = Field(min_length=1)
    expect: Expect = Field(default_factory=Expect)
    rollbacks: list[Fault] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use lower-case letters, digits, '_' and '-' (it names a test item)")
        return value

    @model_validator(mode="after")
    def _endpoint_needs_http(self) -> Scenario:
        uses_endpoint = any(f.endpoint is not None for f in [*self.faults, *self.rollbacks])
        if (uses_endpoint or self.expect.endpoint) and self.transport != "http":
            raise ValueError("endpoint faults and expectations need 'transport: http'")
        return self


def _flatten(values: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, value in values.items():
        if isinstance(value, dict):
            out += _flatten(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}={value}")
    return out
