"""What in-process models (llama.cpp, Hugging Face transformers) share: one request at a time,
loaded on first use, and inference in a worker thread so the event loop keeps serving other
samples and the display."""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import anyio

from engine.config import GenerationConfig
from engine.messages import ChatMessage, ModelOutput
from engine.providers._api import ModelAPI
from engine.providers._errors import Classified, ErrorKind

__all__ = ["DEFAULT_MAX_TOKENS", "InProcessAPI", "openmp_waits_passively"]

DEFAULT_MAX_TOKENS = 256
"""Unbounded generation from a small local model can run to the end of its context."""


def openmp_waits_passively() -> None:
    """OpenMP threads (llama.cpp's, torch's) wait for work by spinning unless told otherwise. On a
    machine other processes share (a CI runner, a test suite, `workers=K`) the spinning takes the
    cores the work needs: on this project's 2-core machine under load, a 2-thread llama.cpp prompt
    took 3 times the CPU and the wall time it took with passive waits. So `OMP_WAIT_POLICY` is
    `PASSIVE` unless the user set it. Call before the library is first imported: OpenMP reads it
    once, when it loads."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


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
