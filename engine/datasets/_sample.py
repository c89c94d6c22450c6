"""A sample: one input, its target and what else a scorer may need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.messages import ChatMessage


@dataclass(slots=True)
class Sample:
    input: str | list[ChatMessage]
    target: str | list[str] = ""
    id: str | int | None = None
    choices: list[str] | None = None
    metadata: dict[str, Any] | None = None

    @property
    def input_text(self) -> str:
        """The input as text: the string, or the last user message."""
        if isinstance(self.input, str):
            return self.input
        for message in reversed(self.input):
            if message.role == "user":
                return message.text
        return ""

    @property
    def targets(self) -> list[str]:
        return [self.target] if isinstance(self.target, str) else list(self.target)

    def input_to_log(self) -> str | list[dict[str, Any]]:
        if isinstance(self.input, str):
            return self.input
        return [message.to_log() for message in self.input]
