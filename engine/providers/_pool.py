"""One connection pool per (provider, base URL, account, model): a concurrency cap plus the retry
policy (`ModelHub` decides what shares a pool).

Only this layer retries (the SDK clients are built with `max_retries=0`), so retries never multiply.
The limiter is held for one attempt at a time and released while backing off.

With `connection.adaptive`, the cap follows the provider's rate limits (AIMD, as TCP does):

- a rate-limit (429) verdict halves the limit (floor 1), at most once per window: a 429 from an
  attempt that was already in flight when the limit was last cut says nothing about the new limit,
  so only attempts started after the cut can cut again;
- every `limit` consecutive successes (of attempts started after the last cut) add one connection,
  up to the configured `max_connections`. Other errors (5xx, timeouts) neither cut nor break the
  streak: they are not a sign of too much concurrency.

Each change is kept in `history` (Inspect's `EvalStats.connection_limit_history` shape via
`LimitChange.to_log`). With `adaptive` off the limit never moves.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import anyio

from engine.config import ConnectionConfig
from engine.providers._errors import AuthRefused, Classified, ErrorKind, GenerateError

__all__ = ["AuthBreaker", "CallRecord", "ConnectionPool", "LimitChange", "LimitChangeReason"]

T = TypeVar("T")

LimitChangeReason = Literal["rate_limit", "steady_state_up"]
"""Inspect's names: a cut after a 429, or one more connection after a run of successes."""

HISTORY_LIMIT = 1000
"""Changes kept per pool (the oldest are dropped first)."""


@dataclass(frozen=True, slots=True)
class LimitChange:
    """One change of a pool's concurrency limit."""

    timestamp: float
    """Unix time (seconds) of the change."""
    pool: str
    """The pool's name: `provider base_url`."""
    old_limit: int
    new_limit: int
    reason: LimitChangeReason

    def to_log(self, model: str | None = None) -> dict[str, Any]:
        """Inspect's `ConnectionLimitChange`: {timestamp, model, old_limit, new_limit, reason}."""
        return {
            "timestamp": self.timestamp,
            "model": model or self.pool,
            "old_limit": self.old_limit,
            "new_limit": self.new_limit,
            "reason": self.reason,
        }


@dataclass(slots=True)
class CallRecord:
    """What one `call` went through, for the transcript's model event."""

    retry_errors: list[str] = field(default_factory=list)
    """The reason each failed attempt was retried, in order."""
    waited: float = 0.0
    """Seconds spent waiting for a connection slot or backing off (not working)."""


