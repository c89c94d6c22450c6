"""The one async interface every provider implements (`ModelAPI`), and the one a provider's batch
API implements (`BatchAdapter`, returned by `ModelAPI.batch_adapter`).

A batch adapter lives beside its provider (`_openai_batch.py` beside `_openai.py`) and reuses its
request building and response parsing; only the batch endpoints (upload, create, status, results)
are its own. `engine.batch` drives any adapter: queueing, sending, polling and the journal.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.config import ConnectionConfig, GenerationConfig
from engine.messages import ChatMessage, Modality, ModelOutput
from engine.providers._errors import Classified


@dataclass(frozen=True, slots=True)
class Deferred:
    """An SDK client not made yet: `make` builds it (importing the SDK) when a request needs it.

    A provider's factory checks everything a config can get wrong (keys, URLs, `model_args`)
    without it, so a plan, which sends nothing, never imports an SDK (`import openai` costs more
    than a second of CPU); a run makes its clients before its clock starts (`ModelAPI.connect`).
    """

    make: Callable[[], Any]
    imports: tuple[str, ...] = ()
    """The SDK modules `make` imports: a parent that forks `workers=K` imports them once, before
    the fork, so no worker pays for them."""


class ModelAPI(ABC):
    """A provider's client for one model. It sends one attempt; the pool retries.

    `client` is the SDK's client; a provider may set it to a `Deferred`, made on first use."""

    provider: str
    model_name: str
    base_url: str | None = None
    account: str = ""
    """A non-secret account discriminator (e.g. a short hash of the key) for pool identity."""
    modalities: frozenset[Modality] = frozenset({"text"})
    """What a message may carry for this provider; a task needing more fails before the run."""
    max_connections: int | None = None
    """A hard cap the provider imposes (an in-process model serves one request at a time)."""

    _sdk_client: Any = None

    @property
    def client(self) -> Any:
        """The SDK client, made on first use when it was set `Deferred`."""
        if isinstance(self._sdk_client, Deferred):
            self._sdk_client = self._sdk_client.make()
        return self._sdk_client

    @client.setter
    def client(self, value: Any) -> None:
        self._sdk_client = value

    @property
    def made_client(self) -> Any:
        """The SDK client if it was made, else None (nothing to close)."""
        return None if isinstance(self._sdk_client, Deferred) else self._sdk_client

    def sdk_modules(self) -> tuple[str, ...]:
        """The modules making the client would import (none once it is made)."""
        return self._sdk_client.imports if isinstance(self._sdk_client, Deferred) else ()

    def connect(self) -> None:
        """Make the SDK client now: a run calls this before it starts, so the SDK's import is
        not paid inside the first request (a plan never calls it)."""
        _ = self.client

    @abstractmethod
    async def generate(
        self, messages: Sequence[ChatMessage], config: GenerationConfig, timeout: float | None
    ) -> ModelOutput:
        """One attempt; raise the SDK's own errors and let `classify` judge them."""

    @abstractmethod
    def classify(self, error: BaseException) -> Classified:
        """Tell rate limits and transient failures (retried) from fatal ones (not retried)."""

    def unsupported(self, config: GenerationConfig) -> list[str]:
        """Generation fields set in `config` that this provider cannot honour."""
        return []

    def configure(self, connection: ConnectionConfig) -> None:  # noqa: B027 - optional hook
        """Called once with the run's connection settings, before the first request, for clients
        that size their own HTTP pool or socket timeouts (boto3)."""

    def batch_adapter(self) -> BatchAdapter | None:
        """This model's batch API for `batch=on`; None runs its requests one by one."""
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release clients and connections."""

    @property
    def service(self) -> str:
        """The model string's prefix: `anthropic`, or `anthropic/bedrock` for Claude on Bedrock and
        `openai/azure` for an Azure deployment (what precedes the model name the requests carry)."""
        sent = getattr(self, "request_model", None) or self.model_name
        platform = self.model_name.removesuffix(sent).rstrip("/")
        return f"{self.provider}/{platform}" if platform else self.provider

    @property
    def pool_key(self) -> tuple[str, str, str]:
        return (self.provider, self.base_url or "", self.account)

    def __str__(self) -> str:
        return f"{self.provider}/{self.model_name}"


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
