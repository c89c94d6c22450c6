"""A local server speaking AWS Bedrock's Converse wire protocol (rest-json), for tests.

    with BedrockServer(responder=sequence([throttled(), "ok"])) as server:
        os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = server.base_url
        ...
        assert len(server.converse_requests()) == 2

The HTTP/1.1 machinery is `openai_server`'s; only the routes and shapes differ:

    POST /model/{modelId}/converse     the responder answers (a Converse response)
    anything else                      404 UnknownOperationException

Errors are AWS-shaped: the status, an `x-amzn-errortype: Code:…` header and `{"message": …}`.
With `access_key` set, a request whose SigV4 `Authorization` header is not signed with that key
id gets a 403 UnrecognizedClientException, as Bedrock answers.
"""

from __future__ import annotations

import inspect
import json
import re
import uuid
from typing import Any
from urllib.parse import unquote

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
    "BedrockServer",
    "Reply",
    "Request",
    "close_connection",
    "converse",
    "echo",
    "error",
    "fixed",
    "malformed",
    "model_of",
    "sequence",
    "throttled",
]


_ROUTE = re.compile(r"^/model/([^/]+)/converse$")


def model_of(request: Request) -> str | None:
    match = _ROUTE.match(request.path)
    return unquote(match.group(1)) if match else None


def texts(request: Request, role: str | None = "user") -> list[str]:
    """The text of each message (of `role`, or all with None)."""
    body = request.body if isinstance(request.body, dict) else {}
    return [
        "".join(block.get("text", "") for block in message.get("content", []))
        for message in body.get("messages", [])
        if role is None or message.get("role") == role
    ]


def echo(request: Request) -> str:
    found = texts(request)
    return found[-1] if found else ""


def error(status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> Reply:
    """An AWS rest-json error: `x-amzn-errortype` names the code, the body has `message`."""
    return Reply(
        status=status,
        body={"message": message},
        headers={
            "x-amzn-errortype": f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/",
            **(headers or {}),
        },
    )


def throttled(retry_after: str | None = None) -> Reply:
    return error(
        429,
        "ThrottlingException",
        "Too many requests, please wait before trying your request again.",
        headers={"retry-after": retry_after} if retry_after is not None else None,
    )


def converse(
    request: Request,
    text: str,
    *,
    reasoning: str | None = None,
    signature: str = "c2lnbmF0dXJl",
    stop_reason: str = "end_turn",
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An exact Converse response answering `request`; usage counts words."""
    prompt = sum(len(t.split()) for t in texts(request, None))
    body = request.body if isinstance(request.body, dict) else {}
    prompt += sum(len(block.get("text", "").split()) for block in body.get("system", []))
    content: list[dict[str, Any]] = []
    if reasoning is not None:
        content.append(
            {"reasoningContent": {"reasoningText": {"text": reasoning, "signature": signature}}}
        )
    content.append({"text": text})
    completion = len(text.split()) + len((reasoning or "").split())
    counted: dict[str, Any] = {
        "inputTokens": prompt,
        "outputTokens": completion,
        "totalTokens": prompt + completion,
    }
    counted.update(usage or {})
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": counted,
        "metrics": {"latencyMs": 12},
    }


class BedrockServer(ReplyServer):
    """A Converse server on 127.0.0.1 in a background thread; a context manager."""

    def __init__(
        self,
        responder: Responder = echo,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_key: str | None = None,
    ) -> None:
        super().__init__(host, port)
        self.responder = responder
        self.access_key = access_key

    @property
    def base_url(self) -> str:
        """The endpoint URL (botocore appends `/model/…/converse`): `http://127.0.0.1:PORT`."""
        return f"http://{self.host}:{self.port}"

    def converse_requests(self) -> list[Request]:
        return [r for r in self.requests if _ROUTE.match(r.path)]

    async def _answer(self, request: Request) -> Reply:
        if request.method != "POST" or not _ROUTE.match(request.path):
            return error(404, "UnknownOperationException", "Unknown operation")
        if self.access_key is not None and not request.headers.get("authorization", "").startswith(
            f"AWS4-HMAC-SHA256 Credential={self.access_key}/"
        ):
            return error(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        if not isinstance(request.body, dict) or not request.body.get("messages"):
            return error(400, "ValidationException", "messages: must not be empty")
        answer = self.responder(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return Reply(text=answer) if isinstance(answer, str) else answer

    def _encode(self, reply: Reply, request: Request, keep_alive: bool) -> bytes:
        if reply.raw is not None:
            payload = reply.raw
        elif reply.body is not None:
            payload = json.dumps(reply.body).encode()
        else:
            payload = json.dumps(converse(request, reply.text or "")).encode()
        headers = {"content-type": "application/json", "x-amzn-requestid": str(uuid.uuid4())}
        return http_response(reply, payload, headers, keep_alive)
