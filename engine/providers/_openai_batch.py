"""OpenAI's Batch API (and the compatible services that offer it): upload a JSONL file of
chat-completion requests, create a batch over it (its tag in `metadata`), poll it, read its output
and error files; a batch whose create answer was lost is found by its tag in `GET /v1/batches`.

Lines are `{custom_id, method, url, body}` with the body `OpenAIChatAPI.build_request` makes;
answers are `{custom_id, response: {status_code, body}, error}` read by `parse_chat_completion`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from engine.config import GenerationConfig
from engine.messages import ChatMessage
from engine.providers._api import BatchAdapter, BatchState, LineError, LineResult, Prepared
from engine.providers._errors import ErrorKind, MalformedResponseError, classify_status
from engine.providers._openai import OpenAIChatAPI, parse_chat_completion

__all__ = ["OpenAIBatch"]

ENDPOINT = "/v1/chat/completions"
TAG = "inspect_run_batch"
"""The metadata key holding the batch's tag (`BatchAdapter.find`)."""
_CLOCK_SKEW = 600
"""Seconds a provider's clock may lag ours when listing batches back to a create call's time."""
_RUNNING = ("validating", "in_progress", "finalizing", "cancelling")


class OpenAIBatch(BatchAdapter):
    max_requests = 50_000
    max_bytes = 190_000_000
    """The input file may hold 200 MB; the margin covers each line's envelope."""

    api: OpenAIChatAPI

    def prepare(self, messages: Sequence[ChatMessage], config: GenerationConfig) -> Prepared:
        body = self.api.build_request(messages, config)
        return Prepared.of(body)

    async def create(
        self, requests: Sequence[tuple[str, Any]], tag: str, timeout: float | None
    ) -> str:
        lines = "".join(
            json.dumps({"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body})
            + "\n"
            for custom_id, body in requests
        )
        client = self.api.client
        upload = await client.files.create(
            file=("batch.jsonl", lines.encode()), purpose="batch", timeout=timeout
        )
        batch = await client.batches.create(
            input_file_id=upload.id,
            endpoint=ENDPOINT,
            completion_window="24h",
            metadata={"created_by": "inspect-run", TAG: tag},
            timeout=timeout,
        )
        return str(batch.id)

    async def find(self, tag: str, since: float, timeout: float | None) -> str | None:
        """Newest first through `GET /v1/batches`, down to the batches older than `since`."""
        async for batch in self.api.client.batches.list(limit=100, timeout=timeout):
            if (batch.metadata or {}).get(TAG) == tag:
                return str(batch.id)
            if batch.created_at < since - _CLOCK_SKEW:
                return None
        return None

    async def status(self, batch_id: str, timeout: float | None) -> BatchState:
        batch = await self.api.client.batches.retrieve(batch_id, timeout=timeout)
        if batch.status in _RUNNING:
            return BatchState(batch.status, False)
        failure = None
        if batch.status == "failed":
            errors = batch.errors.data if batch.errors and batch.errors.data else []
            failure = "; ".join(f"{e.code}: {e.message}" for e in errors) or "failed"
        files = (batch.output_file_id, batch.error_file_id)
        return BatchState(batch.status, True, failure, files)

    async def results(
        self, batch_id: str, state: BatchState, timeout: float | None
    ) -> dict[str, LineResult]:
        results: dict[str, LineResult] = {}
        for file_id in state.handle:
            if not file_id:
                continue
            content = await self.api.client.files.content(file_id, timeout=timeout)
            for line in content.content.decode().splitlines():
                if line.strip():
                    record = json.loads(line)
                    results[str(record["custom_id"])] = self._line(record)
        return results

    def _line(self, record: dict[str, Any]) -> LineResult:
        response = record.get("response")
        if isinstance(response, dict):
            status = int(response.get("status_code") or 0)
            body = response.get("body")
            if status == 200:
                try:
                    return parse_chat_completion(self.api.model_name, body)
                except MalformedResponseError as malformed:
                    return LineError(f"malformed reply from {self.api}: {malformed}", retry=True)
            message = _error_message(body) or _error_message(record)
            kind = classify_status(status)
            return LineError(
                f"HTTP {status} from {self.api}: {message}", kind is not ErrorKind.FATAL
            )
        error = record.get("error") or {}
        code = error.get("code") if isinstance(error, dict) else None
        message = _error_message(record) or "no response"
        return LineError(f"{code or 'error'} from {self.api}: {message}", code == "batch_expired")


def _error_message(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return None
