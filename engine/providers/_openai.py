"""OpenAI chat completions through the official SDK: OpenAI, Azure OpenAI and every compatible service.

Requests go through the SDK's own client (auth, base URL, Azure deployment routing, error types),
via the shared `post_json` (`_sdk.py`): that skips the SDK's per-call TypedDict transform and
pydantic response models, which cost more CPU than the HTTP exchange itself, and we read the JSON
into our own slotted types instead.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, Literal

from engine.config import GenerationConfig, ResponseSchema
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
    StopReason,
    assistant,
    data_uri,
    media_bytes,
)
from engine.providers._api import BatchAdapter, Deferred, ModelAPI
from engine.providers._errors import (
    Classified,
    MalformedResponseError,
    ProviderConfigError,
)
from engine.providers._sdk import aiohttp_client, classify_sdk_error, post_json
from engine.providers._services import CompatibleService, StructuredOutput
from engine.providers._settings import account_of, check_model_args, env, expand_url, require_env

_STOP_REASONS: dict[str | None, StopReason] = {
    "stop": "stop",
    "length": "max_tokens",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}

_HINTS = {
    401: "check the API key and its permissions",
    403: "check the API key and its permissions",
    404: "check the model name and base URL",
}

_SIMPLE_FIELDS = (
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("seed", "seed"),
    ("frequency_penalty", "frequency_penalty"),
    ("presence_penalty", "presence_penalty"),
    ("logprobs", "logprobs"),
    ("top_logprobs", "top_logprobs"),
    ("num_choices", "n"),
    ("reasoning_effort", "reasoning_effort"),
)


class OpenAIChatAPI(ModelAPI):
    """Chat completions on an `openai.AsyncOpenAI` (or `AsyncAzureOpenAI`) client."""

    def __init__(
        self,
        provider: str,
        model_name: str,
        client: Any,
        *,
        base_url: str | None,
        account: str,
        native: bool,
        request_model: str | None = None,
        modalities: frozenset[Modality] = frozenset({"text", "image"}),
        structured_output: StructuredOutput = "json_schema",
        batch: bool = False,
    ) -> None:
        self.provider = provider
        self.model_name = model_name
        self.request_model = request_model or model_name
        """The name sent in the body (an Azure deployment, without our `azure/` prefix)."""
        self.client = client
        self.base_url = base_url
        self.account = account
        # OpenAI itself wants `max_completion_tokens`; compatible servers (llama.cpp, vLLM, …)
        # know `max_tokens`. Only native OpenAI lacks `top_k`, which the others take in the body.
        self.native = native
        self.modalities = modalities
        self.structured_output = structured_output
        """How the service takes `response_schema` (see `CompatibleService`)."""
        self.batch = batch
        """The endpoint offers OpenAI's Batch API (`/v1/files`, `/v1/batches`)."""

    def build_request(
        self, messages: Sequence[ChatMessage], config: GenerationConfig
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.request_model,
            "messages": openai_messages(messages),
        }
        for ours, theirs in _SIMPLE_FIELDS:
            value = getattr(config, ours)
            if value is not None:
                body[theirs] = value
        if config.max_tokens is not None:
            body["max_completion_tokens" if self.native else "max_tokens"] = config.max_tokens
        if config.stop_seqs:
            body["stop"] = config.stop_seqs
        if config.top_k is not None and not self.native:
            body["top_k"] = config.top_k
        if config.response_schema is not None and self.structured_output is not None:
            body["response_format"] = response_format(
                config.response_schema, self.structured_output
            )
        if config.extra_body:
            body.update(config.extra_body)
        return body

    async def generate(
        self, messages: Sequence[ChatMessage], config: GenerationConfig, timeout: float | None
    ) -> ModelOutput:
        body = self.build_request(messages, config)
        data = await post_json(self.client, "/chat/completions", body, config, timeout)
        return parse_chat_completion(self.model_name, data)

    def classify(self, error: BaseException) -> Classified:
        import openai

        return classify_sdk_error(openai, self, error, _HINTS)

    def unsupported(self, config: GenerationConfig) -> list[str]:
        fields = []
        if config.reasoning_tokens is not None:
            fields.append("reasoning_tokens")
        if self.native and config.top_k is not None:
            fields.append("top_k")
        if config.response_schema is not None and self.structured_output is None:
            fields.append("response_schema")
        return fields

    def batch_adapter(self) -> BatchAdapter | None:
        if not self.batch:
            return None
        from engine.providers._openai_batch import OpenAIBatch

        return OpenAIBatch(self)

    async def aclose(self) -> None:
        if self.made_client is not None:
            await self.made_client.close()


def response_format(
    schema: ResponseSchema, style: Literal["json_schema", "json_object"]
) -> dict[str, Any]:
    """`response_format` for a schema: OpenAI's `json_schema` shape, or llama-cpp-python's
    `{type: json_object, schema}` (grammar-constrained decoding)."""
    if style == "json_object":
        return {"type": "json_object", "schema": schema.json_schema}
    json_schema: dict[str, Any] = {
        "name": schema.name,
        "schema": schema.json_schema,
        "strict": schema.strict,
    }
    if schema.description:
        json_schema["description"] = schema.description
    return {"type": "json_schema", "json_schema": json_schema}


def openai_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Chat-completions messages: text as a string, a user's media as content parts."""
    return [
        {
            "role": m.role,
            "content": m.content
            if isinstance(m.content, str)
            else (_content_parts(m.content) if m.role == "user" else m.text),
        }
        for m in messages
    ]


