"""Gemini batch mode through google-genai's `client.aio.batches`: inlined requests go to
`models/{model}:batchGenerateContent`, the returned `batches/{id}` is polled until its state ends
(`JOB_STATE_SUCCEEDED`, `_FAILED`, `_CANCELLED`, `_EXPIRED`) and its inlined responses are read.
Its `display_name` is the batch's tag, so a batch whose create answer was lost is found by listing.

Requests are what `GoogleAPI.build_config` makes, tagged with `metadata.key` = the custom id;
responses are read by `parse_response`. Batch mode is a `v1beta` feature of the Gemini API, so
these calls use `v1beta` whatever version the client's other calls use. The SDK's types are
imported by the calls that send (a plan with `batch=on` makes the adapter and sends nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.config import GenerationConfig
from engine.messages import ChatMessage
from engine.providers._api import BatchAdapter, BatchState, LineError, LineResult, Prepared
from engine.providers._errors import MalformedResponseError
from engine.providers._google import GoogleAPI, parse_response

__all__ = ["GoogleBatch"]

API_VERSION = "v1beta"
_ENDED = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED")
_RETRIED = (4, 8, 13, 14)
"""google.rpc codes worth another batch: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL,
UNAVAILABLE."""


class GoogleBatch(BatchAdapter):
    max_requests = 100_000
    max_bytes = 19_000_000
    """Inlined requests may total 20 MB."""

    api: GoogleAPI

    def prepare(self, messages: Sequence[ChatMessage], config: GenerationConfig) -> Prepared:
        contents, settings = self.api.build_config(messages, config, None)
        shape = {
            "contents": [c.model_dump(mode="json", exclude_none=True) for c in contents],
            "config": settings.model_dump(mode="json", exclude_none=True),
        }
        return Prepared.of((contents, settings), shape)

    def _options(self, timeout: float | None) -> Any:
        from google.genai import types

        http: dict[str, Any] = {"api_version": API_VERSION}
        if timeout is not None:
            http["timeout"] = max(1, int(timeout * 1000))  # milliseconds
        return types.HttpOptions(**http)

    async def create(
        self, requests: Sequence[tuple[str, Any]], tag: str, timeout: float | None
    ) -> str:
        from google.genai import types

        inlined = [
            types.InlinedRequest(contents=contents, config=settings, metadata={"key": custom_id})
            for custom_id, (contents, settings) in requests
        ]
        job = await self.api.client.aio.batches.create(
            model=self.api.model_name,
            src=types.BatchJobSource(inlined_requests=inlined),
            config=types.CreateBatchJobConfig(
                display_name=tag, http_options=self._options(timeout)
            ),
        )
        if not job.name:
            raise MalformedResponseError("batch created without a name")
        return str(job.name)

    async def find(self, tag: str, since: float, timeout: float | None) -> str | None:
        """Through `client.aio.batches.list`, by display name (the list's order is not
        documented, so every page is read)."""
        from google.genai import types

        config = types.ListBatchJobsConfig(page_size=100, http_options=self._options(timeout))
        async for job in await self.api.client.aio.batches.list(config=config):
            if job.display_name == tag and job.name:
                return str(job.name)
        return None

    async def status(self, batch_id: str, timeout: float | None) -> BatchState:
        from google.genai import types

        job = await self.api.client.aio.batches.get(
            name=batch_id, config=types.GetBatchJobConfig(http_options=self._options(timeout))
        )
        state = str(getattr(job.state, "value", job.state))
        if state not in _ENDED:
            return BatchState(state, False)
        failure = None
        if state == "JOB_STATE_FAILED":
            failure = str(job.error.message) if job.error and job.error.message else state
        responses = job.dest.inlined_responses if job.dest is not None else None
        return BatchState(state, True, failure, responses or [])

    async def results(
        self, batch_id: str, state: BatchState, timeout: float | None
    ) -> dict[str, LineResult]:
        results: dict[str, LineResult] = {}
        for inlined in state.handle:
            key = (inlined.metadata or {}).get("key")
            if key is None:
                continue
            if inlined.error is not None:
                code = inlined.error.code
                reason = f"error {code} from {self.api}: {inlined.error.message}"
                results[str(key)] = LineError(reason, code in _RETRIED)
                continue
            try:
                results[str(key)] = parse_response(self.api.model_name, inlined.response)
            except MalformedResponseError as malformed:
                results[str(key)] = LineError(f"malformed reply from {self.api}: {malformed}", True)
        return results
