"""`Model`: what solvers and scorers call. A provider client plus its pool, defaults and usage."""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.config import BatchConfig, CacheConfig, ConnectionConfig, GenerationConfig
from engine.logs import Transcript, current_transcript, event_time, seconds_to_micros
from engine.messages import ChatMessage, ModelOutput, ModelUsage, system
from engine.models._structured import RESPONSE_SCHEMA_KEY, validate_reply
from engine.providers import (
    CallRecord,
    ConnectionPool,
    GenerateError,
    ModelAPI,
    create_api,
    sample_cache_hits,
    sample_epoch,
    sample_key,
    sample_usage,
)

if TYPE_CHECKING:
    import anyio

    from engine.batch import Batcher
    from engine.cache import ResponseCache


class HubCache:
    """A hub's response cache: its settings, and its store (opened on first use, in this process).

    One per hub, shared by the hub's models; `ModelHub.aclose` closes it.
    """

    def __init__(self, settings: CacheConfig) -> None:
        from engine.cache import parse_expiry

        self.settings = settings
        self.expiry = parse_expiry(settings.expiry)
        self._store: ResponseCache | None = None
        self.unusable: str | None = None
        """Why the cache could not be opened: the run goes on without it (warned once)."""

    @property
    def store(self) -> ResponseCache | None:
        """The open cache, or None when it cannot be opened or written."""
        if self._store is None and self.unusable is None:
            from engine.cache import CacheError, ResponseCache, warn

            try:
                self._store = ResponseCache(expiry=self.expiry)
            except CacheError as error:
                self.unusable = str(error)
                warn(f"{error}; this run goes on without the cache")
        if self._store is not None and self._store.disabled is not None:
            return None
        return self._store

    def key(
        self, api: ModelAPI, messages: Sequence[ChatMessage], settings: GenerationConfig
    ) -> str:
        from engine.cache import cache_key

        return cache_key(
            provider=api.provider,
            model=api.model_name,
            base_url=api.base_url,
            messages=messages,
            generation=settings,
            epoch=sample_epoch.get() if self.settings.per_epoch else None,
            scopes=self.settings.scopes,
        )

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


@dataclass(slots=True)
class _Counts:
    calls: int = 0
    cache_hits: int = 0


