"""A local server speaking Anthropic's Messages API wire protocol, for tests.

    with AnthropicServer(responder=sequence([rate_limited("0"), "ok"])) as server:
        os.environ["ANTHROPIC_BASE_URL"] = server.base_url     # http://127.0.0.1:PORT
        ...
        assert len(server.requests) == 2

The HTTP/1.1 side (keep-alive, Content-Length and chunked request bodies, on `asyncio.start_server`
in a background thread) is `tests.support.openai_server`'s; only the routes and shapes differ:

    POST /v1/messages        the responder answers: a `message` object, or with `"stream": true`
                             the same message as server-sent events (message_start,
                             content_block_start/delta/stop, message_delta, message_stop, pings)
    anything else            404 in Anthropic's error shape

The responder gets the parsed `Request` and returns the reply text (wrapped into an exact
`message`, usage counted in words) or a `Reply` (an error, headers, a delay, a raw body, a body
from `message(...)` with thinking blocks, another stop reason or cache usage).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
from http import HTTPStatus
from typing import Any

from tests.support.openai_server import (
    Reply,
    Request,
    Responder,
    ThreadedServer,
    _content_text,
    _Dropped,
    _read_request,
    echo,
    fixed,
    sequence,
)

__all__ = [
    "AnthropicServer",
    "Reply",
    "Request",
    "Responder",
    "echo",
    "error",
    "fixed",
    "malformed",
    "message",
    "overloaded",
    "rate_limited",
    "sequence",
    "stream_events",
]


# Reply, echo, fixed and sequence are openai_server's: the scripting is the same for every wire.


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error(
    status: int,
    message: str | None = None,
    *,
    type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """An error in Anthropic's shape: `{"type": "error", "error": {"type", "message"}}`."""
    if message is None:
        message = "Overloaded" if status == 529 else HTTPStatus(status).phrase
    kind = type or _ERROR_TYPES.get(status, "api_error")
    return Reply(status=status, body=_error_body(kind, message), headers=dict(headers or {}))


def _error_body(kind: str, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": f"req_{next(_ids):08d}",
    }


def rate_limited(retry_after: str | None = None) -> Reply:
    """A 429 as Anthropic sends it, optionally with `retry-after` (seconds)."""
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return error(
        429,
        "This request would exceed the rate limit for your organization of 50 requests per "
        "minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.",
        headers=headers,
    )


def overloaded(retry_after: str | None = None) -> Reply:
    """Anthropic's 529 `overloaded_error`."""
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return error(529, "Overloaded", headers=headers)


def malformed(raw: bytes = b'{"id": "msg_1", "content": [', status: int = 200) -> Reply:
    """A reply labelled JSON whose body is not (truncated by default)."""
    return Reply(status=status, raw=raw)


