"""Any model on AWS Bedrock through boto3's `bedrock-runtime` Converse API.

Converse is one request shape for every Bedrock model (Nova, Llama, Mistral, DeepSeek, gpt-oss,
Claude, …), so one mapping serves them all. boto3 is synchronous: each call runs in a worker
thread, bounded by a limiter sized to `connection.max_connections`, on a client whose urllib3 pool
has as many connections, and botocore's own retries are off (the pool retries).

Mapping (ours → Converse): system messages → `system` text blocks; `max_tokens`, `temperature`,
`top_p`, `stop_seqs` → `inferenceConfig`; images, audio and video → bytes blocks (Converse takes
no URLs); `response_schema` → `outputConfig.textFormat`; `reasoning_effort` → `outputConfig.effort`;
`reasoning_tokens` → `additionalModelRequestFields.thinking` (Claude's shape) and `top_k` →
`additionalModelRequestFields.top_k`; `extra_body` is merged into the request (e.g.
`guardrailConfig`, `serviceTier`, more `additionalModelRequestFields`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from engine.config import ConnectionConfig, GenerationConfig
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
    media_bytes,
)
from engine.providers._api import ModelAPI
from engine.providers._errors import (
    Classified,
    ErrorKind,
    MalformedResponseError,
    classify_status,
    parse_retry_after,
)
from engine.providers._settings import aws_account, aws_region, refuse_unknown_args, require_extra

__all__ = ["BedrockConverseAPI", "converse_messages", "parse_converse"]

_STOP_REASONS: dict[str | None, StopReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "model_length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}

_RATE_LIMITS = {"ThrottlingException", "TooManyRequestsException"}
_TRANSIENT = {
    "ServiceUnavailableException",
    "InternalServerException",
    "ModelNotReadyException",
    "ModelTimeoutException",
}
_HINTS = {
    "AccessDeniedException": "check the AWS credentials and that the account has access to "
    "this model in this region",
    "UnrecognizedClientException": "check the AWS credentials",
    "ResourceNotFoundException": "check the model id and the region",
}

_IMAGE_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}
_AUDIO_FORMATS = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/wav": "wav", "audio/x-wav": "wav"}

DEFAULT_READ_TIMEOUT = 900.0
"""Seconds botocore waits on a socket read when the config sets no timeout (long generations)."""


class BedrockConverseAPI(ModelAPI):
    """Converse on a boto3 `bedrock-runtime` client, called in worker threads."""

    provider = "bedrock"
    modalities: frozenset[Modality] = frozenset({"text", "image", "audio", "video"})
    """Converse takes each as bytes; whether the model does is the model's business."""

    def __init__(
        self,
        model_name: str,
        *,
        region: str,
        profile: str | None,
        endpoint_url: str | None,
        account: str,
    ) -> None:
        import boto3

        self.model_name = model_name
        self.region = region
        self.session = boto3.Session(profile_name=profile, region_name=region)
        self.endpoint_url = endpoint_url
        self.account = account
        self._connections = ConnectionConfig().max_connections
        self.client: Any = self._client(self._connections, DEFAULT_READ_TIMEOUT)
        # Where botocore sends requests (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME` included).
        self.base_url = self.client.meta.endpoint_url
        self._limiter: Any = None

    def _client(self, max_connections: int, read_timeout: float) -> Any:
        from botocore.config import Config

        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},  # the pool retries
            max_pool_connections=max_connections,
            connect_timeout=min(read_timeout, 10.0),
            read_timeout=read_timeout,
            user_agent_extra="inspect-run",
        )
        return self.session.client("bedrock-runtime", endpoint_url=self.endpoint_url, config=config)

    def configure(self, connection: ConnectionConfig) -> None:
        self._connections = connection.max_connections
        timeout = connection.attempt_timeout or connection.timeout or DEFAULT_READ_TIMEOUT
        self.client.close()
        self.client = self._client(connection.max_connections, timeout)

    def build_request(
        self, messages: Sequence[ChatMessage], config: GenerationConfig
    ) -> dict[str, Any]:
        """The keyword arguments of `client.converse` (bytes stay bytes: boto3 encodes them)."""
        system = [{"text": m.text} for m in messages if m.role == "system" and m.text]
        request: dict[str, Any] = {
            "modelId": self.model_name,
            "messages": converse_messages(messages),
        }
        if system:
            request["system"] = system
        inference: dict[str, Any] = {}
        for ours, theirs in (
            ("max_tokens", "maxTokens"),
            ("temperature", "temperature"),
            ("top_p", "topP"),
        ):
            value = getattr(config, ours)
            if value is not None:
                inference[theirs] = value
        if config.stop_seqs:
            inference["stopSequences"] = list(config.stop_seqs)
        if inference:
            request["inferenceConfig"] = inference
        fields: dict[str, Any] = {}
        if config.top_k is not None:
            fields["top_k"] = config.top_k
        budget = config.reasoning_tokens
        if budget is not None:
            fields["thinking"] = (
                {"type": "enabled", "budget_tokens": budget} if budget > 0 else {"type": "disabled"}
            )
        output: dict[str, Any] = {}
        if config.reasoning_effort is not None:
            output["effort"] = config.reasoning_effort
        schema = config.response_schema
        if schema is not None:
            definition: dict[str, Any] = {
                "schema": json.dumps(schema.json_schema),
                "name": schema.name,
            }
            if schema.description:
                definition["description"] = schema.description
            output["textFormat"] = {"type": "json_schema", "structure": {"jsonSchema": definition}}
        if output:
            request["outputConfig"] = output
        extra = dict(config.extra_body or {})
        fields.update(extra.pop("additionalModelRequestFields", None) or {})
        if fields:
            request["additionalModelRequestFields"] = fields
        request.update(extra)
        return request

    async def generate(
        self, messages: Sequence[ChatMessage], config: GenerationConfig, timeout: float | None
    ) -> ModelOutput:
        import anyio

        request = self.build_request(messages, config)
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._connections)

        def call() -> Any:
            return self.client.converse(**request)

        # Abandoned on cancel, so the pool's attempt deadline holds; botocore's read timeout
        # ends the thread.
        data = await anyio.to_thread.run_sync(call, abandon_on_cancel=True, limiter=self._limiter)
        return parse_converse(self.model_name, data)

    def classify(self, error: BaseException) -> Classified:
        from botocore import exceptions
        from botocore.parsers import ResponseParserError

        if isinstance(error, exceptions.ClientError):
            response: dict[str, Any] = error.response or {}
            code = str((response.get("Error") or {}).get("Code") or "")
            message = (response.get("Error") or {}).get("Message") or str(error)
            metadata = response.get("ResponseMetadata") or {}
            status = int(metadata.get("HTTPStatusCode") or 0)
            if code in _RATE_LIMITS:
                kind = ErrorKind.RATE_LIMIT
            elif code in _TRANSIENT:
                kind = ErrorKind.TRANSIENT
            else:
                kind = classify_status(status) if status else ErrorKind.FATAL
            reason = f"HTTP {status} {code} from {self}: {message}"
            if code in _HINTS:
                reason += f" ({_HINTS[code]})"
            retry_after = None
            if kind is not ErrorKind.FATAL:
                retry_after = parse_retry_after(metadata.get("HTTPHeaders") or {})
            return Classified(kind, reason, retry_after, status)
        if isinstance(error, (exceptions.ReadTimeoutError, exceptions.ConnectTimeoutError)):
            return Classified(ErrorKind.TRANSIENT, f"request to {self} timed out")
        if isinstance(error, (exceptions.ConnectionError, exceptions.HTTPClientError)):
            return Classified(ErrorKind.TRANSIENT, f"connection to {self.base_url} failed: {error}")
        if isinstance(error, (ResponseParserError, MalformedResponseError)):
            return Classified(ErrorKind.TRANSIENT, f"malformed reply from {self}: {error}")
        if isinstance(error, exceptions.NoCredentialsError):
            return Classified(
                ErrorKind.FATAL,
                f"{self}: no AWS credentials found (set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)",
            )
        return Classified(ErrorKind.FATAL, f"{type(error).__name__}: {error}")

    def unsupported(self, config: GenerationConfig) -> list[str]:
        fields = [
            name
            for name in (
                "seed",
                "frequency_penalty",
                "presence_penalty",
                "logprobs",
                "top_logprobs",
                "extra_headers",
            )
            # seed 0 is a seed; logprobs off asks for nothing
            if (value := getattr(config, name)) is not None and value is not False
        ]
        if config.num_choices is not None and config.num_choices > 1:
            fields.append("num_choices")
        return fields

    async def aclose(self) -> None:
        self.client.close()


