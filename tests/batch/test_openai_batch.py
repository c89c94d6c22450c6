"""OpenAI's Batch API through the real `openai` SDK against the local batch server."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from engine.batch import BatchJournal, running_batchers
from engine.config import BatchConfig, ConnectionConfig, GenerationConfig
from engine.providers import GenerateError, ModelHub, ModelOutput, sample_key, user
from tests.support.batch_servers import OpenAIBatchServer
from tests.support.openai_server import Request, echo, error

FAST = ConnectionConfig(max_retries=2, backoff_base=0.01, backoff_max=0.05)


def batching(**settings: float) -> BatchConfig:
    return BatchConfig(enabled=True, **{"send_delay": 0.1, "tick": 0.05, **settings})  # type: ignore[arg-type]


def serve(monkeypatch: pytest.MonkeyPatch, server: OpenAIBatchServer) -> OpenAIBatchServer:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    return server


async def ask_all(
    hub: ModelHub, prompts: list[str], journal: BatchJournal | None = None
) -> list[ModelOutput | str]:
    model = hub.get("openai/gpt-4o-mini", GenerationConfig(temperature=0))
    results: list[ModelOutput | str] = [""] * len(prompts)

    async def ask(index: int) -> None:
        sample_key.set(str(index))
        try:
            results[index] = await model.generate([user(prompts[index])])
        except GenerateError as failure:
            results[index] = failure.reason

    batchers = [model.batcher] if model.batcher is not None else []
    async with running_batchers(batchers, journal or BatchJournal(None)):
        async with anyio.create_task_group() as group:
            for index in range(len(prompts)):
                group.start_soon(ask, index)
    await hub.aclose()
    return results


def test_requests_go_in_batches_by_size_and_each_gets_its_own_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with serve(monkeypatch, OpenAIBatchServer(echo, batch_delay=0.1)) as server:
        hub = ModelHub(FAST, batch=batching(size=3))
        prompts = [f"question {n}" for n in range(7)]
        results = anyio.run(ask_all, hub, prompts)

    assert [r.completion for r in results if isinstance(r, ModelOutput)] == prompts
    assert not server.chat_requests()  # nothing went one by one
    sizes = sorted(len(batch.lines) for batch in server.batches.values())
    assert sizes == [1, 3, 3]  # two full batches, then the rest after send_delay
    for batch in server.batches.values():
        assert {line["url"] for line in batch.lines} == {"/v1/chat/completions"}
        assert {line["body"]["model"] for line in batch.lines} == {"gpt-4o-mini"}
        assert all(line["body"]["temperature"] == 0 for line in batch.lines)
    ids = {r.metadata["batch"] for r in results if isinstance(r, ModelOutput) and r.metadata}
    assert ids == set(server.batches)
    uploads = [r for r in server.requests if r.path == "/v1/files"]
    assert len(uploads) == 3 and all(r.headers["authorization"] == "Bearer sk-test" for r in uploads)
