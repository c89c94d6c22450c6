"""The batcher: requests queue instead of being sent, go out in batches, and wait for their line.

Flow (one batcher per model; `max_batches` shared by the models of one connection pool):

- `generate` queues the request under a custom id (a hash of the sample, the epoch and the request,
  so a resumed run computes the same ids) and waits;
- the send loop forms a batch once `size` requests are queued, the provider's byte limit is reached,
  or the oldest queued request has waited `send_delay`; a batch takes up to `max_size` requests
  and waits for one of the `max_batches` slots;
- each batch in flight is polled every `tick`; when it ends, each waiting request gets its own
  line: an answer, or an error that fails only that request (a transient one, or a line an
  expired batch left unanswered, is queued again for a later batch, up to
  `connection.max_retries` times; a line of a cancelled batch fails: someone cancelled it).

Every call to the provider (create, poll, results) goes through the model's connection pool, which
retries. Batch ids are journaled as soon as a batch exists (`BatchJournal`). Each batch is created
with a fresh tag, journaled just before the create call: a create whose answer was lost (a dropped
connection, retried; a killed run, resumed) is looked up by that tag (`BatchAdapter.find`) and the
batch it made adopted instead of paid for twice, where the provider can label batches.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from engine.batch._journal import BatchJournal, OpenBatch, Unconfirmed
from engine.config import BatchConfig, GenerationConfig
from engine.messages import ChatMessage, ModelOutput
from engine.providers import (
    BatchAdapter,
    BatchState,
    ConnectionPool,
    GenerateError,
    LineError,
    LineResult,
)

__all__ = ["BatchCounts", "Batcher"]


@dataclass(eq=False)
class _Request:
    custom_id: str
    body: Any
    size: int
    sample: tuple[str, int]
    done: anyio.Event = field(default_factory=anyio.Event)
    queued_at: float = 0.0
    tries: int = 0
    batch: str | None = None
    """The batch it waits in: only that batch's line settles it."""
    output: ModelOutput | None = None
    error: str | None = None


@dataclass
class BatchCounts:
    """What the progress display shows."""

    queued: int = 0
    """Requests waiting to be put in a batch."""
    waiting: int = 0
    """Requests in a batch in flight, waiting for their line."""
    pending: int = 0
    """Batches formed and waiting for one of the `max_batches` slots."""
    in_flight: int = 0
    done: int = 0

    def add(self, other: BatchCounts) -> None:
        self.queued += other.queued
        self.waiting += other.waiting
        self.pending += other.pending
        self.in_flight += other.in_flight
        self.done += other.done

    def __str__(self) -> str:
        return (
            f"batches {self.pending} pending, {self.in_flight} in flight, {self.done} done; "
            f"requests {self.queued} queued, {self.waiting} in batches"
        )


