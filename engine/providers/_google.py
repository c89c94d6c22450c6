"""Google Gemini through the official `google-genai` SDK (`client.aio.models.generate_content`).

The SDK would retry on its own only when given `retry_options`, but without them its aiohttp path
still retries a dropped or refused connection once after sleeping 1-10 s: the client is built
with `HttpRetryOptions(attempts=1)`, so every failure comes straight back and the pool decides.
Timeouts in `HttpOptions` are milliseconds.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from engine.config import GenerationConfig
from engine.messages import (
    ChatMessage,
    Choice,
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
    is_url,
    media_bytes,
    mime_type,
)
from engine.providers._api import BatchAdapter, Deferred, ModelAPI
from engine.providers._errors import (
    Classified,
    ErrorKind,
    MalformedResponseError,
    MissingCredentialError,
    ProviderConfigError,
    classify_status,
    parse_retry_after,
)
from engine.providers._settings import (
    GOOGLE_AUTH_HINT,
    account_of,
    env,
    google_project,
    misspelt_platform,
    refuse_unknown_args,
)
from engine.providers._streaming import stream_setting, wants_stream

__all__ = ["GoogleAPI", "parse_response", "safety_settings"]

_STOP_REASONS: dict[str, StopReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "max_tokens",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "BLOCKLIST": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
}

_SIMPLE_FIELDS = (
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("top_k", "top_k"),
    ("max_tokens", "max_output_tokens"),
    ("seed", "seed"),
    ("presence_penalty", "presence_penalty"),
    ("frequency_penalty", "frequency_penalty"),
    ("num_choices", "candidate_count"),
)

_THINKING_LEVELS = {
    "minimal": "MINIMAL",
    "low": "LOW",
    "medium": "MEDIUM",
    "high": "HIGH",
    "xhigh": "XHIGH",
}

_ROLES = {"user": "user", "assistant": "model", "tool": "user"}


class GoogleAPI(ModelAPI):
    """`generate_content` on a `google.genai.Client` (the Gemini API, keyed by an API key)."""

    modalities: frozenset[Modality] = frozenset({"text", "image", "audio", "video"})

    def __init__(
        self,
        model_name: str,
        client: Any,
        *,
        base_url: str | None,
        account: str,
        safety_settings: list[Any] | None = None,
        stream: bool | None = None,
        request_model: str | None = None,
        credentials_hint: str = "check GOOGLE_API_KEY / GEMINI_API_KEY and its permissions",
        batch: bool = True,
    ) -> None:
        self.provider = "google"
        self.model_name = model_name
        self.request_model = request_model or model_name
        """The model sent (on Vertex, without our `vertex/` prefix)."""
        self.credentials_hint = credentials_hint
        """Added to 401/403 reasons: which credentials to check."""
        self.batch = batch
        """Inlined batch jobs are there (the Gemini API's; Vertex batches need Cloud Storage)."""
        self.client = client
        self.base_url = base_url
        self.account = account
        self.safety_settings = safety_settings
        """`types.SafetySetting`s sent with every request (`model_args.safety_settings`)."""
        self.stream = stream
        """`model_args.stream`: true, false, or None (`auto`: only long generations stream)."""

    @property
    def _types(self) -> Any:
        """`google.genai.types`, imported when a request is built (a plan builds none)."""
        from google.genai import types

        return types

    def _parts(self, message: ChatMessage) -> list[Any]:
        """Text, and media inline (bytes) or by URI; reasoning is the model's own, not resent."""
        types = self._types
        if isinstance(message.content, str):
            return [types.Part(text=message.content)]
        parts = []
        for part in message.content:
            if isinstance(part, ContentText):
                parts.append(types.Part(text=part.text))
            elif not isinstance(part, ContentReasoning):
                source = _media_source(part)
                if is_url(source):
                    parts.append(types.Part.from_uri(file_uri=source, mime_type=mime_type(source)))
                else:
                    kind, data = media_bytes(source)
                    parts.append(types.Part.from_bytes(data=data, mime_type=kind))
        return parts

    def build_config(
        self, messages: Sequence[ChatMessage], config: GenerationConfig, timeout: float | None
    ) -> tuple[list[Any], Any]:
        """Messages → `contents`, system messages → `system_instruction`, settings → config."""
        types = self._types
        system = [m.text for m in messages if m.role == "system"]
        contents: list[Any] = []
        for message in messages:
            if message.role == "system":
                continue
            role = _ROLES[message.role]
            parts = self._parts(message)
            if contents and contents[-1].role == role:  # Gemini wants turns to alternate
                contents[-1].parts.extend(parts)
            else:
                contents.append(types.Content(role=role, parts=parts))
        settings: dict[str, Any] = {}
        for ours, theirs in _SIMPLE_FIELDS:
            value = getattr(config, ours)
            if value is not None:
                settings[theirs] = value
        if system:
            settings["system_instruction"] = "\n\n".join(system)
        if self.safety_settings:
            settings["safety_settings"] = self.safety_settings
        if config.stop_seqs:
            settings["stop_sequences"] = config.stop_seqs
        if config.reasoning_tokens is not None:
            settings["thinking_config"] = types.ThinkingConfig(
                thinking_budget=config.reasoning_tokens
            )
        elif config.reasoning_effort in _THINKING_LEVELS:
            # Gemini 3's thinking levels; a budget and a level cannot be sent together.
            settings["thinking_config"] = types.ThinkingConfig(
                thinking_level=_THINKING_LEVELS[config.reasoning_effort]
            )
        if config.response_schema is not None:
            settings["response_mime_type"] = "application/json"
            settings["response_json_schema"] = config.response_schema.json_schema
        if config.logprobs:
            settings["response_logprobs"] = True
            if config.top_logprobs is not None:
                settings["logprobs"] = config.top_logprobs
        http: dict[str, Any] = {}
        if timeout is not None:
            http["timeout"] = max(1, int(timeout * 1000))  # milliseconds
        if config.extra_headers:
            http["headers"] = dict(config.extra_headers)
        if config.extra_body:
            http["extra_body"] = dict(config.extra_body)
        if http:
            settings["http_options"] = types.HttpOptions(**http)
        return contents, types.GenerateContentConfig(**settings)

    async def generate(
        self, messages: Sequence[ChatMessage], config: GenerationConfig, timeout: float | None
    ) -> ModelOutput:
        contents, settings = self.build_config(messages, config, timeout)
        models = self.client.aio.models
        if wants_stream(self.stream, config.max_tokens):
            chunks = await models.generate_content_stream(
                model=self.request_model, contents=contents, config=settings
            )
            response = await self._merge(chunks)
        else:
            response = await models.generate_content(
                model=self.request_model, contents=contents, config=settings
            )
        return parse_response(self.model_name, response)

    async def _merge(self, chunks: AsyncIterator[Any]) -> Any:
        """`streamGenerateContent` chunks → one response: each candidate's parts in order, its
        last finish reason, and the last usage (Gemini's streamed usage is cumulative)."""
        types = self._types
        parts: dict[int, list[Any]] = {}
        reasons: dict[int, Any] = {}
        last, usage = None, None
        async for chunk in chunks:
            last, usage = chunk, chunk.usage_metadata or usage
            for candidate in chunk.candidates or []:
                index = candidate.index or 0
                content = candidate.content
                parts.setdefault(index, []).extend((content.parts or []) if content else [])
                if candidate.finish_reason is not None:
                    reasons[index] = candidate.finish_reason
        if last is None:
            raise MalformedResponseError("streamGenerateContent sent no chunks")
        candidates = [
            types.Candidate(
                index=index,
                content=types.Content(role="model", parts=parts[index]),
                finish_reason=reasons.get(index),
            )
            for index in sorted(parts)
        ]
        return types.GenerateContentResponse(
            candidates=candidates,
            usage_metadata=usage,
            model_version=last.model_version,
            prompt_feedback=last.prompt_feedback,
        )

    def classify(self, error: BaseException) -> Classified:
        from google.genai import errors

        if isinstance(error, errors.APIError):
            status = int(error.code or 0)
            kind = classify_status(status) if status else ErrorKind.FATAL
            if error.status == "RESOURCE_EXHAUSTED":
                kind = ErrorKind.RATE_LIMIT
            elif error.status in ("UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED"):
                kind = ErrorKind.TRANSIENT
            label = f"HTTP {status}" + (f" {error.status}" if error.status else "")
            reason = f"{label} from {self}: {error.message or error.details}"
            if status in (401, 403):
                reason += f" ({self.credentials_hint})"
            elif status == 404:
                reason += " (check the model name and base URL)"
            retry_after = None
            if kind is not ErrorKind.FATAL:
                retry_after = parse_retry_after(getattr(error.response, "headers", None))
                if retry_after is None:
                    retry_after = _retry_delay(error.details)
            return Classified(kind, reason, retry_after, status)
        if isinstance(error, (MalformedResponseError, json.JSONDecodeError)):
            return Classified(ErrorKind.TRANSIENT, f"malformed reply from {self}: {error}")
        if isinstance(error, (TimeoutError, asyncio.TimeoutError)) or _is_timeout(error):
            return Classified(ErrorKind.TRANSIENT, f"request to {self} timed out")
        if _is_connection_error(error):
            return Classified(
                ErrorKind.TRANSIENT,
                f"connection to {self.base_url} failed: {type(error).__name__}: {error}",
            )
        if isinstance(error, errors.UnknownApiResponseError):
            return Classified(ErrorKind.TRANSIENT, f"malformed reply from {self}: {error}")
        return Classified(ErrorKind.FATAL, f"{type(error).__name__}: {error}")

    def unsupported(self, config: GenerationConfig) -> list[str]:
        fields = []
        if config.reasoning_effort is not None and (
            config.reasoning_tokens is not None or config.reasoning_effort not in _THINKING_LEVELS
        ):
            fields.append("reasoning_effort")
        if config.logprobs and wants_stream(self.stream, config.max_tokens):
            fields.append("logprobs")  # not merged across streamed chunks
        return fields

    def batch_adapter(self) -> BatchAdapter | None:
        if not self.batch:
            return None
        from engine.providers._google_batch import GoogleBatch

        return GoogleBatch(self)

    async def aclose(self) -> None:
        if self.made_client is not None:
            await self.made_client.aio.aclose()


def safety_settings(value: Any, model: str) -> list[Any]:
    """`model_args.safety_settings` ({category: threshold}, names with or without `HARM_CATEGORY_`,
    any case) → `types.SafetySetting`s; anything else is a `ProviderConfigError`."""
    from google.genai import types

    if not isinstance(value, Mapping):
        raise ProviderConfigError(
            f"{model}: model_args.safety_settings must map categories to thresholds, "
            "e.g. {harassment: BLOCK_NONE}"
        )
    categories = types.HarmCategory.__members__
    thresholds = types.HarmBlockThreshold.__members__
    result = []
    for category, threshold in value.items():
        name = str(category).upper()
        if not name.startswith("HARM_CATEGORY_"):
            name = f"HARM_CATEGORY_{name}"
        level = str(threshold).upper()
        if name not in categories:
            raise ProviderConfigError(
                f"{model}: unknown safety category '{category}' (known: {', '.join(categories)})"
            )
        if level not in thresholds:
            raise ProviderConfigError(
                f"{model}: unknown safety threshold '{threshold}' (known: {', '.join(thresholds)})"
            )
        result.append(types.SafetySetting(category=categories[name], threshold=thresholds[level]))
    return result


def _retry_delay(details: Any) -> float | None:
    """Seconds from a `google.rpc.RetryInfo` in the error body (`"retryDelay": "37s"`), as
    Gemini sends with RESOURCE_EXHAUSTED instead of a Retry-After header."""
    inner = details.get("error", details) if isinstance(details, dict) else None
    entries = inner.get("details") if isinstance(inner, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and str(entry.get("@type", "")).endswith("RetryInfo"):
            delay = str(entry.get("retryDelay", ""))
            try:
                return max(0.0, float(delay.removesuffix("s")))
            except ValueError:
                return None
    return None


def _is_timeout(error: BaseException) -> bool:
    module = type(error).__module__
    return "Timeout" in type(error).__name__ and module.startswith(("httpx", "aiohttp"))


def _is_connection_error(error: BaseException) -> bool:
    """aiohttp's and httpx's transport failures (refused, reset, dropped mid-reply)."""
    if isinstance(error, ConnectionError):
        return True
    module = type(error).__module__
    if module.startswith("aiohttp"):
        import aiohttp

        return isinstance(error, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError))
    if module.startswith(("httpx", "httpx2")):
        return "Error" in type(error).__name__ and any(
            base.__name__ in ("TransportError", "NetworkError", "RemoteProtocolError")
            for base in type(error).__mro__
        )
    return False


def parse_response(model: str, response: Any) -> ModelOutput:
    """Read a `GenerateContentResponse`; thought parts are kept apart from the completion."""
    try:
        choices = []
        for candidate in response.candidates or []:
            parts = candidate.content.parts if candidate.content is not None else None
            reason = candidate.finish_reason
            name = getattr(reason, "value", reason)
            choices.append(
                Choice(
                    _reply(parts or []),
                    _STOP_REASONS.get(str(name), "unknown"),
                    _logprobs(getattr(candidate, "logprobs_result", None)),
                )
            )
    except (AttributeError, TypeError) as error:
        raise MalformedResponseError(f"not a GenerateContentResponse ({error!r})") from None
    if not choices:
        feedback = getattr(response, "prompt_feedback", None)
        if feedback is not None and feedback.block_reason is not None:
            choices = [Choice(assistant(""), "content_filter")]
        else:
            raise MalformedResponseError("GenerateContentResponse with no candidates")
    return ModelOutput(
        getattr(response, "model_version", None) or model, choices, _usage(response.usage_metadata)
    )


def _media_source(part: ContentImage | ContentAudio | ContentVideo) -> str:
    if isinstance(part, ContentImage):
        return part.image
    return part.audio if isinstance(part, ContentAudio) else part.video


def _reply(parts: list[Any]) -> ChatMessage:
    """The answer's text; thought parts (Gemini's thought summaries) become reasoning parts."""
    text = "".join(p.text for p in parts if p.text and not p.thought)
    thoughts = "".join(p.text for p in parts if p.text and p.thought)
    return assistant([ContentReasoning(thoughts), ContentText(text)] if thoughts else text)


def _logprobs(result: Any) -> list[dict[str, Any]] | None:
    """Gemini's `logprobsResult` in the OpenAI/Inspect shape (token, logprob, top_logprobs)."""
    if result is None or not result.chosen_candidates:
        return None
    tops = result.top_candidates or []
    entries = []
    for index, chosen in enumerate(result.chosen_candidates):
        token = chosen.token or ""
        entry: dict[str, Any] = {
            "token": token,
            "logprob": chosen.log_probability,
            "bytes": list(token.encode()),
        }
        if index < len(tops):
            entry["top_logprobs"] = [
                {"token": top.token or "", "logprob": top.log_probability}
                for top in tops[index].candidates or []
            ]
        entries.append(entry)
    return entries


def _usage(metadata: Any) -> ModelUsage:
    if metadata is None:
        return ModelUsage()
    prompt = int(metadata.prompt_token_count or 0)
    candidates = int(metadata.candidates_token_count or 0)
    thoughts = metadata.thoughts_token_count
    # Gemini's total counts thoughts; our output tokens do too (as OpenAI's reasoning tokens do).
    output = candidates + int(thoughts or 0)
    usage = ModelUsage(prompt, output, int(metadata.total_token_count or prompt + output))
    if thoughts is not None:
        usage.reasoning_tokens = int(thoughts)
    if metadata.cached_content_token_count is not None:
        usage.input_tokens_cache_read = int(metadata.cached_content_token_count)
    return usage


def create(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    """`google/MODEL` (and `google/vertex/…`): the factory `NATIVE` names. On the Gemini API the
    client is made on first use (`Deferred`): a plan imports no SDK."""
    platform, sep, rest = name.partition("/")
    if (env("GOOGLE_GENAI_USE_VERTEXAI") or "").lower() == "true" and platform != "vertex":
        platform, sep, rest = "vertex", "/", name  # as Inspect: the flag means Vertex AI
    if sep:  # google/vertex/…; Gemini's own names may be `models/…` or `tunedModels/…`
        if platform == "vertex":
            return google_vertex(rest, model_args, base_url)
        hint = misspelt_platform("google", platform, ("vertex",))
        if hint is not None:
            raise ProviderConfigError(
                f"unknown Google platform '{platform}' in 'google/{name}'; did you mean {hint}?"
            )
    model = f"google/{name}"
    key = env("GOOGLE_API_KEY") or env("GEMINI_API_KEY")
    if key is None:
        raise MissingCredentialError(
            f"{model} needs the environment variable GOOGLE_API_KEY or GEMINI_API_KEY "
            "(set it in the environment or a .env file)"
        )
    url = base_url or env("GOOGLE_BASE_URL") or "https://generativelanguage.googleapis.com"
    args = dict(model_args)
    safety = (
        safety_settings(args.pop("safety_settings"), model) if "safety_settings" in args else None
    )
    api_version = args.pop("api_version", None)  # else GOOGLE_GENAI_API_VERSION, else v1
    stream = stream_setting(args.pop("stream", "auto"), model)
    vertex_only = sorted({"project", "location"} & set(args))
    if vertex_only:
        raise ProviderConfigError(
            f"model_args {', '.join(vertex_only)} on {model}: the Gemini API has no project or "
            f"location; they are Vertex AI's: use google/vertex/{name} "
            "(or set GOOGLE_GENAI_USE_VERTEXAI=true, as in Inspect)"
        )
    # The client's other arguments are SDK objects (credentials, debug_config) YAML cannot hold.
    refuse_unknown_args(model_args, {"safety_settings", "api_version", "stream"}, model)

    def http_options() -> Any:
        from google.genai import types

        # No SDK retries (the pool retries); attempts=1 also stops its hidden
        # reconnect-after-sleep.
        return types.HttpOptions(
            base_url=url, api_version=api_version, retry_options=types.HttpRetryOptions(attempts=1)
        )

    if api_version is not None:
        http_options()  # the SDK judges a given `api_version` now, before any request

    def make() -> Any:
        from google import genai

        return genai.Client(**args, vertexai=False, api_key=key, http_options=http_options())

    return GoogleAPI(
        name,
        Deferred(make, ("google.genai",)),
        base_url=url,
        account=account_of(key),
        safety_settings=safety,
        stream=stream,
    )


def google_vertex(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    """`google/vertex/MODEL`: google-genai in Vertex mode (`name` is after `google/vertex/`)."""
    from google import genai
    from google.genai import types

    model = f"google/vertex/{name}"
    args = dict(model_args)
    args["project"] = google_project(model_args, "project", ("GOOGLE_CLOUD_PROJECT",), model)
    args["location"] = model_args.get("location") or env("GOOGLE_CLOUD_LOCATION") or "global"
    safety = (
        safety_settings(args.pop("safety_settings"), model) if "safety_settings" in args else None
    )
    api_version = args.pop("api_version", None)  # the SDK's Vertex default: v1beta1
    stream = stream_setting(args.pop("stream", "auto"), model)
    # The client's other arguments are SDK objects (credentials, debug_config) YAML cannot hold.
    accepted = {"project", "location", "safety_settings", "api_version", "stream"}
    refuse_unknown_args(model_args, accepted, model, "; credentials come from ADC")
    url = base_url or env("GOOGLE_VERTEX_BASE_URL")
    # No SDK retries (the pool retries); application-default credentials are loaded by the SDK.
    http_options = types.HttpOptions(
        base_url=url, api_version=api_version, retry_options=types.HttpRetryOptions(attempts=1)
    )
    client = genai.Client(**args, vertexai=True, http_options=http_options)
    return GoogleAPI(
        f"vertex/{name}",
        client,
        base_url=url or client._api_client._http_options.base_url,
        account=account_of(args["project"]),
        safety_settings=safety,
        stream=stream,
        request_model=name,
        credentials_hint=GOOGLE_AUTH_HINT,
        batch=False,
    )
