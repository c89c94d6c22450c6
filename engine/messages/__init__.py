"""Messages, their content and the model's output: the leaf every layer may import.

Plain slotted dataclasses (cheap on the per-sample hot path) whose `to_log` forms follow Inspect's
EvalLog JSON, and the media helpers that read an image, audio or video source for a provider
(a local file only once the dataset layer vetted it).
"""

from engine.messages._media import (
    data_uri,
    is_system_path,
    is_url,
    is_vetted,
    media_bytes,
    mime_type,
    vet_file,
)
from engine.messages._types import (
    ChatMessage,
    Choice,
    Content,
    ContentAudio,
    ContentImage,
    ContentReasoning,
    ContentText,
    ContentVideo,
    Modality,
    ModelOutput,
    ModelUsage,
    Role,
    StopReason,
    assistant,
    content_from_log,
    content_to_log,
    system,
    user,
)

__all__ = [
    "ChatMessage",
    "Choice",
    "Content",
    "ContentAudio",
    "ContentImage",
    "ContentReasoning",
    "ContentText",
    "ContentVideo",
    "Modality",
    "ModelOutput",
    "ModelUsage",
    "Role",
    "StopReason",
    "assistant",
    "content_from_log",
    "content_to_log",
    "data_uri",
    "is_system_path",
    "is_url",
    "is_vetted",
    "media_bytes",
    "mime_type",
    "system",
    "user",
    "vet_file",
]