class Model:
    def __init__(
        self,
        api: ModelAPI,
        pool: ConnectionPool,
        generation: GenerationConfig,
        cache: HubCache | None = None,
        batcher: Batcher | None = None,
    ) -> None:
        self.api = api
        self.pool = pool
        self.generation = generation
        self.cache = cache
        """The hub's response cache when `cache=on`; None costs nothing per call."""
        self.batcher = batcher
        """Set with `batch=on` when the provider has a batch API: requests go in batches."""
        self.name = str(api)
        self.usage = ModelUsage()
        self._counts = _Counts()
        self.role: str | None = None
        """The role this view of the model plays (see `as_role`); None for the model under test."""
        self._roles: dict[str, Model] = {}

    @property
    def calls(self) -> int:
        """Requests that reached the provider (cache hits send none)."""
        return self._counts.calls

    @property
    def cache_hits(self) -> int:
        return self._counts.cache_hits

    def as_role(self, role: str) -> Model:
        """This model playing `role`: the same client, pool, cache and counters, but its calls are
        recorded under the role in the transcript (as Inspect's `get_model(role=...)` does)."""
        if self.role == role:
            return self
        view = self._roles.get(role)
        if view is None:
            view = copy.copy(self)
            view.role = role
            self._roles[role] = view
        return view

    def call_of(
        self, messages: Sequence[ChatMessage], config: GenerationConfig | None
    ) -> tuple[GenerationConfig, Sequence[ChatMessage]]:
        """A call's settings (the model's, then the call's) and messages (with the settings'
        system message first unless one is there): what is sent, or estimated."""
        settings = self.generation if config is None else self.generation.merged(config)
        if settings.system_message and not any(m.role == "system" for m in messages):
            messages = [system(settings.system_message), *messages]
        return settings, messages

    async def generate(
        self, messages: Sequence[ChatMessage], config: GenerationConfig | None = None
    ) -> ModelOutput:
        settings, messages = self.call_of(messages, config)
        transcript = current_transcript()
        started = (event_time(), transcript.working_time if transcript is not None else 0.0)
        record = CallRecord()
        cache_state: str | None = None
        try:
            output = await self._generate(messages, settings, record)
        except Exception as error:
            if transcript is not None:
                reason = (
                    error.reason
                    if isinstance(error, GenerateError)
                    else f"{type(error).__name__}: {error}"
                )
                failed = ModelOutput(self.name, error=reason)
                self._record(transcript, messages, settings, failed, started, record, None)
            raise
        if self.cache is not None and output.metadata:
            cache_state = {"hit": "read", "miss": "write"}.get(output.metadata.get("cache", ""))
        if transcript is not None:
            self._record(transcript, messages, settings, output, started, record, cache_state)
        return output

    async def _generate(
        self, messages: Sequence[ChatMessage], settings: GenerationConfig, record: CallRecord
    ) -> ModelOutput:
        api = self.api
        cache = self.cache
        key = None
        store = cache.store if cache is not None else None
        if cache is not None and store is not None:
            # Looked up before the pool: a hit takes no connection slot and sends nothing.
            start = time.perf_counter()
            key = cache.key(api, messages, settings)
            hit = store.get(key)
            if hit is not None:
                hit.time = time.perf_counter() - start
                hit.metadata = {**(hit.metadata or {}), "cache": "hit"}
                self._counts.cache_hits += 1
                hits = sample_cache_hits.get()
                if hits is not None:
                    hits[self.name] = hits.get(self.name, 0) + 1
                self._count_usage(hit.usage)  # what the answer cost, even if paid earlier
                return hit
        start = time.perf_counter()
        if self.batcher is not None:
            sample = (sample_key.get(), sample_epoch.get())
            output = await self.batcher.generate(messages, settings, sample)
            record.waited += time.perf_counter() - start  # queued and waiting on the batch
        else:

            async def attempt(timeout: float | None) -> ModelOutput:
                return await api.generate(messages, settings, timeout)

            output = await self.pool.call(attempt, api.classify, record)
        output.time = time.perf_counter() - start
        self._counts.calls += 1
        self._count_usage(output.usage)
        if settings.response_schema is not None and output.error is None:
            verdict = validate_reply(settings.response_schema, output.completion)
            output.metadata = {**(output.metadata or {}), RESPONSE_SCHEMA_KEY: verdict}
        if key is not None and store is not None and output.error is None:
            store.put(key, output, model=self.name, base_url=api.base_url)
            output.metadata = {**(output.metadata or {}), "cache": "miss"}
        return output

    def _record(
        self,
        transcript: Transcript,
        messages: Sequence[ChatMessage],
        settings: GenerationConfig,
        output: ModelOutput,
        started: tuple[str, float],
        record: CallRecord,
        cache: str | None,
    ) -> None:
        """Inspect's `ModelEvent` for one generate call (its retries, cache use and batch too)."""
        transcript.waited += record.waited
        metadata: dict[str, Any] = {}
        if record.retry_errors:
            metadata["retry_errors"] = record.retry_errors
        batch = (output.metadata or {}).get("batch")
        if batch is not None:
            metadata["batch"] = batch
        event = transcript.add(
            "model",
            model=self.name,
            role=self.role,
            input=[message.to_log() for message in messages],
            tools=[],
            tool_choice="none",
            config=settings.model_dump(mode="json", exclude_none=True),
            output=output.to_log(),
            retries=len(record.retry_errors),
            error=output.error,
            cache=cache,
            completed=event_time(),
            working_time=seconds_to_micros(output.time),
            metadata=metadata or None,
        )
        event["timestamp"], event["working_start"] = started[0], seconds_to_micros(started[1])

    def _count_usage(self, usage: ModelUsage) -> None:
        self.usage.add(usage)
        per_sample = sample_usage.get()
        if per_sample is not None:
            per_sample.setdefault(self.name, ModelUsage()).add(usage)

    def __repr__(self) -> str:
        return f"Model({self.name})"