def _content_parts(content: list[Content]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, ContentText):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, ContentImage):
            url = {"url": data_uri(part.image), "detail": part.detail}
            parts.append({"type": "image_url", "image_url": url})
        elif isinstance(part, ContentAudio):
            audio = base64.b64encode(media_bytes(part.audio)[1]).decode()
            parts.append(
                {"type": "input_audio", "input_audio": {"data": audio, "format": part.format}}
            )
        elif isinstance(part, ContentVideo):  # vLLM's and SGLang's extension
            parts.append({"type": "video_url", "video_url": {"url": data_uri(part.video)}})
        # Reasoning is the model's own output; it is not sent back.
    return parts


def parse_chat_completion(model: str, data: Any) -> ModelOutput:
    """Read a chat.completion object; anything off-protocol is a `MalformedResponseError`."""
    try:
        raw_choices = data["choices"]
        choices = [
            Choice(
                _reply(choice["message"]),
                _STOP_REASONS.get(choice.get("finish_reason"), "unknown"),
                (choice.get("logprobs") or {}).get("content"),
            )
            for choice in raw_choices
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        snippet = json.dumps(data)[:200]
        raise MalformedResponseError(f"not a chat completion ({error!r}): {snippet}") from None
    if not choices:
        raise MalformedResponseError("chat completion with no choices")
    return ModelOutput(data.get("model") or model, choices, _usage(data.get("usage")))


def _reply(message: dict[str, Any]) -> ChatMessage:
    """The answer, with the reasoning some servers return beside it (vLLM, DeepSeek, OpenRouter,
    Groq: `reasoning_content` or `reasoning`) kept apart from the text."""
    text = _text(message.get("content"))
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if not isinstance(reasoning, str) or not reasoning:
        return assistant(text)
    return assistant([ContentReasoning(reasoning), ContentText(text)])


def _text(content: Any) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):  # some servers answer with content parts
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    raise TypeError(f"message content of type {type(content).__name__}")


def _usage(usage: Any) -> ModelUsage:
    if not isinstance(usage, dict):
        return ModelUsage()
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    result = ModelUsage(prompt, completion, int(usage.get("total_tokens") or prompt + completion))
    details = usage.get("completion_tokens_details")
    if isinstance(details, dict) and details.get("reasoning_tokens") is not None:
        result.reasoning_tokens = int(details["reasoning_tokens"])
    prompt_details = usage.get("prompt_tokens_details")
    if isinstance(prompt_details, dict) and prompt_details.get("cached_tokens") is not None:
        result.input_tokens_cache_read = int(prompt_details["cached_tokens"])
    return result


OPENAI_MODALITIES: frozenset[Modality] = frozenset({"text", "image", "audio"})
"""Chat completions take images and (on audio models) `input_audio`; no video."""


def openai_client(cls: str, model: str, model_args: dict[str, Any], **settings: Any) -> Deferred:
    """An SDK client (`openai.<cls>`) with our retry and transport choices and the user's
    `model_args`, made on first use; `model_args` are checked now (importing the SDK only when
    there are some to check against its signature)."""
    if model_args:
        import openai

        managed = {"api_key", "max_retries", "base_url", "azure_endpoint", "http_client"}
        check_model_args(getattr(openai, cls).__init__, model_args, model, managed)

    def make() -> Any:
        import openai

        return getattr(openai, cls)(
            **settings, **model_args, max_retries=0, http_client=aiohttp_client(openai)
        )

    return Deferred(make, ("openai",))


def compatible_api(
    provider: str,
    name: str,
    service: CompatibleService,
    model_args: dict[str, Any],
    base_url: str | None,
) -> ModelAPI:
    model = f"{provider}/{name}"
    url = base_url or env(service.base_url_env) or service.default_base_url
    if url is None:
        raise ProviderConfigError(
            f"{model} needs a base URL: set {service.base_url_env} or model_base_url="
        )
    url = expand_url(url, model)
    key = require_env(service.key_env, model) if service.key_required else env(service.key_env)
    client = openai_client(
        "AsyncOpenAI", model, model_args, api_key=key or "not-needed", base_url=url
    )
    return OpenAIChatAPI(
        provider,
        name,
        client,
        base_url=url,
        account=account_of(key),
        native=False,
        modalities=service.modalities,
        structured_output=service.structured_output,
        batch=service.batch,
    )


def create(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    """`openai/MODEL` (and `openai/azure/DEPLOYMENT`): the factory `NATIVE` names."""

    if name.startswith("azure/"):
        deployment = name.removeprefix("azure/")
        model = f"openai/azure/{deployment}"
        endpoint = base_url or require_env("AZUREAI_OPENAI_BASE_URL", model)
        key = require_env("AZUREAI_OPENAI_API_KEY", model)
        args = dict(model_args)
        args.setdefault("api_version", env("AZUREAI_OPENAI_API_VERSION") or "2025-03-01-preview")
        client = openai_client(
            "AsyncAzureOpenAI", model, args, api_key=key, azure_endpoint=endpoint
        )
        return OpenAIChatAPI(
            "openai",
            name,
            client,
            base_url=endpoint,
            account=account_of(key),
            native=True,
            request_model=deployment,
            modalities=OPENAI_MODALITIES,
        )
    model = f"openai/{name}"
    key = require_env("OPENAI_API_KEY", model)
    url = base_url or env("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    client = openai_client("AsyncOpenAI", model, model_args, api_key=key, base_url=url)
    return OpenAIChatAPI(
        "openai",
        name,
        client,
        base_url=url,
        account=account_of(key),
        native=True,
        modalities=OPENAI_MODALITIES,
        batch=True,
    )
