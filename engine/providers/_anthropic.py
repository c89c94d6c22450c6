"""Anthropic's Messages API through the official `anthropic` SDK.

Requests go through the SDK's own `AsyncAnthropic` client (auth headers, `anthropic-version`, base
URL, error types), but via `client.post("/v1/messages", cast_to=httpx2.Response)` rather than
`client.messages.create()`, as `_openai.py` does: it skips the per-call TypedDict transform and the
pydantic `Message` model, and it sends the body exactly as built here. That matters beyond speed:
anthropic 2.12 no longer takes `temperature`/`top_p`/`top_k` as `create()` arguments (they belong
in the body), and `create()` refuses large non-streaming `max_tokens` unless given a timeout.

Mapping (ours → theirs): system messages → top-level `system`; `max_tokens` (required by the API;
4096 when unset, plus the thinking budget when `reasoning_tokens` is set) ; `stop_seqs` →
`stop_sequences`; `reasoning_tokens` → `thinking: {type: enabled, budget_tokens}` (0 → disabled);
`reasoning_effort` → `output_config.effort`; `response_schema` → `output_config.format`
(structured outputs, generally available: no beta header; name, description and strict have no
Anthropic field, decoding is always constrained); `model_args.cache_prompt` → top-level
`cache_control` (automatic prompt caching; cache reads and writes are counted in usage);
`model_args.stream` (true, false, auto) → a streamed reply, folded into the same message
(`_streaming.py`). Images → `image` blocks (a URL source, else base64).
`thinking` blocks come back as reasoning parts, kept apart from the answer, and are sent back
(with their signatures) when a conversation continues.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from engine.config import GenerationConfig
from engine.messages import (
    ChatMessage,
    Choice,
    Content,
    ContentImage,
    ContentReasoning,
    ContentText,
    Modality,
    ModelOutput,
    ModelUsage,
    StopReason,
    assistant,
    is_url,
    media_bytes,
)
from engine.providers._api import BatchAdapter, Deferred, ModelAPI
from engine.providers._errors import (
    Classified,
    MalformedResponseError,
    ProviderConfigError,
)
from engine.providers._sdk import (
    aiohttp_client,
    classify_sdk_error,
    error_message,
    post_json,
    post_stream,
)
from engine.providers._settings import (
    GOOGLE_AUTH_HINT,
    account_of,
    aws_account,
    aws_region,
    check_model_args,
    env,
    google_project,
    misspelt_platform,
    require_env,
    require_extra,
)
from engine.providers._streaming import fold_events, stream_setting, wants_stream

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "AnthropicAPI",
    "anthropic_messages",
    "parse_message",
    "prompt_cache_control",
]

DEFAULT_MAX_TOKENS = 4096
"""The Messages API requires `max_tokens`; this is sent when the config leaves it unset."""

_STOP_REASONS: dict[str | None, StopReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "model_length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

_EFFORTS = ("low", "medium", "high", "xhigh", "max")
"""`reasoning_effort` values Anthropic's `output_config.effort` knows (not `none`, `minimal`)."""


