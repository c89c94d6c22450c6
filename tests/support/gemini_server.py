"""A local server speaking the Gemini API's `generateContent` wire protocol, for tests.

    with GeminiServer(responder=sequence([rate_limited("0"), "ok"])) as server:
        os.environ["GOOGLE_BASE_URL"] = server.base_url      # http://127.0.0.1:PORT
        ...
        assert len(server.requests) == 2

The HTTP/1.1 machinery is `openai_server`'s (asyncio, its own loop in a background thread,
keep-alive); only the routes and the JSON shapes differ. Routes:

    POST /{v1,v1beta,v1alpha}/models/{model}:generateContent    the responder answers
    POST …/models/{model}:streamGenerateContent?alt=sse         the same answer as SSE chunks
                                                                (a part each, cumulative usage,
                                                                finishReason on the last only)
    anything else                                               404 in Google's error shape

The responder gets the parsed `Request` and returns the reply text (wrapped into an exact
`GenerateContentResponse`, usage counted in words) or a `Reply` (errors, headers, delays, raw
bytes, a dropped connection). `sequence`, `close_connection` and `malformed` come from
`openai_server` and work here unchanged.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from tests.support.openai_server import (
    Reply,
    ReplyServer,
    Request,
    Responder,
    close_connection,
    fixed,
    http_response,
    malformed,
    sequence,
)

__all__ = [
    "GeminiServer",
    "Reply",
    "Request",
    "Responder",
    "close_connection",
    "contents_text",
    "echo",
    "error",
    "fixed",
    "generate_content",
    "malformed",
    "model_of",
    "rate_limited",
    "sequence",
    "stream_chunks",
]


_ROUTE = re.compile(
    r"^/(v1|v1beta|v1alpha|v1beta1)/"
    r"(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/google/)?"
    r"models/(?P<model>[^/:]+):(generateContent|streamGenerateContent)$"
)
"""The Gemini API's `/v1beta/models/M:generateContent` and Vertex AI's
`/v1beta1/projects/P/locations/L/publishers/google/models/M:generateContent` (and their
`streamGenerateContent`)."""

_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def model_of(request: Request) -> str | None:
    """The model named in the request path (`gemini-2.5-flash`)."""
    match = _ROUTE.match(request.path)
    return match.group("model") if match else None


def contents_text(request: Request, role: str | None = "user") -> list[str]:
    """The text of each content in the body (of `role`, or of all with None)."""
    body = request.body if isinstance(request.body, dict) else {}
    return [
        "".join(part.get("text", "") for part in content.get("parts", []))
        for content in body.get("contents", [])
        if role is None or content.get("role") == role
    ]


def echo(request: Request) -> str:
    """Reply with the last user content."""
    texts = contents_text(request)
    return texts[-1] if texts else ""


def error(
    status: int,
    message: str | None = None,
    *,
    code_status: str | None = None,
    headers: dict[str, str] | None = None,
    delay: float = 0.0,
) -> Reply:
    """An error in Google's shape: `{"error": {"code", "message", "status"}}`."""
    return Reply(
        status=status,
        body=_error_body(
            status,
            message if message is not None else HTTPStatus(status).phrase,
            code_status or _STATUSES.get(status, "UNKNOWN"),
        ),
        headers=dict(headers or {}),
        delay=delay,
    )