class ModelHub:
    """Creates models and shares one pool per (provider, base URL, account, model) across them,
    as Inspect scopes `max_connections` per model: a 2-model sweep gets a pool for each, while a
    grader that is the model under test shares its pool. A role with its own connection settings
    gets its own pool."""

    def __init__(
        self,
        connection: ConnectionConfig,
        cache: CacheConfig | None = None,
        batch: BatchConfig | None = None,
    ) -> None:
        self.connection = connection
        self.batch = batch if batch is not None and batch.enabled else None
        self.batch_settings = batch
        """The run's batch settings even when off: a role's `batch` keys are laid over them."""
        self.batch_slots: dict[tuple[str, str, str], anyio.Semaphore] = {}
        """`max_batches` per connection pool, shared by its models' batchers."""
        self.notes: list[str] = []
        """Said once per run (a provider without a batch API runs its requests one by one)."""
        self.cache = cache
        self.response_cache = HubCache(cache) if cache is not None and cache.enabled else None
        """Opened on the first lookup; None when the cache is off."""
        self.pools: dict[tuple[str, ...], ConnectionPool] = {}
        self.models: dict[tuple[Any, ...], Model] = {}

    def get(
        self,
        model: str,
        generation: GenerationConfig,
        model_args: dict[str, Any] | None = None,
        base_url: str | None = None,
        *,
        connection: ConnectionConfig | None = None,
        batch: BatchConfig | None = None,
    ) -> Model:
        """`connection`, `batch`: a role's own settings; the keys they set win over the hub's."""
        args = model_args or {}
        settings = self.connection
        if connection is not None:
            given = {k: getattr(connection, k) for k in connection.model_fields_set}
            settings = self.connection.model_copy(update=given)
        batching = self.batch
        if batch is not None:
            given = {k: getattr(batch, k) for k in batch.model_fields_set}
            merged = (self.batch_settings or BatchConfig()).model_copy(update=given)
            batching = merged if merged.enabled else None
        # GenerationConfig holds lists and dicts (stop_seqs, extra_body): key on its JSON.
        args_key = tuple(sorted((k, repr(v)) for k, v in args.items()))
        own = "" if settings is self.connection else settings.model_dump_json()
        batch_key = None if batching is None else batching.model_dump_json()
        key = (model, generation.model_dump_json(), args_key, base_url, own, batch_key)
        found = self.models.get(key)
        if found is not None:
            return found
        api = create_api(model, args, base_url)
        api.configure(settings)
        pool_key = (*api.pool_key, api.model_name, own)
        pool = self.pools.get(pool_key)
        if pool is None:
            pool = ConnectionPool(pool_key, settings, cap=api.max_connections)
            self.pools[pool_key] = pool
        batcher = self._batcher(api, pool, generation, batching) if batching is not None else None
        created = Model(api, pool, generation, self.response_cache, batcher)
        self.models[key] = created
        return created

    def _batcher(
        self,
        api: ModelAPI,
        pool: ConnectionPool,
        generation: GenerationConfig,
        batching: BatchConfig,
    ) -> Batcher | None:
        import hashlib

        import anyio

        from engine.batch import Batcher

        adapter = api.batch_adapter()
        if adapter is None:
            note = f"{api.service} has no batch API: its requests are sent one by one"
            if note not in self.notes:
                self.notes.append(note)
            return None
        slots = self.batch_slots.get(api.pool_key)
        if slots is None:
            slots = self.batch_slots[api.pool_key] = anyio.Semaphore(batching.max_batches)
        settings = hashlib.sha256(generation.model_dump_json().encode()).hexdigest()[:8]
        return Batcher(f"{api}#{settings}", adapter, pool, batching, slots)

    async def aclose(self) -> None:
        try:
            for model in self.models.values():
                await model.api.aclose()
        finally:
            if self.response_cache is not None:
                self.response_cache.close()
