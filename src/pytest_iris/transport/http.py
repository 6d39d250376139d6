"""HTTP transport: JSON POSTs with idempotency keys, retries, and a durable outbox.

``publish`` tries a message a few times (exponential backoff with jitter);
if the receiver stays unreachable the message goes to the :class:`Outbox`
(fsynced) and ``publish`` returns False. A background task redelivers the
outbox in order as soon as the receiver answers again. A message leaves the
outbox undelivered only into its dead-letter file (``outbox.dropped``): when
the receiver rejects it for good (400, 409, 413, 415, 422) or after the
retention; a 401, 403, 404 or unfollowable redirect during redelivery keeps
it (the receiver may be misconfigured or restarting). Redirects are followed.

Why ``max_in_flight``: ``httpx.AsyncClient`` gets slower, not faster, with
many concurrent requests (encode/httpx#3215); a few connections with the
publishers queued in front of them carry more (``bench/publish.py``). With
``batch_size > 1``, concurrent publishes are coalesced into batched POSTs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError as PydanticValidationError

from pytest_iris.errors import TransportError
from pytest_iris.models import IRISMessage, RemediationCommand
from pytest_iris.transport.backoff import Backoff
from pytest_iris.transport.envelope import MessageEnvelope, encode_batch, encode_one, wrap
from pytest_iris.transport.outbox import Outbox
from pytest_iris.transport.settings import RetryPolicy, TransportSettings

if TYPE_CHECKING:
    import httpx

MESSAGES_PATH = "/messages"
BATCH_PATH = "/messages/batch"
COMMANDS_PATH = "/commands"
_RETRY_STATUSES = frozenset({408, 425, 429})
#: answers that say the message itself is bad: redelivery dead-letters it at once
_PERMANENT_STATUSES = frozenset({400, 409, 413, 415, 422})
#: how often the redelivery task looks for messages past their retention, seconds
EXPIRE_EVERY_S = 1.0


@dataclass(frozen=True)
class _Outcome:
    delivered: bool
    #: set when the receiver rejected the payload for good (4xx)
    rejected: str | None = None
    #: index of the rejected message within a batch, when the receiver said
    index: int | None = None
    error: str = ""
    #: seconds the receiver asked us to wait (``Retry-After``), if it said
    retry_after: float | None = None
    #: the HTTP status of a rejection
    status: int | None = None


class _Rejected(Exception):
    def __init__(self, outcome: _Outcome) -> None:
        super().__init__(outcome.rejected)
        self.outcome = outcome


class HttpTransport:
    """Publish to ``url`` (``POST /messages`` or ``/messages/batch``), consume ``GET /commands``.

    Use ``async with HttpTransport(url, outbox_dir=...) as transport:``; it also
    opens itself on first use in the running event loop, and closes its client
    when that loop ends (``asyncio.run``).
    """

    def __init__(
        self,
        url: str,
        *,
        outbox_dir: str | os.PathLike[str],
        batch_size: int = 1,
        linger_s: float = 0.0,
        max_in_flight: int = 4,
        timeout_s: float = 5.0,
        retry: RetryPolicy | None = None,
        retention_s: float = 86_400.0,
        poll_interval_s: float = 0.2,
        headers: dict[str, str] | None = None,
        auth_env: str | None = None,
        auth_header: str = "Authorization",
        auth_scheme: str = "Bearer",
    ) -> None:
        checked = _checked_settings(
            endpoint_url=url,
            outbox_dir=os.fspath(outbox_dir),
            batch_size=batch_size,
            linger_s=linger_s,
            max_in_flight=max_in_flight,
            timeout_s=timeout_s,
            retry=retry or RetryPolicy(),
            retention_s=retention_s,
            poll_interval_s=poll_interval_s,
            auth_env=auth_env,
            auth_header=auth_header,
            auth_scheme=auth_scheme,
        )
        self.url = str(checked.endpoint_url)
        self.settings = checked
        self.batch_size = batch_size
        self.outbox = Outbox(outbox_dir, retention_s=retention_s)
        self._headers = dict(headers or {})
        self._backoff = Backoff(checked.retry)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._requests: asyncio.Semaphore | None = None
        self._slots: asyncio.Semaphore | None = None
        self._wake: asyncio.Event | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._queue: list[tuple[MessageEnvelope, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._cursor = 0
        self._last_error = ""
        self._log: Any = None
        #: counts for reports and benchmarks
        self.stats: dict[str, int] = {"posts": 0, "retries": 0, "outboxed": 0, "redelivered": 0}

    @classmethod
    def from_settings(
        cls,
        settings: TransportSettings,
        *,
        url: str | None = None,
        outbox_dir: str | os.PathLike[str] | None = None,
    ) -> HttpTransport:
        """A transport configured by the ``transport`` settings section."""
        target = url or settings.endpoint_url
        if target is None:
            from pytest_iris.errors import ConfigError

            raise ConfigError(
                "transport.endpoint_url is required for kind 'http' "
                "(set PYTEST_IRIS_TRANSPORT__ENDPOINT_URL or transport.endpoint_url in YAML)"
            )
        return cls(
            target,
            outbox_dir=outbox_dir if outbox_dir is not None else settings.outbox_dir,
            batch_size=settings.batch_size,
            linger_s=settings.linger_s,
            max_in_flight=settings.max_in_flight,
            timeout_s=settings.timeout_s,
            retry=settings.retry,
            retention_s=settings.retention_s,
            poll_interval_s=settings.poll_interval_s,
            auth_env=settings.auth_env,
            auth_header=settings.auth_header,
            auth_scheme=settings.auth_scheme,
        )

    def _auth_headers(self) -> dict[str, str]:
        """The credential header, its value read from the environment now (never stored)."""
        name = self.settings.auth_env
        if name is None:
            return {}
        value = os.environ.get(name)
        if not value:
            from pytest_iris.errors import ConfigError

            raise ConfigError(
                f"transport.auth_env names the environment variable {name!r}, which is not set "
                f"(or empty); export {name}=<credential for {self.url}> or unset auth_env"
            )
        scheme = self.settings.auth_scheme
        return {self.settings.auth_header: f"{scheme} {value}" if scheme else value}

    # -- lifecycle -------------------------------------------------------------

    async def open(self) -> HttpTransport:
        """Open the outbox and the HTTP client in the running loop; start redelivery."""
        loop = asyncio.get_running_loop()
        if self._loop is loop and self._client is not None:
            return self
        if self._loop is not None and self._loop is not loop:
            if not self._loop.is_closed():
                raise TransportError(
                    "this HttpTransport is open in another event loop; close it there first"
                )
            self._forget_loop()  # that loop ended (asyncio.run); its tasks closed the client
        import httpx

        from pytest_iris.transport._log import EventLog

        self._log = EventLog("pytest_iris.transport.http", endpoint=self.url)
        auth = self._auth_headers()  # before anything opens: a missing credential is fatal
        # no await from here to the end: concurrent first publishes must not open twice
        self.outbox.open()
        limit = self.settings.max_in_flight
        self._client = httpx.AsyncClient(
            base_url=self.url,
            timeout=httpx.Timeout(self.settings.timeout_s),
            limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
            headers={"Content-Type": "application/json", **self._headers, **auth},
            follow_redirects=True,
        )
        self._loop = loop
        self._requests = asyncio.Semaphore(limit)
        self._slots = asyncio.Semaphore(limit)
        self._wake = asyncio.Event()
        if len(self.outbox):
            self._wake.set()
        self._drainer = loop.create_task(self._drain_loop(), name="iris-outbox-drainer")
        return self

    async def aclose(self) -> None:
        """Finish queued publishes, stop redelivery, close the client and the outbox."""
        if self._loop is asyncio.get_running_loop():
            while self._queue or self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
                await asyncio.sleep(0)
            if self._drainer is not None:
                self._drainer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._drainer
        self._forget_loop()
        self.outbox.close()

    def close(self) -> None:
        """Release the outbox from synchronous code (fixture teardown)."""
        self.outbox.close()

    def _forget_loop(self) -> None:
        self._loop = None
        self._client = None
        self._drainer = None
        self._flusher = None
        self._queue = []
        self._tasks = set()

    async def __aenter__(self) -> HttpTransport:
        return await self.open()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- publishing ------------------------------------------------------------

    async def publish(self, message: IRISMessage) -> bool:
        """Deliver ``message``: True if delivered, False if kept in the outbox."""
        await self.open()
        envelope = wrap(message)
        if self.batch_size > 1:
            return await self._submit(envelope)
        try:
            delivered = await self._deliver([envelope])
        except _Rejected as rejected:
            raise self._rejection_error([envelope], rejected.outcome) from None
        if not delivered:
            await self._store([envelope])
        return delivered

    async def publish_many(self, messages: Iterable[IRISMessage]) -> bool:
        """Deliver ``messages`` in order, in batches; False if any went to the outbox."""
        await self.open()
        envelopes = [wrap(m) for m in messages]
        size = self.batch_size if self.batch_size > 1 else 100
        all_delivered = True
        for start in range(0, len(envelopes), size):
            chunk = envelopes[start : start + size]
            try:
                delivered = await self._deliver(chunk)
            except _Rejected as rejected:
                raise self._rejection_error(chunk, rejected.outcome) from None
            if not delivered:
                await self._store(chunk)
                all_delivered = False
        return all_delivered

    async def _submit(self, envelope: MessageEnvelope) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((envelope, future))
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        """Cut the queue into batches as send slots free up (coalescing publishes)."""
        assert self._slots is not None
        try:
            await asyncio.sleep(self.settings.linger_s)
            while self._queue:
                await self._slots.acquire()
                chunk = self._queue[: self.batch_size]
                del self._queue[: self.batch_size]
                task = asyncio.get_running_loop().create_task(self._send_chunk(chunk))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            self._flusher = None

    async def _send_chunk(self, items: list[tuple[MessageEnvelope, asyncio.Future[bool]]]) -> None:
        assert self._slots is not None
        try:
            delivered = False
            while items:
                envelopes = [e for e, _ in items]
                try:
                    delivered = await self._deliver(envelopes)
                    break
                except _Rejected as rejected:
                    index = rejected.outcome.index
                    if index is None or not 0 <= index < len(items) or len(items) == 1:
                        error = self._rejection_error(envelopes, rejected.outcome)
                        for _, future in items:
                            if not future.done():  # done: its publisher was cancelled
                                future.set_exception(error)
                        return
                    envelope, future = items.pop(index)
                    if not future.done():
                        future.set_exception(self._rejection_error([envelope], rejected.outcome))
            if items and not delivered:
                await self._store([e for e, _ in items])
            for _, future in items:
                if not future.done():
                    future.set_result(delivered)
        except BaseException as error:
            for _, future in items:
                if not future.done():
                    future.set_exception(
                        TransportError(f"publishing to {self.url} failed: {error!r}")
                    )
            raise
        finally:
            self._slots.release()

    async def _deliver(self, envelopes: Sequence[MessageEnvelope]) -> bool:
        """POST with retries; False when every attempt failed (raises _Rejected on 4xx)."""
        attempts = self.settings.retry.attempts
        for attempt in range(attempts):
            outcome = await self._post(envelopes)
            if outcome.delivered:
                return True
            if outcome.rejected is not None:
                raise _Rejected(outcome)
            if attempt + 1 < attempts:
                self.stats["retries"] += 1
                await asyncio.sleep(self._wait(outcome, attempt))
        return False

    def _wait(self, outcome: _Outcome, attempt: int) -> float:
        """Backoff for ``attempt``, or the receiver's ``Retry-After`` if longer (capped)."""
        delay = self._backoff.delay(attempt)
        if outcome.retry_after is not None:
            delay = max(delay, min(outcome.retry_after, self.settings.retry.max_delay_s))
        return delay

    async def _post(self, envelopes: Sequence[MessageEnvelope]) -> _Outcome:
        """One request carrying ``envelopes`` (single POST for one, unless batching)."""
        import httpx

        assert self._client is not None and self._requests is not None
        if len(envelopes) == 1 and self.batch_size == 1:
            path, body = MESSAGES_PATH, encode_one(envelopes[0])
            headers = {"Idempotency-Key": envelopes[0].id}
        else:
            path, body = BATCH_PATH, encode_batch(envelopes)
            headers = {"Idempotency-Key": f"{envelopes[0].id}+{len(envelopes) - 1}"}
        async with self._requests:
            self.stats["posts"] += 1
            try:
                response = await self._client.post(path, content=body, headers=headers)
            except httpx.HTTPError as error:
                self._last_error = f"{type(error).__name__}: {error}"
                return _Outcome(False, error=self._last_error)
        status = response.status_code
        if 200 <= status < 300:
            return _Outcome(True)
        if status >= 500 or status in _RETRY_STATUSES:
            self._last_error = f"HTTP {status}"
            return _Outcome(
                False,
                error=self._last_error,
                retry_after=_seconds(response.headers.get("retry-after")),
            )
        reason, index = _error_of(response)
        return _Outcome(False, rejected=f"HTTP {status}: {reason}", index=index, status=status)

    async def _store(self, envelopes: list[MessageEnvelope]) -> None:
        await asyncio.to_thread(self.outbox.append, envelopes)
        self.stats["outboxed"] += len(envelopes)
        self._log.info(
            "transport.outboxed",
            count=len(envelopes),
            first_id=envelopes[0].id,
            last_error=self._last_error,
            pending=len(self.outbox),
        )
        if self._wake is not None:
            self._wake.set()

    def _rejection_error(
        self, envelopes: Sequence[MessageEnvelope], outcome: _Outcome
    ) -> TransportError:
        which = envelopes[0].id if len(envelopes) == 1 else f"{len(envelopes)} messages"
        single = len(envelopes) == 1 and self.batch_size == 1
        target = self.url.rstrip("/") + (MESSAGES_PATH if single else BATCH_PATH)
        hint = ""
        if outcome.status == 404:  # most often the URL, not the message
            route = urlsplit(target).path
            hint = (
                f" (the receiver has no route POST {route}? the transport posts to "
                f"{MESSAGES_PATH} and {BATCH_PATH} under the URL it is given)"
            )
        return TransportError(
            f"POST {target} rejected {which}: {outcome.rejected}; "
            f"not delivered and not kept in the outbox{hint}"
        )

    # -- redelivery ------------------------------------------------------------

    async def _drain_loop(self) -> None:
        """Redeliver the outbox oldest first; back off while the receiver is down."""
        assert self._wake is not None
        client = self._client
        failures = 0
        size = max(self.batch_size, 1)
        expired_at = 0.0
        try:
            while True:
                await self._wake.wait()
                if time.monotonic() - expired_at >= EXPIRE_EVERY_S:
                    expired_at = time.monotonic()  # a scan per second, not per batch
                    self.outbox.expire()
                batch = self.outbox.peek(size)
                if not batch:
                    self._wake.clear()
                    continue
                try:
                    delivered = await self._redeliver(batch)
                except (TransportError, OSError) as error:  # keep going: the outbox holds them
                    self._log.error("outbox.redelivery_error", error=str(error))
                    delivered = False
                if delivered:
                    failures = 0
                else:
                    await asyncio.sleep(self._backoff.delay(failures))
                    failures += 1
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(client.aclose())

    async def _redeliver(self, batch: list[MessageEnvelope]) -> bool:
        """One attempt at the head of the outbox; True unless the receiver failed."""
        outcome = await self._post(batch)
        if outcome.delivered:
            await asyncio.to_thread(self.outbox.remove, [e.id for e in batch])
            self.stats["redelivered"] += len(batch)
            return True
        if outcome.rejected is not None and outcome.status in _PERMANENT_STATUSES:
            # never deliverable: to the dead-letter file, logged, and go on
            index = outcome.index if outcome.index is not None else 0
            bad = batch[index] if 0 <= index < len(batch) else batch[0]
            await asyncio.to_thread(
                self.outbox.drop, bad, "rejected", status=outcome.status, detail=outcome.rejected
            )
            return True
        if outcome.rejected is not None:  # 401/404/3xx...: kept until it goes or expires
            self._last_error = outcome.rejected
        return False

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Wait until every queued publish finished and the outbox is empty."""
        await self.open()
        deadline = time.monotonic() + timeout_s
        while self._queue or self._tasks or len(self.outbox):
            if self._wake is not None and len(self.outbox):
                self._wake.set()
            if time.monotonic() > deadline:
                raise TransportError(
                    f"{len(self.outbox)} message(s) still in outbox {str(self.outbox.directory)!r} "
                    f"after {timeout_s:g} s; last error: {self._last_error or 'none'}"
                )
            await asyncio.sleep(0.01)

    # -- consuming -------------------------------------------------------------

    async def consume(self) -> AsyncIterator[RemediationCommand]:
        """Poll ``GET /commands`` and yield each command once, in order, forever."""
        import httpx

        await self.open()
        while True:
            assert self._client is not None
            try:
                response = await self._client.get(
                    COMMANDS_PATH, params={"after": self._cursor, "limit": 100}
                )
            except httpx.HTTPError as error:
                self._last_error = f"{type(error).__name__}: {error}"
                await asyncio.sleep(self.settings.poll_interval_s)
                continue
            try:
                page = response.json() if response.status_code == 200 else None
            except ValueError:
                page = None
            if not isinstance(page, dict):
                await asyncio.sleep(self.settings.poll_interval_s)
                continue
            items = page.get("commands") or []
            for item in items:
                try:
                    command = RemediationCommand.model_validate(item["command"])
                except (PydanticValidationError, KeyError, TypeError) as error:
                    raise TransportError(
                        f"{self.url}{COMMANDS_PATH} sent an invalid command (seq "
                        f"{item.get('seq') if isinstance(item, dict) else '?'}): {error}"
                    ) from error
                self._cursor = int(item["seq"])
                yield command
            if not items:
                await asyncio.sleep(self.settings.poll_interval_s)


def _seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the delta form; an HTTP date is ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _checked_settings(**values: Any) -> TransportSettings:
    from pytest_iris.errors import ConfigError

    try:
        return TransportSettings(**values)
    except PydanticValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()
        )
        raise ConfigError(f"invalid HttpTransport arguments: {details}") from error


def _error_of(response: httpx.Response) -> tuple[str, int | None]:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase, None
    if isinstance(data, dict):
        index = data.get("index")
        return str(data.get("error", data)), index if isinstance(index, int) else None
    return str(data)[:200], None
