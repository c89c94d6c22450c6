"""Anthropic's Message Batches: `POST /v1/messages/batches` with `{requests: [{custom_id,
params}]}`, poll `GET /v1/messages/batches/{id}` until `processing_status` is `ended`, then read
the JSONL at its `results_url` (`result.type`: succeeded, errored, canceled, expired).

Params are the body `AnthropicAPI.build_request` makes; answers are read by `parse_message`. Raw
JSON through the SDK's client, as the provider itself does (auth, version header, error types).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from engine.config import GenerationConfig
from engine.messages import ChatMessage
from engine.providers._anthropic import AnthropicAPI, parse_message
from engine.providers._api import BatchAdapter, BatchState, LineError, LineResult, Prepared
from engine.providers._errors import MalformedResponseError

__all__ = ["AnthropicBatch"]

_RETRIED = ("api_error", "overloaded_error", "rate_limit_error", "timeout_error")
"""Errored lines worth another batch; the rest (invalid requests, …) fail for good."""


class AnthropicBatch(BatchAdapter):
    max_requests = 100_000
    max_bytes = 250_000_000
    """A batch may be 256 MB."""

    api: AnthropicAPI

    def prepare(self, messages: Sequence[ChatMessage], config: GenerationConfig) -> Prepared:
        body = self.api.build_request(messages, config)
        return Prepared.of(body)

    async def create(
        self, requests: Sequence[tuple[str, Any]], tag: str, timeout: float | None
    ) -> str:
        # Message Batches carry no metadata, so the tag is not sent and `find` cannot look a
        # batch up: a create whose answer was lost (dropped, or the run killed) is paid twice.
        body = {"requests": [{"custom_id": cid, "params": params} for cid, params in requests]}
        batch = await self._call("post", "/v1/messages/batches", timeout, body)
        return str(batch["id"])

    async def status(self, batch_id: str, timeout: float | None) -> BatchState:
        batch = await self._call("get", f"/v1/messages/batches/{batch_id}", timeout)
        status = str(batch.get("processing_status"))
        if status != "ended":
            return BatchState(status, False)
        url = batch.get("results_url")
        if not url:
            raise MalformedResponseError(f"ended batch {batch_id} without a results_url")
        return BatchState(status, True, None, url)

    async def results(
        self, batch_id: str, state: BatchState, timeout: float | None
    ) -> dict[str, LineResult]:
        content = await self._raw("get", str(state.handle), timeout)
        results: dict[str, LineResult] = {}
        for line in content.decode().splitlines():
            if line.strip():
                record = json.loads(line)
                results[str(record["custom_id"])] = self._line(record.get("result") or {})
        return results

    def _line(self, result: dict[str, Any]) -> LineResult:
        kind = result.get("type")
        if kind == "succeeded":
            try:
                return parse_message(self.api.model_name, result.get("message"))
            except MalformedResponseError as malformed:
                return LineError(f"malformed reply from {self.api}: {malformed}", retry=True)
        if kind == "errored":
            error = (result.get("error") or {}).get("error") or {}
            error_type = str(error.get("type") or "error")
            message = f"{error_type} from {self.api}: {error.get('message') or 'errored'}"
            return LineError(message, error_type in _RETRIED)
        # Expired lines go again; canceled ones were someone's decision, so they fail.
        return LineError(f"request {kind} in a batch at {self.api}", kind == "expired")

    async def _call(
        self, method: str, path: str, timeout: float | None, body: Any = None
    ) -> dict[str, Any]:
        content = await self._raw(method, path, timeout, body)
        try:
            data = json.loads(content)
        except ValueError:
            raise MalformedResponseError(f"reply is not JSON: {content[:200]!r}") from None
        if not isinstance(data, dict):
            raise MalformedResponseError(f"reply is not an object: {content[:200]!r}")
        return data

    async def _raw(self, method: str, path: str, timeout: float | None, body: Any = None) -> bytes:
        import httpx2

        options: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        client = self.api.client
        if method == "post":
            response = await client.post(path, body=body, cast_to=httpx2.Response, options=options)
        else:
            response = await client.get(path, cast_to=httpx2.Response, options=options)
        return bytes(response.content)
