"""The one async interface every provider implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.config import ConnectionConfig, GenerationConfig
from engine.messages import ChatMessage, Modality, ModelOutput
from engine.providers._errors import Classified

if TYPE_CHECKING:
    from engine.batch import BatchAdapter


class ModelAPI(ABC):
    """A provider's client for one model. It sends one attempt; the pool retries."""

    provider: str
    model_name: str
    base_url: str | None = None
    account: str = ""
    """A non-secret account discriminator (e.g. a short hash of the key) for pool identity."""
    modalities: frozenset[Modality] = frozenset({"text"})
    """What a message may carry for this provider; a task needing more fails before the run."""
    max_connections: int | None = None
    """A hard cap the provider imposes (an in-process model serves one request at a time)."""

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
