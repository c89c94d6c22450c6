"""One connection pool per (provider, base URL, account): a concurrency cap plus the retry policy.

Only this layer retries (the SDK clients are built with `max_retries=0`), so retries never multiply.
The limiter is held for one attempt at a time and released while backing off.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from engine.config import ConnectionConfig
from engine.providers._errors import Classified, ErrorKind, GenerateError

T = TypeVar("T")


class ConnectionPool:
    def __init__(
        self, key: tuple[str, str, str], settings: ConnectionConfig, cap: int | None = None
    ):
        self.key = key
        self.settings = settings
        connections = (
            settings.max_connections if cap is None else min(cap, settings.max_connections)
        )
        self.limiter = anyio.CapacityLimiter(connections)
        self.retries = 0
        self.rate_limits = 0

    @property
    def max_connections(self) -> int:
        return int(self.limiter.total_tokens)

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff: uniform in [0, min(max, base * 2**attempt)]."""
        ceiling = min(self.settings.backoff_max, self.settings.backoff_base * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    async def call(
        self,
        attempt: Callable[[float | None], Awaitable[T]],
        classify: Callable[[BaseException], Classified],
    ) -> T:
        """Run `attempt(per_attempt_timeout)` until it succeeds, fails fatally or runs out of budget."""
        settings = self.settings
        deadline = None if settings.timeout is None else time.monotonic() + settings.timeout
        tries = 0
        while True:
            per_attempt = settings.attempt_timeout
            if deadline is not None:
                remaining = deadline - time.monotonic()
                per_attempt = remaining if per_attempt is None else min(per_attempt, remaining)
            tries += 1
            try:
                async with self.limiter:
                    if per_attempt is None:
                        return await attempt(None)
                    # The SDK gets the timeout too; this is the backstop if it does not honour it.
                    with anyio.fail_after(per_attempt + 5):
                        return await attempt(per_attempt)
            except TimeoutError:
                verdict = Classified(
                    ErrorKind.TRANSIENT, f"attempt timed out after {per_attempt:g}s"
                )
            except Exception as error:
                verdict = classify(error)
            if verdict.kind is ErrorKind.FATAL:
                raise GenerateError(verdict.reason, attempts=tries)
            if tries > settings.max_retries:
                raise GenerateError(
                    f"gave up after {tries} attempts: {verdict.reason}", attempts=tries
                )
            delay = (
                verdict.retry_after if verdict.retry_after is not None else self.backoff(tries - 1)
            )
            if deadline is not None and time.monotonic() + delay >= deadline:
                raise GenerateError(
                    f"timeout of {settings.timeout:g}s reached after {tries} attempts: {verdict.reason}",
                    attempts=tries,
                )
            self.retries += 1
            if verdict.kind is ErrorKind.RATE_LIMIT:
                self.rate_limits += 1
            await anyio.sleep(delay)
