"""What a provider's batch API must offer the batcher: build a request, create, poll, read results.

Adapters reuse their provider's request building and response parsing; only the batch endpoints
(upload, create, status, results) are theirs.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.config import GenerationConfig
from engine.messages import ChatMessage, ModelOutput
from engine.providers._api import ModelAPI
from engine.providers._errors import Classified

__all__ = ["BatchAdapter", "BatchState", "LineError", "LineResult", "Prepared"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request as a batch line carries it."""

    body: Any
    """What `create` sends for this request (the provider's own request shape)."""
    canonical: str
    """Its canonical JSON: hashed into the custom id and counted against the byte limit."""

    @classmethod
    def of(cls, body: Any, shape: Any = None) -> Prepared:
        """`body` with the canonical JSON of `shape` (the body itself by default)."""
        data = body if shape is None else shape
        return cls(body, json.dumps(data, sort_keys=True, separators=(",", ":")))


@dataclass(frozen=True, slots=True)
class BatchState:
    """A batch's status as last polled."""

    status: str
    """The provider's own name for it (`in_progress`, `ended`, `JOB_STATE_SUCCEEDED`, …)."""
    done: bool
    """No further change: results (possibly partial) can be read."""
    failure: str | None = None
    """The whole batch failed (e.g. validation): every request fails with this reason."""
    handle: Any = None
    """Provider data `results` needs (output file ids, the results URL, inlined responses)."""


@dataclass(frozen=True, slots=True)
class LineError:
    """One request of a batch failed; `retry` sends it again in a later batch."""

    reason: str
    retry: bool = False


LineResult = ModelOutput | LineError


class BatchAdapter(ABC):
    """One model's batch API. Every method makes one attempt; the connection pool retries."""

    max_requests: int
    """The provider's limit on requests per batch."""
    max_bytes: int
    """The provider's limit on a batch's size (the JSON of its requests), with some margin."""

    def __init__(self, api: ModelAPI) -> None:
        self.api = api

    @abstractmethod
    def prepare(self, messages: Sequence[ChatMessage], config: GenerationConfig) -> Prepared:
        """The request the provider's own `generate` would send, as a batch line carries it."""

    @abstractmethod
    async def create(
        self, requests: Sequence[tuple[str, Any]], tag: str, timeout: float | None
    ) -> str:
        """Submit (custom id, body) pairs as one batch labelled `tag` (if the API can); its id."""

    async def find(self, tag: str, since: float, timeout: float | None) -> str | None:
        """The id of the batch created at or after `since` (unix time) with label `tag`, if any.

        A create call whose answer was lost (a dropped connection, a killed run) may still have
        created its batch: this finds it instead of paying for it twice. None without a way to
        look batches up by label (Anthropic's Message Batches carry no metadata).
        """
        return None

    @abstractmethod
    async def status(self, batch_id: str, timeout: float | None) -> BatchState: ...

    @abstractmethod
    async def results(
        self, batch_id: str, state: BatchState, timeout: float | None
    ) -> dict[str, LineResult]:
        """Each answered request's output or error, by custom id (missing ones were not run)."""

    def classify(self, error: BaseException) -> Classified:
        return self.api.classify(error)
