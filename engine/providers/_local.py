"""What in-process models (llama.cpp, Hugging Face transformers) share: one request at a time,
loaded on first use, and inference in a worker thread so the event loop keeps serving other
samples and the display."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import anyio

from engine.config import GenerationConfig
from engine.messages import ChatMessage, ModelOutput
from engine.providers._api import ModelAPI
from engine.providers._errors import Classified, ErrorKind

__all__ = ["DEFAULT_MAX_TOKENS", "InProcessAPI"]

DEFAULT_MAX_TOKENS = 256
"""Unbounded generation from a small local model can run to the end of its context."""


class InProcessAPI(ModelAPI):
    """A model held in this process. Subclasses say how to `load` it and how to `complete` one
    request (both run in a worker thread); the lock serialises requests."""

    max_connections = 1
    label = "the in-process model"
    """Names the engine in error reasons (`llama.cpp failed: …`)."""

    def __init__(self) -> None:
        self._loaded: Any = None
        self._lock = anyio.Lock()

    @abstractmethod
    def load(self) -> Any:
        """Load the model (slow, blocking): called once, in a worker thread."""

    @abstractmethod
    def complete(
        self, loaded: Any, messages: Sequence[ChatMessage], config: GenerationConfig
    ) -> ModelOutput:
        """Answer one request with what `load` returned (blocking, in a worker thread)."""

    async def generate(
        self, messages: Sequence[ChatMessage], config: GenerationConfig, timeout: float | None
    ) -> ModelOutput:
        async with self._lock:
            if self._loaded is None:
                self._loaded = await anyio.to_thread.run_sync(self.load)
            loaded = self._loaded
            return await anyio.to_thread.run_sync(lambda: self.complete(loaded, messages, config))

    def classify(self, error: BaseException) -> Classified:
        return Classified(ErrorKind.FATAL, f"{self.label} failed: {type(error).__name__}: {error}")
