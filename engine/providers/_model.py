"""`Model`: what solvers and scorers call. A provider client plus its pool, defaults and usage."""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from engine.config import CacheConfig, ConnectionConfig, GenerationConfig
from engine.providers._api import ModelAPI
from engine.providers._pool import ConnectionPool
from engine.providers._registry import create_api
from engine.providers._types import ChatMessage, ModelOutput, ModelUsage, system

sample_usage: ContextVar[dict[str, ModelUsage] | None] = ContextVar("sample_usage", default=None)
"""Set by the runner for each sample, so usage is recorded per sample and per model."""

sample_epoch: ContextVar[int] = ContextVar("sample_epoch", default=1)
"""The epoch of the sample being run (the response cache keys on it when `per_epoch`)."""


class Model:
    def __init__(self, api: ModelAPI, pool: ConnectionPool, generation: GenerationConfig) -> None:
        self.api = api
        self.pool = pool
        self.generation = generation
        self.name = str(api)
        self.usage = ModelUsage()
        self.calls = 0

    async def generate(
        self, messages: Sequence[ChatMessage], config: GenerationConfig | None = None
    ) -> ModelOutput:
        settings = self.generation if config is None else self.generation.merged(config)
        if settings.system_message and not any(m.role == "system" for m in messages):
            messages = [system(settings.system_message), *messages]
        api = self.api
        start = time.perf_counter()

        async def attempt(timeout: float | None) -> ModelOutput:
            return await api.generate(messages, settings, timeout)

        output = await self.pool.call(attempt, api.classify)
        output.time = time.perf_counter() - start
        self.calls += 1
        self.usage.add(output.usage)
        per_sample = sample_usage.get()
        if per_sample is not None:
            per_sample.setdefault(self.name, ModelUsage()).add(output.usage)
        return output

    def __repr__(self) -> str:
        return f"Model({self.name})"


class ModelHub:
    """Creates models and shares one pool per (provider, base URL, account) across them."""

    def __init__(self, connection: ConnectionConfig, cache: CacheConfig | None = None) -> None:
        self.connection = connection
        self.cache = cache
        self.pools: dict[tuple[str, str, str], ConnectionPool] = {}
        self.models: dict[tuple[Any, ...], Model] = {}

    def get(
        self,
        model: str,
        generation: GenerationConfig,
        model_args: dict[str, Any] | None = None,
        base_url: str | None = None,
    ) -> Model:
        args = model_args or {}
        # GenerationConfig holds lists and dicts (stop_seqs, extra_body): key on its JSON.
        args_key = tuple(sorted((k, repr(v)) for k, v in args.items()))
        key = (model, generation.model_dump_json(), args_key, base_url)
        found = self.models.get(key)
        if found is not None:
            return found
        api = create_api(model, args, base_url)
        pool = self.pools.get(api.pool_key)
        if pool is None:
            pool = ConnectionPool(api.pool_key, self.connection, cap=api.max_connections)
            self.pools[api.pool_key] = pool
        created = Model(api, pool, generation)
        self.models[key] = created
        return created

    async def aclose(self) -> None:
        for model in self.models.values():
            await model.api.aclose()