class ConnectionPool:
    def __init__(self, key: tuple[str, ...], settings: ConnectionConfig, cap: int | None = None):
        """`key`: (provider, base URL, account, …) — more parts (the model) may follow."""
        self.key = key
        self.settings = settings
        self.ceiling = (
            settings.max_connections if cap is None else min(cap, settings.max_connections)
        )
        """The configured cap (`max_connections`, or less if the provider imposes it)."""
        self.limiter = Slots(self.ceiling)
        self.adaptive = settings.adaptive
        self.retries = 0
        self.rate_limits = 0
        self.history: deque[LimitChange] = deque(maxlen=HISTORY_LIMIT)
        """Changes of the limit, oldest first (only with `adaptive`)."""
        self._started = 0
        """Attempts started so far (adaptive only): each attempt's sequence number."""
        self._cut_at = 0
        """`_started` at the last cut: attempts numbered up to it were in flight before it."""
        self._streak = 0
        """Successes since the last cut or growth (of attempts started after the last cut)."""
        self.auth = AuthBreaker(settings.auth_failures_stop, self.name)

    @property
    def name(self) -> str:
        provider, base_url = self.key[:2]
        model = self.key[3] if len(self.key) > 3 else ""
        return " ".join(part for part in (f"{provider}/{model}".rstrip("/"), base_url) if part)

    @property
    def max_connections(self) -> int:
        """The most connections this pool ever uses: the runner sizes its workers by it."""
        return self.ceiling

    @property
    def limit(self) -> int:
        """The current concurrency limit (below `max_connections` after adaptive cuts)."""
        return self.limiter.total

    @property
    def in_flight(self) -> int:
        """Attempts holding a connection right now."""
        return self.limiter.borrowed

    def limit_history(self, model: str | None = None) -> list[dict[str, Any]]:
        """`history` in Inspect's `connection_limit_history` shape."""
        return [change.to_log(model) for change in self.history]

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: uniform in [c/2, c], c = min(max, base * 2**attempt)."""
        ceiling = min(self.settings.backoff_max, self.settings.backoff_base * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    # adaptive concurrency

    def _set_limit(self, new: int, reason: LimitChangeReason) -> None:
        old = self.limit
        if new == old:
            return
        self.limiter.resize(new)  # waiting attempts are let in when it grows
        self.history.append(LimitChange(time.time(), self.name, old, new, reason))

    def _on_success(self, sequence: int) -> None:
        if sequence <= self._cut_at:
            return  # sent at the old limit: says nothing about the new one
        self._streak += 1
        limit = self.limit
        if self._streak >= limit and limit < self.ceiling:
            self._streak = 0
            self._set_limit(limit + 1, "steady_state_up")

    def _on_rate_limit(self, sequence: int) -> None:
        if sequence <= self._cut_at:
            return  # already answered by the last cut
        self._streak = 0
        self._cut_at = self._started
        self._set_limit(max(1, self.limit // 2), "rate_limit")

    # calls

    async def call(
        self,
        attempt: Callable[[float | None], Awaitable[T]],
        classify: Callable[[BaseException], Classified],
        record: CallRecord | None = None,
    ) -> T:
        """Run `attempt(per_attempt_timeout)` until it succeeds, fails fatally or runs out of budget.

        `record`, when given, collects the retried attempts' reasons and the time spent waiting.
        """
        settings = self.settings
        adaptive = self.adaptive
        deadline = None if settings.timeout is None else time.monotonic() + settings.timeout
        tries = 0
        sequence = 0
        reason = ""
        while True:
            per_attempt = settings.attempt_timeout
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:  # the backoff sleep overran the budget (a busy event loop)
                    raise GenerateError(
                        f"timeout of {settings.timeout:g}s reached after {tries} attempts: {reason}",
                        attempts=tries,
                    )
                per_attempt = remaining if per_attempt is None else min(per_attempt, remaining)
            tries += 1
            if not await self.auth.admit():
                raise AuthRefused(str(self.auth.tripped), attempts=tries - 1)
            queued = time.monotonic()
            try:
                async with self.limiter:
                    if record is not None:
                        record.waited += time.monotonic() - queued
                    if adaptive:
                        self._started += 1
                        sequence = self._started
                    if per_attempt is None:
                        result = await attempt(None)
                    else:
                        # The SDK gets the timeout too; this is the backstop if it does not honour
                        # it (`anyio.fail_after`'s scope without its two generator wrappers; the
                        # loop's clock is anyio's on asyncio, without asking which library runs).
                        deadline_at = asyncio.get_running_loop().time() + per_attempt + 5
                        backstop = anyio.CancelScope(deadline=deadline_at)
                        with backstop:
                            result = await attempt(per_attempt)
                        if backstop.cancelled_caught:
                            raise TimeoutError
                    if adaptive:
                        self._on_success(sequence)
                    self.auth.settle(None)
                    return result
            except TimeoutError:
                verdict = Classified(
                    ErrorKind.TRANSIENT, f"attempt timed out after {per_attempt:g}s"
                )
            except Exception as error:
                verdict = classify(error)
            except BaseException:
                self.auth.release()  # cancelled before an answer: another sample may probe
                raise
            self.auth.settle(verdict)
            if self.auth.tripped is not None:
                raise AuthRefused(self.auth.tripped, attempts=tries)
            reason = verdict.reason
            if adaptive and verdict.kind is ErrorKind.RATE_LIMIT:
                self._on_rate_limit(sequence)
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
            if record is not None:
                record.retry_errors.append(verdict.reason)
                record.waited += delay
            await anyio.sleep(delay)


class Slots:
    """A pool's limit on attempts in flight: first come, first served, and resizable (adaptive
    concurrency lets waiting attempts in as the limit grows). A free slot is taken without giving
    the event loop a turn; anyio's `CapacityLimiter` takes a shielded checkpoint each time, a
    loop turn and a cancel scope for every request."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.borrowed = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        """Attempts waiting for a slot, oldest first, none let in yet (a cancelled one stays
        until its task runs again or `_let_in` passes over it)."""

    async def __aenter__(self) -> None:
        if self.borrowed < self.total and not self._waiting:
            self.borrowed += 1
            return
        let_in = asyncio.get_running_loop().create_future()
        self._waiting.append(let_in)
        try:
            await let_in
        except BaseException:
            if let_in.done() and not let_in.cancelled():  # let in, then cancelled: pass it on
                self.release()
            elif let_in in self._waiting:  # unless `_let_in` passed over it already
                self._waiting.remove(let_in)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        self.borrowed -= 1
        self._let_in()

    def resize(self, total: int) -> None:
        self.total = total
        self._let_in()

    def _let_in(self) -> None:
        while self._waiting and self.borrowed < self.total:
            let_in = self._waiting.popleft()
            if not let_in.done():  # cancelled, its task not yet run: the slot is for the next
                let_in.set_result(None)
                self.borrowed += 1


class AuthBreaker:
    """Stops a run whose key is wrong after `limit` requests instead of one 401 per sample.

    Until a pool's first answer that is not a 401/403, at most `limit` attempts are let through
    (the rest wait); any other answer (a success, a 400, a 500, a timeout) disarms the breaker for
    good, and `limit` refusals in a row trip it: the pool raises `AuthRefused` for the last refused
    attempt and for every waiting and later one (`attempts=0`: nothing was sent for it).
    """

    def __init__(self, limit: int, pool: str) -> None:
        self.limit = limit
        self.pool = pool
        self.armed = limit > 0
        self.tripped: str | None = None
        """The stop message once tripped."""
        self._sent = 0
        self._refused = 0
        self._changed = anyio.Event()

    async def admit(self) -> bool:
        """Wait for a probe slot while armed; False once tripped (send nothing)."""
        while self.armed and self.tripped is None and self._sent >= self.limit:
            await self._changed.wait()
        if self.tripped is not None:
            return False
        if self.armed:
            self._sent += 1
        return True

    def settle(self, verdict: Classified | None) -> None:
        """After an answered attempt: `verdict` None for a success."""
        if not self.armed:
            return
        if verdict is not None and verdict.status in (401, 403):
            self._refused += 1
            if self._refused >= self.limit:
                self.tripped = (
                    f"stopped after the first {self._refused} requests to {self.pool} were all "
                    f"refused ({verdict.reason}); fix the API key or its permissions and run the "
                    "same command again to resume (connection.auth_failures_stop="
                    f"{self.limit}; 0 turns this off)"
                )
                self._wake()
            return
        self.armed = False
        self._wake()

    def release(self) -> None:
        """An attempt ended without an answer (cancelled): its slot goes to a waiting one."""
        if self.armed:
            self._sent -= 1
            self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()
