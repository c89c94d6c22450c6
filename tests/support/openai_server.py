"""A local server speaking OpenAI's chat-completions wire protocol, for tests and benchmarks.

    with OpenAIServer(responder=sequence([rate_limited("0"), "ok"])) as server:
        os.environ["OPENAI_BASE_URL"] = server.base_url      # http://127.0.0.1:PORT/v1
        ...
        assert len(server.requests) == 2

It is a minimal HTTP/1.1 server (keep-alive, Content-Length and chunked request bodies) on
`asyncio.start_server`, running its own event loop in a background thread, so hundreds of
simultaneous keep-alive connections cost one thread. Routes:

    POST …/chat/completions                       the responder answers (`/v1/…`, Azure's
                                                  `/openai/deployments/NAME/…`, any service prefix)
    GET  /v1/models                               the `models` list
    anything else                                 404 in OpenAI's error shape

The responder gets the parsed `Request` and returns the reply text (wrapped into an exact
`chat.completion`, usage counted in words) or a `Reply` (errors, headers, delays, raw bytes, a
dropped connection, a truncated body). It may be a coroutine function; it runs on the server's loop,
so keep it quick. `flaky(...)` injects faults into a seeded share of requests, deterministically.

Standalone (for subprocess tests and benchmarks; the first stdout line is the base URL):

    python -m tests.support.openai_server --port 0 --latency 0.1 --reply "A"
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import itertools
import json
import random
import signal
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "Gate",
    "OpenAIServer",
    "Reply",
    "ReplyServer",
    "Request",
    "Responder",
    "ThreadedServer",
    "chat_completion",
    "close_connection",
    "echo",
    "error",
    "fixed",
    "flaky",
    "http_response",
    "malformed",
    "rate_limited",
    "sequence",
    "truncated",
]


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the server received it."""

    method: str
    path: str
    """Without the query string."""
    query: dict[str, str]
    headers: dict[str, str]
    """Lowercased names."""
    body: Any
    """Parsed JSON, or None for an empty or non-JSON body."""
    raw: bytes = b""

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", []) if isinstance(self.body, dict) else []