class AnthropicAPI(ModelAPI):
    """The Messages API on an `anthropic.AsyncAnthropic` client (built with `max_retries=0`)."""

    provider = "anthropic"
    modalities: frozenset[Modality] = frozenset({"text", "image"})

    def __init__(
        self,
        model_name: str,
        client: Any,
        *,
        base_url: str,
        account: str,
        cache_control: dict[str, str] | None = None,
        stream: bool | None = None,
        request_model: str | None = None,
        hints: Mapping[int, str] | None = None,
        image_urls: bool = True,
        batch: bool = True,
    ) -> None:
        self.model_name = model_name
        self.request_model = request_model or model_name
        """The model id sent (on Bedrock and Vertex, without our `bedrock/`/`vertex/` prefix)."""
        self.client = client
        self.base_url = base_url
        self.account = account
        self.hints = _HINTS if hints is None else hints
        """Added to error reasons by HTTP status (which credentials to check, and where)."""
        self.image_urls = image_urls
        """False where the platform takes no `url` image sources (Bedrock, Vertex): such an image
        fails its sample before anything is sent."""
        self.batch = batch
        """Message Batches are there (not on Bedrock and Vertex, where the SDK refuses them)."""
        self.stream = stream
        """`model_args.stream`: true, false, or None (`auto`: only long generations stream)."""
        self.cache_control = cache_control
        """See `prompt_cache_control`; sent as the top-level `cache_control`: the API puts a cache
        breakpoint on the last cacheable block, so a prefix repeated across samples (system
        prompt, few-shot examples, a long document) is billed at the cache-read price."""

    def build_request(
        self, messages: Sequence[ChatMessage], config: GenerationConfig
    ) -> dict[str, Any]:
        if not self.image_urls:
            _refuse_image_urls(messages, str(self))
        system_parts = [m.text for m in messages if m.role == "system"]
        body: dict[str, Any] = {
            "model": self.request_model,
            "messages": anthropic_messages(messages),
        }
        budget = config.reasoning_tokens
        if config.max_tokens is not None:
            body["max_tokens"] = config.max_tokens
        else:  # the thinking budget counts towards max_tokens, which must exceed it
            body["max_tokens"] = DEFAULT_MAX_TOKENS + (budget or 0)
        if system_parts:
            body["system"] = "\n\n".join(system_parts)
        if config.stop_seqs:
            body["stop_sequences"] = config.stop_seqs
        for name in ("temperature", "top_p", "top_k"):
            value = getattr(config, name)
            if value is not None:
                body[name] = value
        if budget is not None:
            body["thinking"] = (
                {"type": "enabled", "budget_tokens": budget} if budget > 0 else {"type": "disabled"}
            )
        output_config: dict[str, Any] = {}
        if config.reasoning_effort in _EFFORTS:
            output_config["effort"] = config.reasoning_effort
        if config.response_schema is not None:
            output_config["format"] = json_output_format(config.response_schema.json_schema)
        if output_config:
            body["output_config"] = output_config
        if self.cache_control is not None:
            body["cache_control"] = self.cache_control
        if config.extra_body:
            body.update(config.extra_body)
        return body

    async def generate(
        self, messages: Sequence[ChatMessage], config: GenerationConfig, timeout: float | None
    ) -> ModelOutput:
        body = self.build_request(messages, config)
        if wants_stream(self.stream, body["max_tokens"]):
            events = post_stream(
                self.client, "/v1/messages", {**body, "stream": True}, config, timeout
            )
            data = await fold_events(events)
        else:
            data = await post_json(self.client, "/v1/messages", body, config, timeout)
        return parse_message(self.model_name, data)

    def classify(self, error: BaseException) -> Classified:
        import anthropic

        return classify_sdk_error(anthropic, self, error, self.hints, _error_message)

    def unsupported(self, config: GenerationConfig) -> list[str]:
        fields = [
            name
            for name in (
                "seed",
                "frequency_penalty",
                "presence_penalty",
                "logprobs",
                "top_logprobs",
            )
            if getattr(config, name) is not None
        ]
        if config.num_choices is not None and config.num_choices > 1:
            fields.append("num_choices")
        if config.reasoning_effort is not None and config.reasoning_effort not in _EFFORTS:
            fields.append("reasoning_effort")
        return fields

    def batch_adapter(self) -> BatchAdapter | None:
        if not self.batch:
            return None
        from engine.providers._anthropic_batch import AnthropicBatch

        return AnthropicBatch(self)

    async def aclose(self) -> None:
        if self.made_client is not None:
            await self.made_client.close()


def json_output_format(schema: dict[str, Any]) -> dict[str, Any]:
    """Structured outputs' `output_config.format`: the schema as the SDK's own `messages.parse`
    sends it (`anthropic.transform_schema` moves constraints the API cannot enforce, such as
    `minimum`, into descriptions; our validation of the reply still checks them)."""
    import anthropic

    return {"type": "json_schema", "schema": anthropic.transform_schema(schema)}


def prompt_cache_control(setting: bool | str) -> dict[str, str] | None:
    """`model_args.cache_prompt`: true (the 5-minute cache), `5m` or `1h`; false for none."""
    if setting is False:
        return None
    if setting is True:
        return {"type": "ephemeral"}
    if setting in ("5m", "1h"):
        return {"type": "ephemeral", "ttl": setting}
    raise ProviderConfigError(
        f"model_args.cache_prompt must be true, false, '5m' or '1h', got {setting!r}"
    )