def message(
    request: Request,
    text: str,
    *,
    thinking: str | None = None,
    stop_reason: str = "end_turn",
    stop_sequence: str | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An exact Messages API `message` answering `request` with `text`.

    `thinking` puts a thinking block (with its signature) before the text. Usage counts words
    (system and messages in, text out); `usage` overrides parts of it.
    """
    body = request.body if isinstance(request.body, dict) else {}
    system = body.get("system")
    prompt = len(_content_text(system).split()) if system else 0
    prompt += sum(len(_content_text(m.get("content")).split()) for m in request.messages)
    content: list[dict[str, Any]] = []
    if thinking is not None:
        content.append({"type": "thinking", "thinking": thinking, "signature": "c2lnbmF0dXJl"})
    content.append({"type": "text", "text": text})
    counted: dict[str, Any] = {
        "input_tokens": prompt,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": len(text.split()) + len((thinking or "").split()),
        "service_tier": "standard",
    }
    counted.update(usage or {})
    return {
        "id": f"msg_{next(_ids):024d}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model") or "unknown",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": counted,
    }


_ids = itertools.count(1)


# ── the server ────────────────────────────────────────────────────────────────────────────────────


class AnthropicServer(ThreadedServer):
    """A Messages API server on 127.0.0.1 in a background thread; use it as a context manager.

    Args:
        responder: answers each `POST /v1/messages` (default `echo`).
        api_key: when set, a request without `x-api-key: KEY` or `Authorization: Bearer KEY`
            gets Anthropic's 401.
    """

    def __init__(
        self,
        responder: Responder = echo,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
    ) -> None:
        super().__init__(host, port)
        self.responder = responder
        self.api_key = api_key

    @property
    def base_url(self) -> str:
        """Anthropic's base URL shape (the SDK appends `/v1/messages`): `http://127.0.0.1:PORT`."""
        return f"http://{self.host}:{self.port}"

    def message_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path == "/v1/messages"]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                keep_alive = request.headers.get("connection", "").lower() != "close"
                with self._lock:
                    self._requests.append(request)
                reply = await self._answer(request)
                if reply.delay > 0:
                    await asyncio.sleep(reply.delay)
                if reply.close:  # drop the connection without answering
                    break
                writer.write(_encode(reply, request, keep_alive))
                await writer.drain()
                if not keep_alive:
                    break
        except (_Dropped, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _answer(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != "/v1/messages":
            return Reply(status=404, body=_error_body("not_found_error", "Not found"))
        if self.api_key is not None and self.api_key not in (
            request.headers.get("x-api-key"),
            request.headers.get("authorization", "").removeprefix("Bearer "),
        ):
            return error(401, "invalid x-api-key")
        if not isinstance(request.body, dict):
            return error(400, "There was an error parsing the body of your request.")
        if "max_tokens" not in request.body:
            return error(400, "max_tokens: Field required")
        answer = self.responder(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return Reply(text=answer) if isinstance(answer, str) else answer


def stream_events(body: dict[str, Any]) -> bytes:
    """A `message` as the Messages API streams it: text and thinking arrive in two deltas each,
    input usage in `message_start`, output usage in `message_delta` (as the real API does)."""
    usage = dict(body["usage"])
    start_usage = {**usage, "output_tokens": 1}
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {"message": {**body, "content": [], "stop_reason": None, "usage": start_usage}},
        ),
        ("ping", {}),
    ]
    for index, block in enumerate(body["content"]):
        field = {"text": "text", "thinking": "thinking"}.get(block["type"])
        if field is None:
            events.append(("content_block_start", {"index": index, "content_block": block}))
        else:
            empty = {**block, field: ""}
            empty.pop("signature", None)
            if block["type"] == "thinking":
                empty["signature"] = ""
            events.append(("content_block_start", {"index": index, "content_block": empty}))
            whole = block[field]
            for piece in (whole[: len(whole) // 2], whole[len(whole) // 2 :]):
                delta = {"type": f"{field}_delta", field: piece}
                events.append(("content_block_delta", {"index": index, "delta": delta}))
            if "signature" in block:
                delta = {"type": "signature_delta", "signature": block["signature"]}
                events.append(("content_block_delta", {"index": index, "delta": delta}))
        events.append(("content_block_stop", {"index": index}))
    stop = {"stop_reason": body["stop_reason"], "stop_sequence": body.get("stop_sequence")}
    events.append(
        ("message_delta", {"delta": stop, "usage": {"output_tokens": usage["output_tokens"]}})
    )
    events.append(("message_stop", {}))
    return "".join(
        f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n" for name, data in events
    ).encode()


def _encode(reply: Reply, request: Request, keep_alive: bool) -> bytes:
    streaming = isinstance(request.body, dict) and request.body.get("stream") is True
    content_type = "application/json"
    if reply.raw is not None:
        payload = reply.raw
    elif reply.status == 200 and streaming:
        content_type = "text/event-stream; charset=utf-8"
        payload = stream_events(reply.body or message(request, reply.text or ""))
    elif reply.body is not None:
        payload = json.dumps(reply.body).encode()
    else:
        payload = json.dumps(message(request, reply.text or "")).encode()
    headers = {"content-type": content_type}
    headers.update({k.lower(): v for k, v in reply.headers.items()})
    headers["content-length"] = str(len(payload))
    headers["connection"] = "keep-alive" if keep_alive else "close"
    headers.setdefault("request-id", f"req_{next(_ids):08d}")
    try:
        phrase = HTTPStatus(reply.status).phrase
    except ValueError:
        phrase = "Overloaded" if reply.status == 529 else "Unknown"
    head = f"HTTP/1.1 {reply.status} {phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return head.encode("latin-1") + b"\r\n" + payload
