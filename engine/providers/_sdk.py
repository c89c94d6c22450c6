"""What the Stainless-generated SDKs (openai, anthropic) share: `client.post` for raw JSON, one
HTTP transport, and one error hierarchy to classify.

Going through `client.post(..., cast_to=httpx2.Response)` keeps the SDK's auth, base URL, headers
and error types, and skips its per-call request transform and pydantic response models, which cost
more CPU than the HTTP exchange itself.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import AsyncIterator, Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from engine.config import GenerationConfig
from engine.providers._api import ModelAPI
from engine.providers._errors import (
    Classified,
    ErrorKind,
    MalformedResponseError,
    StreamError,
    classify_status,
    parse_retry_after,
)

if TYPE_CHECKING:
    import ssl


def aiohttp_client(sdk: ModuleType) -> Any:
    """The SDK's own aiohttp transport (`sdk.DefaultAioHttpClient`) rather than its httpx2 default:
    httpx2's pool probes every idle connection on each request, so CPU per call grows with
    max_connections (see bench/). Its TLS context is the process's one (`tls_context`)."""
    return sdk.DefaultAioHttpClient(verify=tls_context())


def tls_context() -> ssl.SSLContext:
    """The TLS context the SDKs' transport would build (httpx2's: the system's CA store, or
    `SSL_CERT_FILE` / `SSL_CERT_DIR`), built once per process for those settings: loading the CA
    store costs ~20 ms of CPU, and a sweep, a grader beside the model or a library caller makes
    a client per model per run."""
    return _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=4)
def _tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    import httpx2

    return httpx2.create_ssl_context(trust_env=True)  # reads the variables the key names


def _options(
    config: GenerationConfig, timeout: float | None, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The SDK request options: the per-attempt timeout, the provider's `headers` and the
    config's `extra_headers` (which win)."""
    options: dict[str, Any] = {}
    if timeout is not None:
        options["timeout"] = timeout
    if headers or config.extra_headers:
        options["headers"] = {**(headers or {}), **(config.extra_headers or {})}
    return options


async def post_json(
    client: Any,
    path: str,
    body: dict[str, Any],
    config: GenerationConfig,
    timeout: float | None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """POST `body` to `path` with the per-attempt timeout and headers (`_options`); the parsed
    reply."""
    import httpx2  # the SDKs' HTTP library, imported with them, not by a plan

    options = _options(config, timeout, headers)
    response = await client.post(path, body=body, cast_to=httpx2.Response, options=options)
    try:
        return json.loads(response.content)
    except ValueError:
        snippet = response.content[:200].decode("utf-8", "replace")
        raise MalformedResponseError(f"reply is not JSON: {snippet!r}") from None


async def post_stream(
    client: Any, path: str, body: dict[str, Any], config: GenerationConfig, timeout: float | None
) -> AsyncIterator[dict[str, Any]]:
    """POST `body` and yield each server-sent event's JSON data as it arrives.

    An HTTP error status still raises the SDK's own error (it reads the body first); the
    response is closed however the caller stops.
    """
    import httpx2

    options = _options(config, timeout)
    response = await client.post(
        path, body=body, cast_to=httpx2.Response, options=options, stream=True
    )
    try:
        data: list[str] = []
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
            elif not line and data:  # a blank line ends an event
                yield _event_json("\n".join(data))
                data = []
        if data:
            yield _event_json("\n".join(data))
    finally:
        await response.aclose()


def _event_json(data: str) -> dict[str, Any]:
    try:
        event = json.loads(data)
    except ValueError:
        raise MalformedResponseError(f"stream event is not JSON: {data[:200]!r}") from None
    if not isinstance(event, dict):
        raise MalformedResponseError(f"stream event is not an object: {data[:200]!r}")
    return event


def error_message(error: Any, *, with_type: bool = False) -> str:
    """The `message` of an `{"error": {"message", "type"}}` body (both SDKs' error shape)."""
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            kind = inner.get("type") if with_type else None
            return f"{kind}: {inner['message']}" if kind else str(inner["message"])
        if isinstance(inner, str):
            return inner
    return str(getattr(error, "message", error))


def classify_sdk_error(
    sdk: Any,
    api: ModelAPI,
    error: BaseException,
    hints: Mapping[int, str],
    message: Callable[[Any], str] = error_message,
) -> Classified:
    """Classify an openai/anthropic SDK error (same hierarchy); `hints` are added by status."""
    if isinstance(error, sdk.APIStatusError):
        status = error.status_code
        kind = classify_status(status)
        reason = f"HTTP {status} from {api}: {message(error)}"
        if status in hints:
            reason += f" ({hints[status]})"
        retry_after = (
            parse_retry_after(error.response.headers) if kind is not ErrorKind.FATAL else None
        )
        return Classified(kind, reason, retry_after, status)
    if isinstance(error, sdk.APITimeoutError):
        dropped = _connection_failure(error)
        if dropped is not None:
            reason = f"connection to {api.base_url} failed: {type(dropped).__name__}: {dropped}"
            return Classified(ErrorKind.TRANSIENT, reason)
        return Classified(ErrorKind.TRANSIENT, f"request to {api} timed out")
    if isinstance(error, sdk.APIConnectionError):
        cause = error.__cause__ or error
        return Classified(ErrorKind.TRANSIENT, f"connection to {api.base_url} failed: {cause!r}")
    if isinstance(error, StreamError):
        return Classified(error.kind, f"error in the reply stream from {api}: {error}")
    if isinstance(error, MalformedResponseError):
        return Classified(ErrorKind.TRANSIENT, f"malformed reply from {api}: {error}")
    return Classified(ErrorKind.FATAL, f"{type(error).__name__}: {error}")


def _connection_failure(error: BaseException) -> BaseException | None:
    """The aiohttp error behind an `APITimeoutError` that was no timeout, else None.

    The SDKs' aiohttp transport maps every `aiohttp.ClientConnectionError` (a dropped connection,
    a refused one) to httpx's `ConnectTimeout`, which the SDK reports as "Request timed out.".
    """
    cause = error.__cause__
    while cause is not None:
        if isinstance(cause, TimeoutError):  # aiohttp's timeouts are TimeoutErrors
            return None
        if type(cause).__module__.startswith("aiohttp"):
            return cause
        cause = cause.__cause__
    return None