def anthropic_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Messages API turns (system messages go to the top-level `system`, not here).

    A turn left with nothing to send (an empty reply, or only reasoning that cannot go back) is
    left out: the API refuses empty content, and it joins the neighbouring turns of one role.
    """
    turns = []
    for m in messages:
        if m.role == "system":
            continue
        content = m.content if isinstance(m.content, str) else _blocks(m.content)
        if content:
            # The Messages API has no `tool` role without tool blocks: a plain tool result is
            # user-side text.
            turns.append(
                {"role": "assistant" if m.role == "assistant" else "user", "content": content}
            )
    return turns


def _refuse_image_urls(messages: Sequence[ChatMessage], model: str) -> None:
    for message in messages:
        for part in message.content if isinstance(message.content, list) else ():
            if isinstance(part, ContentImage) and is_url(part.image):
                raise ValueError(
                    f"{model} takes images as bytes, not URLs ({part.image}): "
                    "use a file or a data URI"
                )


def _blocks(content: list[Content]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, ContentText):
            if part.text:  # the API refuses empty text blocks
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ContentImage):
            if is_url(part.image):
                source: dict[str, Any] = {"type": "url", "url": part.image}
            else:
                kind, data = media_bytes(part.image)
                encoded = base64.b64encode(data).decode()
                source = {"type": "base64", "media_type": kind, "data": encoded}
            blocks.append({"type": "image", "source": source})
        elif isinstance(part, ContentReasoning):
            if part.redacted:
                blocks.append({"type": "redacted_thinking", "data": part.reasoning})
            elif part.signature:  # unsigned reasoning (another provider's) cannot go back
                thinking = {"type": "thinking", "thinking": part.reasoning}
                blocks.append({**thinking, "signature": part.signature})
        # audio and video: refused before the run (not in `modalities`)
    return blocks


_HINTS = {
    529: "Anthropic is overloaded",
    401: "check ANTHROPIC_API_KEY and its permissions",
    403: "check ANTHROPIC_API_KEY and its permissions",
    404: "check the model name and base URL",
}


def _error_message(error: Any) -> str:
    """Anthropic's error type with its message: `overloaded_error: Overloaded`."""
    return error_message(error, with_type=True)


def parse_message(model: str, data: Any) -> ModelOutput:
    """Read a Messages API `message`; anything off-protocol is a `MalformedResponseError`."""
    try:
        if data.get("type") == "error":
            raise ValueError(f"error object: {data.get('error')!r}")
        message = _reply(data["content"])
        stop_reason = _STOP_REASONS.get(data.get("stop_reason"), "unknown")
        usage = _usage(data.get("usage"))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        snippet = json.dumps(data)[:200]
        raise MalformedResponseError(f"not a message ({error!r}): {snippet}") from None
    return ModelOutput(data.get("model") or model, [Choice(message, stop_reason)], usage)


def _reply(blocks: list[dict[str, Any]]) -> ChatMessage:
    """The answer's text; `thinking` and `redacted_thinking` blocks become reasoning parts."""
    text = "".join(b["text"] for b in blocks if b.get("type") == "text" and "text" in b)
    reasoning = [
        ContentReasoning(b["thinking"], b.get("signature"))
        if b["type"] == "thinking"
        else ContentReasoning(b["data"], redacted=True)
        for b in blocks
        if b.get("type") in ("thinking", "redacted_thinking")
    ]
    return assistant([*reasoning, ContentText(text)] if reasoning else text)


def _usage(usage: Any) -> ModelUsage:
    if not isinstance(usage, dict):
        return ModelUsage()
    read = usage.get("cache_read_input_tokens")
    write = usage.get("cache_creation_input_tokens")
    # Anthropic's `input_tokens` excludes cached tokens; the total counts everything billed.
    input_tokens = int(usage.get("input_tokens") or 0)
    output_tokens = int(usage.get("output_tokens") or 0)
    result = ModelUsage(
        input_tokens,
        output_tokens,
        input_tokens + output_tokens + int(read or 0) + int(write or 0),
    )
    if read is not None:
        result.input_tokens_cache_read = int(read)
    if write is not None:
        result.input_tokens_cache_write = int(write)
    details = usage.get("output_tokens_details")
    if isinstance(details, dict) and details.get("thinking_tokens") is not None:
        result.reasoning_tokens = int(details["thinking_tokens"])
    return result


