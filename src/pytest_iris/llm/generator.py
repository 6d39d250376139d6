"""LLM-written IRIS messages through ``openai.AsyncOpenAI``, validated line by line.

Each answer is parsed with the project's own reader; an answer with invalid
lines is sent back with what was wrong (up to ``max_attempts`` in all). HTTP
calls share one client per provider, are bounded by a semaphore, fall back
along the provider chain on 429, 5xx, timeouts and connection errors, and
identical requests within a run are answered from a cache.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import Awaitable, Coroutine, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from pytest_iris.errors import CassetteError, LLMError
from pytest_iris.llm import prompts
from pytest_iris.llm._http import http_module, ssl_context
from pytest_iris.llm.providers import Provider
from pytest_iris.llm.results import Classification, Generation, Stats
from pytest_iris.llm.validate import check_answer
from pytest_iris.log.grammar import format_message
from pytest_iris.log.model import IRISMessage

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from pytest_iris.llm.settings import LLMSettings

__all__ = ["Classification", "Generation", "LLMGenerator", "Stats"]

T = TypeVar("T")
#: entries one generate call asks for (invented bound, docs/limits.md): a model answers a
#: few hundred lines at most; a typo such as count=10**9 fails before any request
MAX_ENTRIES: Final = 1_000
_QUOTE: Final = 600


@dataclass(slots=True)
class _Answer:
    content: str
    provider: Provider
    model: str
    fallbacks: tuple[str, ...]


def _log(event: str, level: str = "warning", **fields: Any) -> None:
    """A structlog JSON event with the current trace id (only on the rare paths)."""
    from pytest_iris.logging import get_logger

    getattr(get_logger("pytest_iris.llm"), level)(event, **fields)


class LLMGenerator:
    """Generate and classify IRIS messages with a chain of OpenAI-compatible providers.

    ``transport`` replaces the HTTP transport of the shared client (the cassette
    replay transport does this); without it requests go to the providers.
    ``cache=False`` sends identical requests again (benchmarks, sampling).
    """

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        temperature: float = 0.7,
        classify_model: str | None = None,
        max_concurrency: int = 8,
        max_attempts: int = 3,
        timeout_s: float = 30.0,
        transport: Any = None,
        require_keys: bool = True,
        cache: bool = True,
    ) -> None:
        if not providers:
            raise LLMError("the provider chain is empty: configure at least one provider")
        if max_concurrency < 1 or max_attempts < 1:
            raise ValueError("max_concurrency and max_attempts must be at least 1")
        self.providers = tuple(providers)
        self.temperature = temperature
        self.classify_model = classify_model
        self.max_concurrency = max_concurrency
        self.max_attempts = max_attempts
        self.timeout_s = timeout_s
        self.stats = Stats()
        self._transport = transport
        self._require_keys = require_keys and transport is None
        self._http: Any = None
        self._clients: dict[str, AsyncOpenAI] = {}
        self._semaphore: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._cache: dict[str, Any] = {}
        self._use_cache = cache
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._runner: asyncio.Runner | None = None

    @classmethod
    def from_settings(cls, settings: LLMSettings, *, transport: Any = None) -> LLMGenerator:
        return cls(
            settings.providers,
            temperature=settings.temperature,
            classify_model=settings.classify_model,
            max_concurrency=settings.max_concurrency,
            max_attempts=settings.max_attempts,
            timeout_s=settings.timeout_s,
            transport=transport,
        )

    # -- public API -----------------------------------------------------------------

    async def generate(
        self, incident: str, count: int = 5, *, start: str = prompts.DEFAULT_START
    ) -> Generation:
        """``count`` messages.log entries for ``incident`` (see :data:`prompts.INCIDENTS`)."""
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_ENTRIES:
            raise ValueError(f"count={count!r}: allowed 1..{MAX_ENTRIES} entries per incident")
        item = prompts.incident(incident)
        chat = prompts.generate_messages(item, count, start)
        key = self._key("generate", chat, self.temperature, None)
        return cast(Generation, await self._cached(key, lambda: self._generate(item, count, chat)))

    async def classify(self, entry: IRISMessage | str) -> Classification:
        """Which remediation ``entry`` calls for, with one short, cheap call."""
        text = format_message(entry) if isinstance(entry, IRISMessage) else entry
        chat = prompts.classify_messages(text)
        key = self._key("classify", chat, 0.0, self.classify_model)
        return cast(Classification, await self._cached(key, lambda: self._classify(chat)))

    def generate_sync(
        self, incident: str, count: int = 5, *, start: str = prompts.DEFAULT_START
    ) -> Generation:
        """:meth:`generate` for synchronous code (runs on the generator's own loop)."""
        return self.run(self.generate(incident, count, start=start))

    def classify_sync(self, entry: IRISMessage | str) -> Classification:
        """:meth:`classify` for synchronous code."""
        return self.run(self.classify(entry))

    async def gather(self, calls: Sequence[Awaitable[T]]) -> list[T]:
        """Await many calls concurrently (the semaphore still bounds the HTTP calls)."""
        return list(await asyncio.gather(*calls))

    # -- attempts ---------------------------------------------------------------------

    async def _generate(
        self, item: prompts.Incident, count: int, chat: list[prompts.ChatMessage]
    ) -> Generation:
        answers: list[str] = []
        fallbacks: list[str] = []
        best: tuple[int, Any, _Answer] | None = None
        for attempt in range(1, self.max_attempts + 1):
            answer = await self._complete(chat, self.temperature, None, {})
            answers.append(answer.content)
            fallbacks.extend(answer.fallbacks)
            checked = check_answer(answer.content)
            if checked.ok:
                return Generation(
                    item.name,
                    checked.messages,
                    answer.provider.name,
                    answer.model,
                    attempt,
                    tuple(answers),
                    (),
                    tuple(fallbacks),
                )
            _log(
                "llm.invalid_answer",
                "info",
                incident=item.name,
                attempt=attempt,
                provider=answer.provider.name,
                problems=list(checked.problems[:5]),
            )
            if best is None or len(checked.messages) > best[0]:
                best = (len(checked.messages), checked, answer)
            chat = prompts.retry_messages(chat, answer.content, list(checked.problems), count)
        assert best is not None
        _, checked, answer = best
        if checked.messages:
            return Generation(
                item.name,
                checked.messages,
                answer.provider.name,
                answer.model,
                self.max_attempts,
                tuple(answers),
                checked.problems,
                tuple(fallbacks),
            )
        _log("llm.gave_up", "error", incident=item.name, attempts=self.max_attempts)
        raise LLMError(
            f"no valid messages.log entry for incident {item.name!r} after "
            f"{self.max_attempts} attempts (last answer from provider {answer.provider.name!r}, "
            f"model {answer.model!r}); what came back:\n{_quote(answers)}"
        )

    async def _classify(self, chat: list[prompts.ChatMessage]) -> Classification:
        answers: list[str] = []
        fallbacks: list[str] = []
        for attempt in range(1, self.max_attempts + 1):
            answer = await self._complete(chat, 0.0, self.classify_model, {"max_tokens": 4})
            answers.append(answer.content)
            fallbacks.extend(answer.fallbacks)
            word = answer.content.strip().strip(".\"'`").lower()
            if word in prompts.LABELS:
                return Classification(
                    word,
                    answer.provider.name,
                    answer.model,
                    answer.content,
                    attempt,
                    tuple(fallbacks),
                )
            chat = prompts.classify_retry_messages(chat, answer.content)
        raise LLMError(
            f"the classify answer was not one of {', '.join(prompts.LABELS)} after "
            f"{self.max_attempts} attempts; what came back:\n{_quote(answers)}"
        )

    # -- one chat completion along the provider chain --------------------------------

    async def _complete(
        self,
        chat: list[prompts.ChatMessage],
        temperature: float,
        model: str | None,
        extra: dict[str, Any],
    ) -> _Answer:
        import openai
        from openai.types.chat import ChatCompletion

        failures: list[str] = []
        for provider in self.providers:
            client = self._client(provider)
            used_model = model or provider.model
            try:
                async with self._bounded():
                    self.stats.requests += 1
                    self.stats.by_provider[provider.name] = (
                        self.stats.by_provider.get(provider.name, 0) + 1
                    )
                    # client.post is the SDK's own request path (same HTTP client,
                    # errors, ChatCompletion parsing) without create()'s walk of the
                    # typed parameters, which is an identity for these plain dicts and
                    # costs more than the rest of the call (see bench/llm.py).
                    response = await client.post(
                        "/chat/completions",
                        cast_to=ChatCompletion,
                        body={
                            "model": used_model,
                            "messages": chat,
                            "temperature": temperature,
                            **extra,
                        },
                    )
            except openai.APIConnectionError as error:
                if isinstance(error.__cause__, CassetteError):
                    raise error.__cause__ from None
                kind = "timeout" if isinstance(error, openai.APITimeoutError) else "connection"
                failures.append(f"{provider.name}: {kind} error ({error.__cause__ or error})")
                _log("llm.fallback", provider=provider.name, reason=failures[-1])
                continue
            except openai.APIStatusError as error:
                if error.status_code == 429 or error.status_code >= 500:
                    after = error.response.headers.get("retry-after")
                    note = f", Retry-After {after}" if after else ""
                    failures.append(f"{provider.name}: HTTP {error.status_code}{note}")
                    _log("llm.fallback", provider=provider.name, reason=failures[-1])
                    continue
                raise LLMError(
                    f"provider {provider.name!r} ({provider.base_url}) refused the request: "
                    f"HTTP {error.status_code}: {error.message}"
                ) from error
            content = response.choices[0].message.content if response.choices else None
            return _Answer(content or "", provider, response.model or used_model, tuple(failures))
        raise LLMError("every provider in the chain failed: " + "; ".join(failures))

    def _bounded(self) -> _InFlight:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._semaphore[0] is not loop:
            self._semaphore = (loop, asyncio.Semaphore(self.max_concurrency))
        return _InFlight(self._semaphore[1], self.stats)

    def _client(self, provider: Provider) -> AsyncOpenAI:
        client = self._clients.get(provider.name)
        if client is None:
            from openai import AsyncOpenAI

            if self._http is None:
                httpx = http_module()
                transport = self._transport or httpx.AsyncHTTPTransport(verify=ssl_context())
                self._http = httpx.AsyncClient(transport=transport, timeout=self.timeout_s)
            client = AsyncOpenAI(
                api_key=provider.api_key(required=self._require_keys),
                base_url=provider.base_url,
                max_retries=0,
                timeout=self.timeout_s,
                http_client=self._http,
            )
            self._clients[provider.name] = client
        return client

    # -- cache --------------------------------------------------------------------------

    def _key(
        self, kind: str, chat: list[prompts.ChatMessage], temperature: float, model: str | None
    ) -> str:
        chain = [(p.base_url, model or p.model) for p in self.providers]
        return json.dumps([kind, chain, temperature, chat], sort_keys=True)

    async def _cached(self, key: str, make: Any) -> Any:
        if not self._use_cache:
            return await make()
        if key in self._cache:
            self.stats.cache_hits += 1
            return _as_cached(self._cache[key])
        pending = self._pending.get(key)
        if pending is not None and pending.get_loop() is asyncio.get_running_loop():
            self.stats.cache_hits += 1
            return _as_cached(await asyncio.shield(pending))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            result = await make()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters re-raise it, nobody else must
            raise
        else:
            self._cache[key] = result
            future.set_result(result)
            return result
        finally:
            self._pending.pop(key, None)

    # -- lifecycle ------------------------------------------------------------------------

    def run(self, call: Coroutine[Any, Any, T]) -> T:
        """Run ``call`` on the generator's own event loop (kept open so the client is reused)."""
        if self._runner is None:
            self._runner = asyncio.Runner()
        # The caller's context now (trace id ...), not the one the runner was created in.
        return self._runner.run(call, context=contextvars.copy_context())

    async def aclose(self) -> None:
        """Close the shared HTTP client."""
        http, self._http = self._http, None
        self._clients.clear()
        if http is not None:
            await http.aclose()

    def close(self) -> None:
        """Close the client and the generator's own event loop (for synchronous use)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            try:
                runner.run(self.aclose())
            finally:
                runner.close()
        elif self._http is not None:
            try:
                asyncio.run(self.aclose())
            except Exception:  # pooled connections of an event loop that is gone
                self._http = None

    def __enter__(self) -> LLMGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> LLMGenerator:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class _InFlight:
    """The semaphore, plus the count of calls inside it (tests read the peak)."""

    __slots__ = ("_semaphore", "_stats")

    def __init__(self, semaphore: asyncio.Semaphore, stats: Stats) -> None:
        self._semaphore = semaphore
        self._stats = stats

    async def __aenter__(self) -> None:
        await self._semaphore.acquire()
        stats = self._stats
        stats.in_flight += 1
        stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)

    async def __aexit__(self, *exc: object) -> None:
        self._stats.in_flight -= 1
        self._semaphore.release()


def _as_cached(result: Any) -> Any:
    from dataclasses import replace

    return replace(result, cached=True)


def _quote(answers: Sequence[str]) -> str:
    parts = []
    for number, answer in enumerate(answers, 1):
        shown = answer if len(answer) <= _QUOTE else answer[:_QUOTE] + f"... ({len(answer)} chars)"
        parts.append(f"--- attempt {number} ---\n{shown}")
    return "\n".join(parts)
