"""Model providers behind one async interface, their connection pools and retry policy."""

# Message types for ModelAPI implementers (the README's provider extension imports them here).
from engine.messages import (
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
    assistant,
    system,
    user,
)
from engine.providers import _clouds  # noqa: F401 - registers bedrock/ and azureai/
from engine.providers._api import ModelAPI
from engine.providers._errors import (
    AuthRefused,
    Classified,
    ErrorKind,
    GenerateError,
    MalformedResponseError,
    MissingCredentialError,
    ProviderConfigError,
    ProviderError,
)
from engine.providers._extensions import ENTRY_POINT_GROUP
from engine.providers._local import InProcessAPI
from engine.providers._model import (
    Model,
    ModelHub,
    sample_cache_hits,
    sample_epoch,
    sample_key,
    sample_target,
    sample_usage,
)
from engine.providers._pool import ConnectionPool
from engine.providers._registry import (
    NO_MODEL,
    ProviderFactory,
    check_provider,
    create_api,
    provider_names,
    register_provider,
    split_model,
)
from engine.providers._services import COMPATIBLE_SERVICES, CompatibleService

__all__ = [
    "COMPATIBLE_SERVICES",
    "ENTRY_POINT_GROUP",
    "NO_MODEL",
    "AuthRefused",
    "ChatMessage",
    "Choice",
    "Classified",
    "CompatibleService",
    "ConnectionPool",
    "Content",
    "ContentAudio",
    "ContentImage",
    "ContentReasoning",
    "ContentText",
    "ContentVideo",
    "ErrorKind",
    "GenerateError",
    "InProcessAPI",
    "MalformedResponseError",
    "MissingCredentialError",
    "Modality",
    "Model",
    "ModelAPI",
    "ModelHub",
    "ModelOutput",
    "ModelUsage",
    "ProviderConfigError",
    "ProviderError",
    "ProviderFactory",
    "assistant",
    "check_provider",
    "create_api",
    "provider_names",
    "register_provider",
    "sample_cache_hits",
    "sample_epoch",
    "sample_key",
    "sample_target",
    "sample_usage",
    "split_model",
    "system",
    "user",
]
