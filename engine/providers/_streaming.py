"""Streamed replies: when to stream (`model_args.stream`), and Anthropic's SSE events folded back
into the `message` object `parse_message` reads, so a streamed and a plain reply give one output.

Streaming keeps a long generation's connection busy, so proxies and load balancers do not drop it
as idle; Anthropic asks for it on long requests (its SDK refuses plain requests whose `max_tokens`
could take over ten minutes, which is where `auto` starts streaming, for every provider).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from engine.providers._errors import (
    ErrorKind,
    MalformedResponseError,
    ProviderConfigError,
    StreamError,
)

__all__ = ["STREAM_ABOVE_MAX_TOKENS", "fold_events", "stream_setting", "wants_stream"]

STREAM_ABOVE_MAX_TOKENS = 21_333
"""`auto` streams above this `max_tokens` (the SDK's ten-minute estimate at 128k tokens/hour)."""

_ERROR_KINDS = {
    "overloaded_error": ErrorKind.TRANSIENT,
    "api_error": ErrorKind.TRANSIENT,
    "timeout_error": ErrorKind.TRANSIENT,
    "rate_limit_error": ErrorKind.RATE_LIMIT,
}

_DELTA_FIELDS = {"text_delta": "text", "thinking_delta": "thinking"}


def stream_setting(value: Any, model: str) -> bool | None:
    """`model_args.stream`: true, false or `auto` (None: decided per request by `wants_stream`)."""
    if value == "auto":
        return None
    if isinstance(value, bool):
        return value
    raise ProviderConfigError(
        f"{model}: model_args.stream must be true, false or auto, got {value!r}"
    )


def wants_stream(setting: bool | None, max_tokens: int | None) -> bool:
    """Whether to stream this request: as set, or (`auto`) above `STREAM_ABOVE_MAX_TOKENS`."""
    if setting is None:
        return (max_tokens or 0) > STREAM_ABOVE_MAX_TOKENS
    return setting


async def fold_events(events: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    """`message_start` … `message_stop` → one `message`; an `error` event raises `StreamError`."""
    message: dict[str, Any] | None = None
    blocks: dict[int, dict[str, Any]] = {}
    try:
        async for event in events:
            kind = event.get("type")
            if kind == "error":
                error = event.get("error") or {}
                name = str(error.get("type", "error"))
                raise StreamError(
                    f"{name}: {error.get('message', '')}",
                    _ERROR_KINDS.get(name, ErrorKind.FATAL),
                )
            if kind == "message_start":
                message = dict(event["message"])
                message["usage"] = dict(message.get("usage") or {})
            elif message is None:
                if kind != "ping":
                    raise MalformedResponseError(f"stream began with {kind!r}, not message_start")
            elif kind == "content_block_start":
                blocks[int(event["index"])] = dict(event["content_block"])
            elif kind == "content_block_delta":
                _apply(blocks[int(event["index"])], event["delta"])
            elif kind == "message_delta":
                message.update(event["delta"])
                usage = event.get("usage") or {}
                message["usage"].update({k: v for k, v in usage.items() if v is not None})
            elif kind == "message_stop":
                message["content"] = [blocks[index] for index in sorted(blocks)]
                return message
            # `ping`, `content_block_stop` and event types added later carry nothing we keep.
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MalformedResponseError(f"off-protocol stream event ({error!r})") from None
    raise MalformedResponseError("the stream ended before message_stop")


def _apply(block: dict[str, Any], delta: dict[str, Any]) -> None:
    kind = delta["type"]
    field = _DELTA_FIELDS.get(kind)
    if field is not None:
        block[field] = block.get(field, "") + delta[field]
    elif kind == "signature_delta":
        block["signature"] = delta["signature"]
    # tool-input and citation deltas belong to blocks we do not read
