"""Messages, outputs and usage: plain slotted dataclasses, cheap on the per-sample hot path.

Their `to_log` forms follow Inspect's EvalLog JSON so logs open in `inspect view`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(slots=True)
class ChatMessage:
    role: Role
    content: str
    source: Literal["input", "generate"] | None = None

    def to_log(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.source is not None:
            message["source"] = self.source
        return message

    @classmethod
    def from_log(cls, logged: dict[str, Any]) -> ChatMessage:
        """Read `to_log`'s form back (content parts, as Inspect may write them, are joined)."""
        content = logged.get("content", "")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return cls(logged["role"], str(content), logged.get("source"))


def system(content: str) -> ChatMessage:
    return ChatMessage("system", content)


def user(content: str) -> ChatMessage:
    return ChatMessage("user", content, "input")


def assistant(content: str) -> ChatMessage:
    return ChatMessage("assistant", content, "generate")


@dataclass(slots=True)
class ModelUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int | None = None
    input_tokens_cache_read: int | None = None
    input_tokens_cache_write: int | None = None

    def add(self, other: ModelUsage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.total_tokens += other.total_tokens
        for name in ("reasoning_tokens", "input_tokens_cache_read", "input_tokens_cache_write"):
            theirs = getattr(other, name)
            if theirs is not None:
                setattr(self, name, (getattr(self, name) or 0) + theirs)

    def to_log(self) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
        }
        for name in ("reasoning_tokens", "input_tokens_cache_read", "input_tokens_cache_write"):
            value = getattr(self, name)
            if value is not None:
                usage[name] = value
        return usage

    @classmethod
    def from_log(cls, logged: dict[str, Any]) -> ModelUsage:
        """Read `to_log`'s form back; unknown fields (from newer writers) are ignored."""
        return cls(**{k: v for k, v in logged.items() if k in _USAGE_FIELDS})


_USAGE_FIELDS = frozenset(ModelUsage.__dataclass_fields__)


StopReason = Literal[
    "stop", "max_tokens", "model_length", "tool_calls", "content_filter", "unknown"
]


@dataclass(slots=True)
class Choice:
    message: ChatMessage
    stop_reason: StopReason = "stop"
    logprobs: list[dict[str, Any]] | None = None

    def to_log(self) -> dict[str, Any]:
        choice: dict[str, Any] = {"message": self.message.to_log(), "stop_reason": self.stop_reason}
        if self.logprobs is not None:
            choice["logprobs"] = {"content": self.logprobs}
        return choice

    @classmethod
    def from_log(cls, logged: dict[str, Any]) -> Choice:
        logprobs = logged.get("logprobs")
        return cls(
            ChatMessage.from_log(logged["message"]),
            logged.get("stop_reason", "stop"),
            logprobs.get("content") if isinstance(logprobs, dict) else None,
        )


@dataclass(slots=True)
class ModelOutput:
    model: str
    choices: list[Choice] = field(default_factory=list)
    usage: ModelUsage = field(default_factory=ModelUsage)
    time: float = 0.0
    """Seconds spent in the provider call that produced this output (last attempt)."""
    error: str | None = None
    metadata: dict[str, Any] | None = None
    """E.g. `{"cache": "hit"}` for an answer the response cache gave (Inspect's field)."""

    @property
    def completion(self) -> str:
        return self.choices[0].message.content if self.choices else ""

    @property
    def message(self) -> ChatMessage:
        return self.choices[0].message if self.choices else assistant("")

    def to_log(self) -> dict[str, Any]:
        output: dict[str, Any] = {
            "model": self.model,
            "choices": [choice.to_log() for choice in self.choices],
            "usage": self.usage.to_log(),
            "time": round(self.time, 6),
        }
        if self.error is not None:
            output["error"] = self.error
        if self.metadata is not None:
            output["metadata"] = self.metadata
        return output

    @classmethod
    def from_log(cls, logged: dict[str, Any]) -> ModelOutput:
        """Read `to_log`'s form back (the response cache stores outputs this way)."""
        return cls(
            logged["model"],
            [Choice.from_log(choice) for choice in logged.get("choices", [])],
            ModelUsage.from_log(logged.get("usage") or {}),
            float(logged.get("time") or 0.0),
            logged.get("error"),
            logged.get("metadata"),
        )