def _error_body(status: int, message: str, code_status: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": code_status}}


def rate_limited(retry_after: str | None = None) -> Reply:
    """A 429 RESOURCE_EXHAUSTED as Gemini sends it, optionally with `retry-after`."""
    return error(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        headers={"retry-after": retry_after} if retry_after is not None else None,
    )


def generate_content(
    request: Request,
    text: str | Sequence[str],
    *,
    finish_reason: str = "STOP",
    thought: str | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An exact `GenerateContentResponse` answering `request`: one candidate per text given, or
    `candidateCount` copies of one text. `thought` adds a thought part first in each candidate.

    Usage counts words (thoughts in `thoughtsTokenCount`); `usage` overrides parts of it.
    """
    body = request.body if isinstance(request.body, dict) else {}
    if isinstance(text, str):
        count = int((body.get("generationConfig") or {}).get("candidateCount") or 1)
        texts = [text] * count
    else:
        texts = list(text)
    prompt = sum(len(t.split()) for t in contents_text(request, None))
    system = body.get("systemInstruction") or {}
    prompt += sum(len(p.get("text", "").split()) for p in system.get("parts", []))
    completion = sum(len(t.split()) for t in texts)
    thoughts = len(thought.split()) * len(texts) if thought else 0
    counted: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion,
        "totalTokenCount": prompt + completion + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    if thoughts:
        counted["thoughtsTokenCount"] = thoughts
    counted.update(usage or {})
    candidates = []
    for index, answer in enumerate(texts):
        parts: list[dict[str, Any]] = []
        if thought:
            parts.append({"text": thought, "thought": True})
        parts.append({"text": answer})
        candidates.append(
            {
                "content": {"role": "model", "parts": parts},
                "finishReason": finish_reason,
                "index": index,
            }
        )
    return {
        "candidates": candidates,
        "usageMetadata": counted,
        "modelVersion": model_of(request) or "unknown",
        "responseId": "local-response",
    }


class GeminiServer(ReplyServer):
    """A `generateContent` server on 127.0.0.1 in a background thread; a context manager.

    Args:
        responder: answers each generateContent request (default `echo`).
        api_key: when set, a request without `x-goog-api-key: KEY` (or `?key=KEY`) gets
            Google's 400 API_KEY_INVALID, as the real API answers.
        access_token: when set, a Vertex request without `Authorization: Bearer TOKEN` gets
            401 UNAUTHENTICATED.
    """

    def __init__(
        self,
        responder: Responder = echo,
        *,
        latency: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        access_token: str | None = None,
    ) -> None:
        super().__init__(host, port)
        self.responder = responder
        self.latency = latency
        self.api_key = api_key
        self.access_token = access_token

    @property
    def base_url(self) -> str:
        """The server root (the SDK appends `/v1/models/…`): `http://127.0.0.1:PORT`."""
        return f"http://{self.host}:{self.port}"

    async def _answer(self, request: Request) -> Reply:
        if request.method == "POST" and _ROUTE.match(request.path):
            return await self._generate(request)
        return error(404, f"The requested URL {request.path} was not found on this server.")

    def _encode(self, reply: Reply, request: Request, keep_alive: bool) -> bytes:
        headers = {"content-type": "application/json; charset=UTF-8"}
        streaming = request.path.endswith(":streamGenerateContent")
        if reply.raw is not None:
            payload = reply.raw
        elif reply.status == 200 and streaming:
            headers["content-type"] = "text/event-stream"
            payload = stream_chunks(reply.body or generate_content(request, reply.text or ""))
        elif reply.body is not None:
            payload = json.dumps(reply.body).encode()
        else:
            payload = json.dumps(generate_content(request, reply.text or "")).encode()
        return http_response(reply, payload, headers, keep_alive)

    async def _generate(self, request: Request) -> Reply:
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if self.api_key is not None and self.api_key not in (
            request.headers.get("x-goog-api-key"),
            request.query.get("key"),
        ):
            return error(400, "API key not valid. Please pass a valid API key.")
        vertex = (match := _ROUTE.match(request.path)) is not None and match.group("project")
        if (
            vertex
            and self.access_token is not None
            and request.headers.get("authorization") != f"Bearer {self.access_token}"
        ):
            return error(401, "Request had invalid authentication credentials.")
        if not isinstance(request.body, dict):
            return error(400, "Invalid JSON payload received.")
        answer = self.responder(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return Reply(text=answer) if isinstance(answer, str) else answer


def stream_chunks(body: dict[str, Any]) -> bytes:
    """A `GenerateContentResponse` as `streamGenerateContent?alt=sse` sends it: one chunk per
    part, usage so far in each (cumulative), `finishReason` only on a candidate's last chunk;
    events end with CRLF CRLF, as Google's do."""
    chunks = []
    final = body["usageMetadata"]
    for candidate in body["candidates"]:
        parts = candidate["content"]["parts"]
        for number, part in enumerate(parts, start=1):
            piece: dict[str, Any] = {
                "content": {"role": "model", "parts": [part]},
                "index": candidate["index"],
            }
            if number == len(parts):
                piece["finishReason"] = candidate["finishReason"]
            chunks.append({"candidates": [piece], "modelVersion": body["modelVersion"]})
    for number, chunk in enumerate(chunks, start=1):
        share = number / len(chunks)
        chunk["usageMetadata"] = {
            key: round(value * share) if isinstance(value, int) else value
            for key, value in final.items()
        }
    chunks[-1]["usageMetadata"] = final
    return b"".join(f"data: {json.dumps(chunk)}\r\n\r\n".encode() for chunk in chunks)
