"""Messages, outputs and usage: plain slotted dataclasses, cheap on the per-sample hot path.

Their `to_log` forms follow Inspect's EvalLog JSON so logs open in `inspect view`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
Modality = Literal["text", "image", "audio", "video"]


@dataclass(slots=True, frozen=True)
class ContentText:
    text: str
    type: Literal["text"] = "text"


@dataclass(slots=True, frozen=True)
class ContentImage:
    """An image: an http(s) URL, a `data:` URI or a local file path."""

    image: str
    detail: Literal["auto", "low", "high"] = "auto"
    type: Literal["image"] = "image"


@dataclass(slots=True, frozen=True)
class ContentAudio:
    """Audio: a `data:` URI or a local file path (URLs where the provider fetches them)."""

    audio: str
    format: Literal["wav", "mp3"] = "wav"
    type: Literal["audio"] = "audio"


@dataclass(slots=True, frozen=True)
class ContentVideo:
    """Video: a `data:` URI, a local file path or a URL."""

    video: str
    format: Literal["mp4", "mpeg", "mov"] = "mp4"
    type: Literal["video"] = "video"


@dataclass(slots=True, frozen=True)
class ContentReasoning:
    """The model's reasoning (thinking), kept apart from its answer; `signature` lets a provider
    verify it when it is sent back. `redacted` marks reasoning the provider returned encrypted:
    `reasoning` then holds that opaque data (as Inspect keeps it), to be sent back as it came."""

    reasoning: str
    signature: str | None = None
    redacted: bool = False
    type: Literal["reasoning"] = "reasoning"


Content = ContentText | ContentImage | ContentAudio | ContentVideo | ContentReasoning

_CONTENT_TYPES: dict[str, type[Content]] = {
    "text": ContentText,
    "image": ContentImage,
    "audio": ContentAudio,
    "video": ContentVideo,
    "reasoning": ContentReasoning,
}


def content_to_log(part: Content) -> dict[str, Any]:
    """Inspect's content-part form: `{"type": "image", "image": …, "detail": …}`."""
    return {name: getattr(part, name) for name in part.__dataclass_fields__}


def content_from_log(logged: dict[str, Any]) -> Content:
    kind = _CONTENT_TYPES.get(str(logged.get("type")))
    if kind is None:
        raise ValueError(
            f"unknown content type {logged.get('type')!r} (expected one of {sorted(_CONTENT_TYPES)})"
        )
    return kind(**{k: v for k, v in logged.items() if k in kind.__dataclass_fields__})


@dataclass(slots=True)
class ChatMessage:
    role: Role
    content: str | list[Content]
    """Plain text, or parts mixing text with images, audio and video."""
    source: Literal["input", "generate"] | None = None

    @property
    def text(self) -> str:
        """The message's text: the string, or its text parts joined."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content if isinstance(part, ContentText))

    @property
    def reasoning(self) -> str | None:
        """The reasoning parts joined, or None when the message has none."""
        if isinstance(self.content, str):
            return None
        parts = [p.reasoning for p in self.content if isinstance(p, ContentReasoning)]
        return "\n\n".join(parts) if parts else None

    @property
    def modalities(self) -> set[Modality]:
        """The input modalities the message carries (reasoning is not one)."""
        if isinstance(self.content, str):
            return {"text"}
        return {p.type for p in self.content if not isinstance(p, ContentReasoning)}

    def to_log(self) -> dict[str, Any]:
        content: str | list[dict[str, Any]] = (
            self.content
            if isinstance(self.content, str)
            else [content_to_log(part) for part in self.content]
        )
        message: dict[str, Any] = {"role": self.role, "content": content}
        if self.source is not None:
            message["source"] = self.source
        return message

    @classmethod
    def from_log(cls, logged: dict[str, Any]) -> ChatMessage:
        """Read `to_log`'s form back (and Inspect's, whose content may be a list of parts)."""
        content = logged.get("content", "")
        parts: str | list[Content] = (
            [content_from_log(p) for p in content if isinstance(p, dict)]
            if isinstance(content, list)
            else str(content)
        )
        return cls(logged["role"], parts, logged.get("source"))


def system(content: str) -> ChatMessage:
    return ChatMessage("system", content)


def user(content: str | list[Content]) -> ChatMessage:
    return ChatMessage("user", content, "input")


def assistant(content: str | list[Content]) -> ChatMessage:
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
        return self.choices[0].message.text if self.choices else ""

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