def converse_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Non-system messages as Converse turns: user/tool → `user`, consecutive roles merged."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message.content)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:  # Converse wants the turns to alternate
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def _blocks(content: str | list[Content]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    return [block for part in content if (block := _block(part)) is not None]


def _block(part: Content) -> dict[str, Any] | None:
    if isinstance(part, ContentText):
        return {"text": part.text} if part.text else None
    if isinstance(part, ContentImage):
        kind, data = media_bytes(part.image)
        return {
            "image": {"format": _format(kind, _IMAGE_FORMATS, "image"), "source": {"bytes": data}}
        }
    if isinstance(part, ContentAudio):
        kind, data = media_bytes(part.audio)
        fmt = _AUDIO_FORMATS.get(kind, part.format)
        return {"audio": {"format": fmt, "source": {"bytes": data}}}
    if isinstance(part, ContentVideo):
        kind, data = media_bytes(part.video)
        return {"video": {"format": part.format, "source": {"bytes": data}}}
    if isinstance(part, ContentReasoning):
        if part.redacted:
            return {"reasoningContent": {"redactedContent": base64.b64decode(part.reasoning)}}
        if not part.signature:  # another provider's reasoning cannot be verified: not resent
            return None
        text = {"text": part.reasoning, "signature": part.signature}
        return {"reasoningContent": {"reasoningText": text}}
    return None


def _format(kind: str, formats: dict[str, str], what: str) -> str:
    if kind not in formats:
        raise ValueError(
            f"Bedrock takes {what}s as {', '.join(sorted(set(formats.values())))}, not {kind}"
        )
    return formats[kind]


def parse_converse(model: str, data: Any) -> ModelOutput:
    """Read a Converse response (as boto3 parsed it); off-protocol is a `MalformedResponseError`."""
    try:
        blocks = data["output"]["message"]["content"]
        text = "".join(block["text"] for block in blocks if "text" in block)
        reasoning = [part for block in blocks if (part := _reasoning(block)) is not None]
        stop_reason = _STOP_REASONS.get(data.get("stopReason"), "unknown")
        usage = _usage(data.get("usage"))
    except (KeyError, TypeError, AttributeError) as error:
        snippet = json.dumps(data, default=repr)[:200]
        raise MalformedResponseError(f"not a Converse response ({error!r}): {snippet}") from None
    content: str | list[Content] = [*reasoning, ContentText(text)] if reasoning else text
    message = ChatMessage("assistant", content, "generate")
    return ModelOutput(model, [Choice(message, stop_reason)], usage)


def _reasoning(block: dict[str, Any]) -> ContentReasoning | None:
    reasoning = block.get("reasoningContent")
    if reasoning is None:
        return None
    if "redactedContent" in reasoning:
        encoded = base64.b64encode(reasoning["redactedContent"]).decode()
        return ContentReasoning(encoded, redacted=True)
    text = reasoning["reasoningText"]
    return ContentReasoning(text.get("text", ""), text.get("signature"))


def _usage(usage: Any) -> ModelUsage:
    if not isinstance(usage, dict):
        return ModelUsage()
    input_tokens = int(usage.get("inputTokens") or 0)
    output_tokens = int(usage.get("outputTokens") or 0)
    read = usage.get("cacheReadInputTokens")
    write = usage.get("cacheWriteInputTokens")
    total = usage.get("totalTokens")
    result = ModelUsage(
        input_tokens,
        output_tokens,
        int(total) if total is not None else input_tokens + output_tokens,
    )
    if read is not None:
        result.input_tokens_cache_read = int(read)
    if write is not None:
        result.input_tokens_cache_write = int(write)
    return result


def create(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    """`bedrock/MODEL` through boto3's Converse API: the factory `NATIVE` names."""

    model = f"bedrock/{name}"
    require_extra("boto3", "bedrock", model)
    accepted = {"aws_region", "aws_profile"}
    refuse_unknown_args(model_args, accepted, model, "; credentials come from the AWS environment")
    region = aws_region(model_args, model)
    return BedrockConverseAPI(
        name,
        region=region,
        profile=model_args.get("aws_profile"),
        endpoint_url=base_url,
        account=aws_account(model_args),
    )
