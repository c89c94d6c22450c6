"""The call the Stainless-generated SDKs (openai, anthropic) share: `client.post` for raw JSON.

Going through `client.post(..., cast_to=httpx2.Response)` keeps the SDK's auth, base URL, headers
and error types, and skips its per-call request transform and pydantic response models, which cost
more CPU than the HTTP exchange itself.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2

from engine.config import GenerationConfig
from engine.providers._errors import MalformedResponseError


async def post_json(
    client: Any, path: str, body: dict[str, Any], config: GenerationConfig, timeout: float | None
) -> Any:
    """POST `body` to `path` with the per-attempt timeout and `extra_headers`; the parsed reply."""
    options: dict[str, Any] = {}
    if timeout is not None:
        options["timeout"] = timeout
    if config.extra_headers:
        options["headers"] = config.extra_headers
    response = await client.post(path, body=body, cast_to=httpx2.Response, options=options)
    try:
        return json.loads(response.content)
    except ValueError:
        snippet = response.content[:200].decode("utf-8", "replace")
        raise MalformedResponseError(f"reply is not JSON: {snippet!r}") from None