@dataclass(frozen=True, slots=True)
class Reply:
    """A scripted answer. Exactly what is sent is decided in this order:

    `close` drops the connection without answering; else `raw` is the body verbatim; else `body`
    is sent as JSON; else `text` is wrapped into a chat.completion (a 200 with neither is `""`).
    `delay` (seconds) is waited first, on top of the server's `latency`. `truncate` sends only
    that many bytes of the body (Content-Length still announces all of it), then drops the socket.
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None
    text: str | None = None
    close: bool = False
    truncate: int | None = None


Answer = str | Reply
Responder = Callable[[Request], Answer | Awaitable[Answer]]


# ── ready-made responders and replies ─────────────────────────────────────────────────────────────


def echo(request: Request) -> str:
    """Reply with the last user message."""
    for message in reversed(request.messages):
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def fixed(text: str) -> Responder:
    """Always reply `text`."""

    def responder(request: Request) -> str:
        return text

    return responder


def refuse_about_half(request: Request) -> Answer:
    """Grades every grader prompt C; refuses (400) the samples whose prompt hashes odd, the same
    ones on every run, and answers the rest: a run that fails part of its samples."""
    prompt = _content_text(request.messages[-1].get("content"))
    if "[Expert]:" in prompt:
        return "GRADE: C"
    return error(400, "refused") if zlib.crc32(prompt.encode()) % 2 else "the basket"


def refuse_every_other_prompt() -> Responder:
    """Grades every grader prompt C; refuses (400) every second distinct prompt in the order they
    arrive (the same way when one comes again) and answers the rest: about half of any set of
    samples fails, whichever they are (`refuse_about_half` depends on which a run draws)."""
    refused: dict[str, bool] = {}

    def respond(request: Request) -> Answer:
        prompt = _content_text(request.messages[-1].get("content"))
        if "[Expert]:" in prompt:
            return "GRADE: C"
        refuse = refused.setdefault(prompt, len(refused) % 2 == 1)
        return error(400, "refused") if refuse else "the basket"

    return respond


def sequence(script: Iterable[Answer | Responder]) -> Responder:
    """One scripted item per call, in order; the last one repeats once the script runs out.

    Items are reply texts, `Reply`s or responders (e.g. `echo`).
    """
    items = list(script)
    if not items:
        raise ValueError("sequence() needs at least one item")
    lock = threading.Lock()
    position = 0

    def responder(request: Request) -> Answer | Awaitable[Answer]:
        nonlocal position
        with lock:
            item = items[min(position, len(items) - 1)]
            position += 1
        return item(request) if callable(item) else item

    return responder


_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout", None),
    409: ("conflict", None),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", "service_unavailable"),
}


def error(
    status: int,
    message: str | None = None,
    *,
    type: str | None = None,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
    delay: float = 0.0,
) -> Reply:
    """An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`."""
    default_type, default_code = _ERROR_TYPES.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    body = _error_body(
        message if message is not None else HTTPStatus(status).phrase,
        type or default_type,
        param,
        code or default_code,
    )
    return Reply(status=status, body=body, headers=dict(headers or {}), delay=delay)


def _error_body(
    message: str,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def rate_limited(retry_after: str | None = None, *, retry_after_ms: str | None = None) -> Reply:
    """A 429 as OpenAI sends it, optionally with `retry-after` / `retry-after-ms`."""
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    return error(
        429,
        "Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, "
        "Requested 1. Please try again in 20s.",
        headers=headers,
    )


def malformed(raw: bytes = b'{"id": "chatcmpl-1", "choices": [', status: int = 200) -> Reply:
    """A reply labelled JSON whose body is not (truncated by default)."""
    return Reply(status=status, raw=raw, headers={"content-type": "application/json"})


def close_connection(delay: float = 0.0) -> Reply:
    """Read the request, then drop the socket without answering."""
    return Reply(close=True, delay=delay)


def truncated(text: str = "ok", *, sent: int = 16, status: int = 200) -> Reply:
    """A chat.completion cut short: the headers announce the whole body, `sent` bytes follow,
    then the connection is dropped (a proxy or server dying mid-reply)."""
    return Reply(status=status, text=text, truncate=sent)


def flaky(
    faults: Answer | Responder | Sequence[Answer | Responder],
    rate: float,
    *,
    ok: Responder = echo,
    seed: int = 7,
) -> Responder:
    """Answer with a fault (one of `faults`) for a `rate` share of requests, else with `ok`.

    Deterministic whatever the order requests arrive in: the draw for a request is seeded by
    `seed`, the request body and how often that same body was seen before, so each sample's nth
    attempt faults or not the same way in every run, and a retried request draws afresh.
    """
    choices: list[Answer | Responder] = (
        list(faults) if isinstance(faults, Sequence) and not isinstance(faults, str) else [faults]
    )
    if not choices:
        raise ValueError("flaky() needs at least one fault")
    seen: dict[bytes, int] = {}
    lock = threading.Lock()

    def responder(request: Request) -> Answer | Awaitable[Answer]:
        with lock:
            nth = seen.get(request.raw, 0)
            seen[request.raw] = nth + 1
        draw = random.Random(f"{seed}:{nth}:{request.raw.decode(errors='replace')}")
        if draw.random() >= rate:
            return ok(request)
        item = draw.choice(choices)
        return item(request) if callable(item) else item

    return responder


class Gate:
    """A responder that answers the first `passes` requests at once and holds the others until
    `release()`, so a test can act while a run is provably mid-way, without sleeping:

        gate = Gate(echo, passes=3)
        with OpenAIServer(gate) as server:
            ...start a run...
            gate.wait_arrived(4)      # 3 answered, the 4th is held: the run is in flight
            ...interrupt it, start another...
            gate.release()
    """

    def __init__(self, responder: Responder = echo, *, passes: int = 0) -> None:
        self.responder = responder
        self.passes = passes
        self.arrived = 0
        self._condition = threading.Condition()
        self._released = False
        self._opened: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def __call__(self, request: Request) -> Answer:
        with self._condition:
            self.arrived += 1
            number = self.arrived
            self._condition.notify_all()
            event = asyncio.Event()
            if self._released:
                event.set()
            else:
                self._opened.append((asyncio.get_running_loop(), event))
        if number > self.passes:
            await event.wait()
        answer = self.responder(request)
        return await answer if inspect.isawaitable(answer) else answer

    def release(self) -> None:
        """Answer every held request, and every later one at once."""
        with self._condition:
            self._released = True
            for loop, event in self._opened:
                loop.call_soon_threadsafe(event.set)
            self._opened.clear()

    def wait_arrived(self, count: int, timeout: float = 120) -> None:
        """Block until `count` requests have arrived (held or answered)."""
        with self._condition:
            if not self._condition.wait_for(lambda: self.arrived >= count, timeout):
                raise TimeoutError(f"{self.arrived} of {count} requests arrived")


def chat_completion(
    request: Request,
    text: str,
    *,
    finish_reason: str = "stop",
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An exact `chat.completion` object answering `request` with `text` (`n` copies if asked).

    Usage counts words; `usage` overrides parts of it (nested details are merged).
    """
    body = request.body if isinstance(request.body, dict) else {}
    choices = int(body.get("n") or 1)
    logprobs = _logprobs(text, int(body.get("top_logprobs") or 0)) if body.get("logprobs") else None
    prompt = sum(len(_content_text(m.get("content")).split()) for m in request.messages)
    completion = len(text.split()) * choices
    counted: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    for key, value in (usage or {}).items():
        if isinstance(value, dict) and isinstance(counted.get(key), dict):
            counted[key] = {**counted[key], **value}
        else:
            counted[key] = value
    return {
        "id": f"chatcmpl-{next(_ids):08d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model or "unknown",
        "choices": [
            {
                "index": index,
                "message": {
                    "role": "assistant",
                    "content": text,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": logprobs,
                "finish_reason": finish_reason,
            }
            for index in range(choices)
        ],
        "usage": counted,
        "service_tier": "default",
        "system_fingerprint": "fp_local",
    }


_ids = itertools.count(1)


def _logprobs(text: str, top: int) -> dict[str, Any]:
    def entry(token: str, logprob: float) -> dict[str, Any]:
        return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

    return {
        "content": [
            {**entry(token, -0.25), "top_logprobs": [entry(token, -0.25)][:top]}
            for token in text.split()
        ],
        "refusal": None,
    }


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


# ── the server ────────────────────────────────────────────────────────────────────────────────────


class _Dropped(Exception):
    """The peer went away, or sent something that is not HTTP/1.1."""


class ThreadedServer:
    """An asyncio server on `host:port` with its own event loop in a daemon thread.

    The lifecycle shared by the wire-protocol servers: start/stop (or use it as a context manager),
    a thread-safe request log, and a shutdown that cancels every pending handler (slow replies
    included). Subclasses implement `_serve(reader, writer)` for one connection.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    @property
    def requests(self) -> list[Request]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def start(self: S) -> S:
        if self._thread is not None:
            raise RuntimeError("server already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(
                        self._serve, self.host, self.port, backlog=4096, limit=1 << 20
                    )
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._shutdown())
                loop.close()

        name = f"{type(self).__name__}:{self.port}"
        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self: S) -> S:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        pending = asyncio.all_tasks() - {asyncio.current_task()}
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


S = TypeVar("S", bound=ThreadedServer)


class ReplyServer(ThreadedServer):
    """A `ThreadedServer` that answers each request with one `Reply` (keep-alive, delays, dropped
    connections, truncated bodies): subclasses implement `_answer` (route, auth, responder) and
    `_encode` (the wire bytes of a reply)."""

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
                encoded = self._encode(reply, request, keep_alive)
                if reply.truncate is not None:  # part of the body, then the connection drops
                    head, _, payload = encoded.partition(b"\r\n\r\n")
                    writer.write(head + b"\r\n\r\n" + payload[: reply.truncate])
                    await writer.drain()
                    break
                writer.write(encoded)
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
        raise NotImplementedError

    def _encode(self, reply: Reply, request: Request, keep_alive: bool) -> bytes:
        raise NotImplementedError


def http_response(reply: Reply, payload: bytes, headers: dict[str, str], keep_alive: bool) -> bytes:
    """The status line, `headers` (then the reply's own), Content-Length and `payload`."""
    headers = {**headers, **{k.lower(): v for k, v in reply.headers.items()}}
    headers["content-length"] = str(len(payload))
    headers["connection"] = "keep-alive" if keep_alive else "close"
    try:
        phrase = HTTPStatus(reply.status).phrase
    except ValueError:
        phrase = "Overloaded" if reply.status == 529 else "Unknown"
    head = f"HTTP/1.1 {reply.status} {phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return head.encode("latin-1") + b"\r\n" + payload


class OpenAIServer(ThreadedServer):
    """A chat-completions server on 127.0.0.1 in a background thread; use it as a context manager.

    Args:
        responder: answers each chat request (default `echo`).
        latency: seconds slept before every chat answer (for benchmarks).
        host, port: where to listen; port 0 picks a free one.
        api_key: when set, a request without `Authorization: Bearer KEY` or `api-key: KEY` gets
            OpenAI's 401.
        models: ids listed by `GET /v1/models`.
        record: keep every request in `requests` (turn off for long benchmarks).
    """

    def __init__(
        self,
        responder: Responder = echo,
        *,
        latency: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        models: Sequence[str] = ("gpt-4o-mini",),
        record: bool = True,
    ) -> None:
        super().__init__(host, port)
        self.responder = responder
        self.latency = latency
        self.api_key = api_key
        self.models = list(models)
        self.record = record
        self.in_flight = 0
        """Chat requests received and not yet answered."""
        self.max_in_flight = 0
        self.connections = 0
        """Connections accepted so far (keep-alive reuse keeps this low)."""

    # public surface

    @property
    def url(self) -> str:
        """The server root, e.g. for Azure's endpoint: `http://127.0.0.1:PORT`."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """OpenAI's base URL shape: `http://127.0.0.1:PORT/v1`."""
        return f"{self.url}/v1"

    def chat_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def reset(self) -> None:
        """Forget recorded requests and the in-flight high-water mark."""
        with self._lock:
            self._requests.clear()
            self.max_in_flight = self.in_flight

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                keep_alive = request.headers.get("connection", "").lower() != "close"
                if not await self._answer(request, writer, keep_alive):
                    break
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

    async def _answer(
        self, request: Request, writer: asyncio.StreamWriter, keep_alive: bool
    ) -> bool:
        """Send one response; False when the connection must be dropped."""
        if self.record:
            with self._lock:
                self._requests.append(request)
        if request.method == "POST" and request.path.endswith("/chat/completions"):
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                reply = await self._chat(request)
                if reply.delay > 0:
                    await asyncio.sleep(reply.delay)
            finally:
                self.in_flight -= 1
        elif request.method == "GET" and request.path.rstrip("/").endswith("/models"):
            reply = Reply(body=self._model_list())
        else:
            message = f"Invalid URL ({request.method} {request.path})"
            reply = Reply(status=404, body=_error_body(message))
        if reply.close:
            return False
        encoded = _encode(reply, request, keep_alive)
        if reply.truncate is not None:
            head, _, payload = encoded.partition(b"\r\n\r\n")
            writer.write(head + b"\r\n\r\n" + payload[: reply.truncate])
            await writer.drain()
            return False
        writer.write(encoded)
        await writer.drain()
        return True

    async def _chat(self, request: Request) -> Reply:
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if self.api_key is not None and self.api_key not in (
            request.headers.get("authorization", "").removeprefix("Bearer "),
            request.headers.get("api-key"),
        ):
            return error(
                401,
                "Incorrect API key provided. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
            )
        if not isinstance(request.body, dict):
            return error(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you "
                "aren't using your HTTP library correctly.)",
            )
        answer = self.responder(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return Reply(text=answer) if isinstance(answer, str) else answer

    def _model_list(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": 1700000000, "owned_by": "system"}
                for name in self.models
            ],
        }


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    """One HTTP/1.1 request; None on a clean end of stream between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise _Dropped("truncated request head") from None
        return None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise _Dropped(f"bad request line {lines[0]!r}") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        raw = await _read_chunked(reader)
    else:
        raw = await reader.readexactly(int(headers.get("content-length") or 0))
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
    parts = urlsplit(target)
    return Request(method, parts.path, dict(parse_qsl(parts.query)), headers, body, raw)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _encode(reply: Reply, request: Request, keep_alive: bool) -> bytes:
    headers = {"content-type": "application/json"}
    if reply.raw is not None:
        payload = reply.raw
    elif reply.body is not None:
        payload = json.dumps(reply.body).encode()
    else:
        payload = json.dumps(chat_completion(request, reply.text or "")).encode()
    headers.update({k.lower(): v for k, v in reply.headers.items()})
    headers["content-length"] = str(len(payload))
    headers["connection"] = "keep-alive" if keep_alive else "close"
    headers.setdefault("x-request-id", f"req_{next(_ids):08d}")
    try:
        phrase = HTTPStatus(reply.status).phrase
    except ValueError:
        phrase = "Unknown"
    head = f"HTTP/1.1 {reply.status} {phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return head.encode("latin-1") + b"\r\n" + payload


# ── standalone ────────────────────────────────────────────────────────────────────────────────────


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.openai_server",
        description="Serve OpenAI chat completions locally; prints the base URL first.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--reply", default=None, help="fixed reply text (default: echo)")
    parser.add_argument("--api-key", default=None, help="require this key (401 otherwise)")
    parser.add_argument("--no-record", action="store_true", help="do not keep requests in memory")
    args = parser.parse_args(argv)

    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    server = OpenAIServer(
        fixed(args.reply) if args.reply is not None else echo,
        latency=args.latency,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        record=not args.no_record,
    )
    with server:
        print(server.base_url, flush=True)
        while not stopped.wait(0.5):
            pass


if __name__ == "__main__":
    main()