class Batcher:
    def __init__(
        self,
        key: str,
        adapter: BatchAdapter,
        pool: ConnectionPool,
        settings: BatchConfig,
        slots: anyio.Semaphore,
    ) -> None:
        self.key = key
        """Names this batcher's batches in the journal (model and generation settings)."""
        self.adapter = adapter
        self.pool = pool
        self.settings = settings
        self.slots = slots
        """At most `max_batches` in flight per connection pool (shared by its batchers)."""
        # Unset, a batch may take up to the provider's limit (Inspect's default).
        self.max_size = min(settings.max_size or adapter.max_requests, adapter.max_requests)
        self.size = min(settings.size, self.max_size)
        """Requests that make a batch go at once (`size`, capped by the provider's limit)."""
        self.journal = BatchJournal(None)
        self.batch_ids: list[str] = []
        """Batches this run created, in order (re-attached ones are not counted)."""
        self._queue: deque[_Request] = deque()
        self._queued_bytes = 0
        self._wake = anyio.Event()
        self._waiting: dict[str, _Request] = {}
        self._attached: dict[str, str] = {}
        """Custom id → the batch an interrupted run put it in (re-attached, not yet read)."""
        self._early: dict[str, tuple[str, ModelOutput]] = {}
        """Answers from re-attached batches that no request has asked for yet."""
        self._seen: dict[str, int] = {}
        self._reattach: list[OpenBatch] = []
        self._unconfirmed: list[Unconfirmed] = []
        self._pending = 0
        self._in_flight = 0
        self._done = 0
        self.on_change: Callable[[], None] = lambda: None
        """Called when a batch is created or ends (the progress display listens)."""

    @property
    def counts(self) -> BatchCounts:
        return BatchCounts(
            len(self._queue), len(self._waiting), self._pending, self._in_flight, self._done
        )

    def attach(
        self,
        journal: BatchJournal,
        open_batches: Sequence[OpenBatch],
        unconfirmed: Sequence[Unconfirmed] = (),
    ) -> None:
        """Journal into `journal`; poll `open_batches` (an interrupted run's) instead of resending,
        and look up the `unconfirmed` ones (its create calls whose batch id was never journaled)."""
        self.journal = journal
        self._unconfirmed = [batch for batch in unconfirmed if batch.key == self.key]
        for intent in self._unconfirmed:  # until looked up, its requests wait under its tag
            for custom_id in intent.custom_ids:
                self._attached[custom_id] = intent.tag
        self._reattach = [batch for batch in open_batches if batch.key == self.key]
        for batch in self._reattach:
            for custom_id in batch.custom_ids:
                self._attached[custom_id] = batch.batch_id

    # the requests' side

    async def generate(
        self, messages: Sequence[ChatMessage], config: GenerationConfig, sample: tuple[str, int]
    ) -> ModelOutput:
        """Queue one request of `sample` (its id and epoch) and wait for its answer."""
        prepared = self.adapter.prepare(messages, config)
        scope = f"{self.key}\0{sample[0]}\0{sample[1]}\0{prepared.canonical}"
        digest = hashlib.sha256(scope.encode()).hexdigest()
        base = digest[:32]
        nth = self._seen.get(base, 0)
        self._seen[base] = nth + 1
        custom_id = base if nth == 0 else f"{base}-{nth}"
        early = self._early.pop(custom_id, None)
        if early is not None:
            return _answered(early[1], early[0])
        request = _Request(custom_id, prepared.body, len(prepared.canonical.encode()), sample)
        if custom_id in self._attached:
            request.batch = self._attached[custom_id]
            self._waiting[custom_id] = request
        else:
            self._enqueue(request)
        await request.done.wait()
        if request.output is None:
            raise GenerateError(request.error or "no answer", attempts=request.tries + 1)
        return request.output

    def _enqueue(self, request: _Request) -> None:
        request.queued_at = time.monotonic()
        self._queue.append(request)
        self._queued_bytes += request.size
        self._wake.set()

    # the batches' side

    async def run(self) -> None:
        """Send and follow batches until cancelled (the runner cancels it when samples are done)."""
        async with anyio.create_task_group() as group:
            for intent in self._unconfirmed:
                await self.slots.acquire()
                group.start_soon(self._adopt, intent)
            for open_batch in self._reattach:
                await self.slots.acquire()
                group.start_soon(
                    self._follow_and_release, open_batch.batch_id, open_batch.custom_ids
                )
            while True:
                await self._batch_ready()
                self._pending = 1
                await self.slots.acquire()
                self._pending = 0
                batch = self._take()
                if batch:
                    group.start_soon(self._submit, batch)
                else:
                    self.slots.release()

    async def _batch_ready(self) -> None:
        """Return once a batch should go: full by count or bytes, or its oldest waited enough."""
        while True:
            if self._queue:
                if len(self._queue) >= self.size or self._queued_bytes >= self.adapter.max_bytes:
                    return
                wait = self._queue[0].queued_at + self.settings.send_delay - time.monotonic()
                if wait <= 0:
                    return
                with anyio.move_on_after(wait):
                    await self._wake.wait()
            else:
                await self._wake.wait()
            self._wake = anyio.Event()

    def _take(self) -> list[_Request]:
        batch: list[_Request] = []
        size = 0
        while self._queue and len(batch) < self.max_size:
            request = self._queue[0]
            if batch and size + request.size > self.adapter.max_bytes:
                break
            self._queue.popleft()
            batch.append(request)
            size += request.size
        self._queued_bytes -= size
        return batch

    async def _submit(self, batch: list[_Request]) -> None:
        try:
            pairs = [(request.custom_id, request.body) for request in batch]
            custom_ids = [request.custom_id for request in batch]
            samples = [request.sample for request in batch]
            tag = f"inspect-run-{uuid.uuid4().hex}"
            since = time.time()
            self.journal.creating(self.key, tag, since, custom_ids, samples)
            attempts = 0

            async def create(timeout: float | None) -> str:
                nonlocal attempts
                attempts += 1
                if attempts > 1:  # the failed attempt may have created the batch all the same
                    found = await self.adapter.find(tag, since, timeout)
                    if found is not None:
                        return found
                return await self.adapter.create(pairs, tag, timeout)

            try:
                batch_id = await self.pool.call(create, self.adapter.classify)
            except GenerateError as error:
                # Its `creating` line stays unresolved: a resumed run looks the tag up.
                for request in batch:
                    self._fail(request, f"batch not created: {error.reason}")
                return
            self.journal.created(self.key, batch_id, custom_ids, samples, tag)
            self.batch_ids.append(batch_id)
            for request in batch:
                request.batch = batch_id
                self._waiting[request.custom_id] = request
            self.on_change()
            await self._follow(batch_id, custom_ids)
        finally:
            self.slots.release()

    async def _adopt(self, intent: Unconfirmed) -> None:
        """Look up the batch an interrupted create call may have made; follow it if found, else
        send its requests again."""
        try:

            async def find(timeout: float | None) -> str | None:
                return await self.adapter.find(intent.tag, intent.at, timeout)

            try:
                batch_id = await self.pool.call(find, self.adapter.classify)
            except GenerateError:
                batch_id = None  # unknown: looked up again on the next resume
                found = False
            else:
                found = True
            if batch_id is None:
                if found:
                    self.journal.not_created(intent.tag)
                for custom_id in intent.custom_ids:
                    if self._attached.get(custom_id) != intent.tag:
                        continue
                    del self._attached[custom_id]
                    request = self._waiting.get(custom_id)
                    if request is not None and request.batch == intent.tag:
                        del self._waiting[custom_id]
                        self._enqueue(request)
                return
            custom_ids = list(intent.custom_ids)
            self.journal.created(self.key, batch_id, custom_ids, list(intent.samples), intent.tag)
            for custom_id in custom_ids:
                if self._attached.get(custom_id) == intent.tag:
                    self._attached[custom_id] = batch_id
                request = self._waiting.get(custom_id)
                if request is not None and request.batch == intent.tag:
                    request.batch = batch_id
            await self._follow(batch_id, custom_ids, reattached=True)
        finally:
            self.slots.release()

    async def _follow_and_release(self, batch_id: str, custom_ids: Sequence[str]) -> None:
        try:
            await self._follow(batch_id, custom_ids, reattached=True)
        finally:
            self.slots.release()

    async def _follow(
        self, batch_id: str, custom_ids: Sequence[str], reattached: bool = False
    ) -> None:
        """Poll every `tick` until the batch ends, then hand each line to its request."""
        self._in_flight += 1
        try:
            state = await self._poll_until_done(batch_id)
            results: dict[str, LineResult] = {}
            if state.failure is None:

                async def read(timeout: float | None) -> dict[str, LineResult]:
                    return await self.adapter.results(batch_id, state, timeout)

                results = await self.pool.call(read, self.adapter.classify)
        except GenerateError as error:
            reason = f"batch {batch_id}: {error.reason}"
            if reattached:
                # An interrupted run's batch the provider no longer gives us (gone, expired
                # results): its requests go again, and no later resume tries it again.
                self.journal.abandoned(batch_id)
                self._settle(batch_id, custom_ids, {}, reason, True)
            else:
                # Still the provider's, and paid for: a resumed run re-attaches to it.
                self._settle(batch_id, custom_ids, {}, reason, False)
            return
        finally:
            self._in_flight -= 1
        self.journal.ended(batch_id)
        self._done += 1
        self.on_change()
        if state.failure is not None:
            self._settle(batch_id, custom_ids, {}, f"batch {batch_id} failed: {state.failure}")
        else:
            missing = f"batch {batch_id} {state.status} before answering this request"
            cancelled = "cancel" in state.status.lower()
            self._settle(batch_id, custom_ids, results, missing, not cancelled)

    async def _poll_until_done(self, batch_id: str) -> BatchState:
        async def poll(timeout: float | None) -> BatchState:
            return await self.adapter.status(batch_id, timeout)

        while True:
            await anyio.sleep(self.settings.tick)
            state = await self.pool.call(poll, self.adapter.classify)
            if state.done:
                return state

    def _settle(
        self,
        batch_id: str,
        custom_ids: Sequence[str],
        results: dict[str, LineResult],
        missing: str,
        retry_missing: bool = False,
    ) -> None:
        for custom_id in custom_ids:
            if self._attached.get(custom_id) == batch_id:
                del self._attached[custom_id]
            outcome = results.get(custom_id) or LineError(missing, retry_missing)
            request = self._waiting.get(custom_id)
            if request is not None and request.batch != batch_id:
                # An interrupted run sent this request again in a later batch (this one
                # expired or failed it): that later batch answers it.
                continue
            self._waiting.pop(custom_id, None)
            if request is None:  # a re-attached line no sample has asked for (yet)
                if isinstance(outcome, ModelOutput):
                    self._early[custom_id] = (batch_id, outcome)
                continue
            if isinstance(outcome, ModelOutput):
                request.output = _answered(outcome, batch_id)
                request.done.set()
            elif outcome.retry and request.tries < self.pool.settings.max_retries:
                request.tries += 1
                self._enqueue(request)
            else:
                tries = f" (after {request.tries + 1} batches)" if request.tries else ""
                self._fail(request, outcome.reason + tries)

    def _fail(self, request: _Request, reason: str) -> None:
        request.error = reason
        request.done.set()


def _answered(output: ModelOutput, batch_id: str) -> ModelOutput:
    """Marked as answered in batch mode (cost figures apply batch pricing to it)."""
    output.metadata = {**(output.metadata or {}), "batch": batch_id}
    return output