def create(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    """`anthropic/MODEL`, `anthropic/bedrock/…`, `anthropic/vertex/…`: the factory `NATIVE` names.

    The `AsyncAnthropic` client is made on first use (`Deferred`): a plan imports no SDK."""
    if "/" in name:  # a cloud platform: anthropic/bedrock/…, anthropic/vertex/…
        return anthropic_platform(name, model_args, base_url)
    model = f"anthropic/{name}"
    key = require_env("ANTHROPIC_API_KEY", model)
    url = base_url or env("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"
    managed = {"api_key", "auth_token", "max_retries", "base_url", "http_client"}
    args = dict(model_args)
    # Ours, not the SDK's:
    cache_control = prompt_cache_control(args.pop("cache_prompt", False))
    stream = stream_setting(args.pop("stream", "auto"), model)
    if args:
        import anthropic

        check_model_args(anthropic.AsyncAnthropic.__init__, args, model, managed)

    def make() -> Any:
        import anthropic

        return anthropic.AsyncAnthropic(
            **args, api_key=key, base_url=url, max_retries=0, http_client=aiohttp_client(anthropic)
        )

    return AnthropicAPI(
        name,
        Deferred(make, ("anthropic",)),
        base_url=url,
        account=account_of(key),
        cache_control=cache_control,
        stream=stream,
    )


ANTHROPIC_PLATFORMS = ("bedrock", "vertex")


_AWS_SECRETS = {"api_key", "aws_secret_key", "aws_access_key", "aws_session_token"}
"""Credentials the anthropic Bedrock client would take as arguments: env or profile only."""


def anthropic_platform(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    """`anthropic/bedrock/MODEL` or `anthropic/vertex/MODEL` (`name` is after `anthropic/`)."""
    platform, _, model = name.partition("/")
    if platform == "bedrock" and model:
        require_extra("boto3", "bedrock", f"anthropic/{name}")
        return _anthropic_bedrock(model, model_args, base_url)
    if platform == "vertex" and model:
        return _anthropic_vertex(model, model_args, base_url)
    hint = misspelt_platform("anthropic", platform, ANTHROPIC_PLATFORMS)
    raise ProviderConfigError(
        f"model 'anthropic/{name}': Anthropic model names have no '/', except on a platform: "
        "anthropic/bedrock/MODEL or anthropic/vertex/MODEL"
        + (f"; did you mean {hint}?" if hint else "")
    )


def _anthropic_bedrock(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    import anthropic

    model = f"anthropic/bedrock/{name}"
    managed = {*_AWS_SECRETS, "max_retries", "base_url", "http_client"}
    check_model_args(anthropic.AsyncAnthropicBedrock.__init__, model_args, model, managed)
    args = {**model_args, "aws_region": aws_region(model_args, model)}
    url = base_url or env("ANTHROPIC_BEDROCK_BASE_URL") or env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
    client = anthropic.AsyncAnthropicBedrock(
        **args, base_url=url, max_retries=0, http_client=aiohttp_client(anthropic)
    )
    hints = {
        401: "check the AWS credentials",
        403: "check the AWS credentials and that the account has access to this model",
        404: "check the model id and the region",
    }
    # Bedrock streams in AWS's binary event-stream framing, not server-sent events: never stream.
    return AnthropicAPI(
        f"bedrock/{name}",
        client,
        base_url=str(client.base_url),
        account=aws_account(model_args),
        request_model=name,
        hints=hints,
        stream=False,
        image_urls=False,
        batch=False,
    )


def _anthropic_vertex(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    import anthropic

    model = f"anthropic/vertex/{name}"
    managed = {"access_token", "credentials", "max_retries", "base_url", "http_client"}
    args = dict(model_args)
    stream = stream_setting(args.pop("stream", "auto"), model)  # streamRawPredict speaks SSE
    check_model_args(anthropic.AsyncAnthropicVertex.__init__, args, model, managed)
    args["project_id"] = google_project(
        model_args, "project_id", ("ANTHROPIC_VERTEX_PROJECT_ID", "GOOGLE_CLOUD_PROJECT"), model
    )
    args["region"] = google_project(
        model_args, "region", ("CLOUD_ML_REGION", "GOOGLE_CLOUD_LOCATION"), model
    )
    # The SDK loads application-default credentials itself, on the first request, in a thread.
    client = anthropic.AsyncAnthropicVertex(
        **args, base_url=base_url, max_retries=0, http_client=aiohttp_client(anthropic)
    )
    hints = {401: GOOGLE_AUTH_HINT, 403: GOOGLE_AUTH_HINT, 404: "check the model and region"}
    return AnthropicAPI(
        f"vertex/{name}",
        client,
        base_url=str(client.base_url),
        account=account_of(args["project_id"]),
        request_model=name,
        hints=hints,
        stream=stream,
        image_urls=False,
        batch=False,
    )
