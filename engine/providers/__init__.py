"""Model providers behind one async interface (`ModelAPI`), their batch APIs (`BatchAdapter`),
connection pools and retry policy. `engine.models` puts them together into the `Model` solvers call."""

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
from engine.providers._api import (
    BatchAdapter,
    BatchState,
    LineError,
    LineResult,
    ModelAPI,
    Prepared,
)
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
from engine.providers._pool import CallRecord, ConnectionPool
from engine.providers._registry import (
    NO_MODEL,
    ProviderFactory,
    check_provider,
    create_api,
    provider_names,
    register_provider,
    split_model,
)
from engine.providers._sample import (
    sample_cache_hits,
    sample_epoch,
    sample_key,
    sample_target,
    sample_usage,
)
from engine.providers._services import COMPATIBLE_SERVICES, CompatibleService

__all__ = [
    "COMPATIBLE_SERVICES",
    "ENTRY_POINT_GROUP",
    "NO_MODEL",
    "AuthRefused",
    "BatchAdapter",
    "BatchState",
    "CallRecord",
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
    "LineError",
    "LineResult",
    "MalformedResponseError",
    "MissingCredentialError",
    "Modality",
    "ModelAPI",
    "ModelOutput",
    "ModelUsage",
    "Prepared",
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
