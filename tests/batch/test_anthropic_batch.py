"""Anthropic's Message Batches through the real `anthropic` SDK against the local batch server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from engine.config import ConnectionConfig
from engine.messages import ModelOutput
from engine.models import ModelHub
from tests.batch.test_batcher import FAST, ask_all, batching
from tests.support.anthropic_server import Request, error, overloaded
from tests.support.batch_servers import AnthropicBatchServer

MODEL = "anthropic/claude-3-5-haiku-latest"


@pytest.fixture
def seen() -> dict[str, int]:
    return {}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, seen: dict[str, int]) -> Iterator[AnthropicBatchServer]:
    def answer(request: Request) -> Any:
        prompt = request.messages[-1]["content"]
        seen[prompt] = seen.get(prompt, 0) + 1
        if prompt == "refused":
            return error(400, "messages.0.content: too long")
        if prompt == "busy" and seen[prompt] == 1:
            return overloaded()
        return f"ok {prompt}"

    with AnthropicBatchServer(answer, batch_delay=0.05, expire={1}) as running:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", running.base_url)
        yield running


def test_message_batches_answer_each_request_by_custom_id(
    server: AnthropicBatchServer, seen: dict[str, int]
) -> None:
    server.expire.clear()
    hub = ModelHub(FAST, batch=batching(size=3, max_size=3))
    prompts = ["a", "b", "c", "d"]
    results = anyio.run(ask_all, hub, prompts, MODEL)

    assert [r.completion for r in results if isinstance(r, ModelOutput)] == [
        f"ok {p}" for p in prompts
    ]
    assert sorted(len(batch.lines) for batch in server.batches.values()) == [1, 3]
    creates = [r for r in server.requests if r.path == "/v1/messages/batches"]
    assert all(
        r.headers["authorization"] == "Bearer sk-ant-test" and r.headers["anthropic-version"]
        for r in creates
    )
    params = [line["params"] for batch in server.batches.values() for line in batch.lines]
    assert {p["model"] for p in params} == {"claude-3-5-haiku-latest"}
    assert all(p["temperature"] == 0 and p["max_tokens"] for p in params)
    assert all(isinstance(r, ModelOutput) and r.usage.output_tokens == 2 for r in results)


def test_errored_expired_and_overloaded_lines(server: AnthropicBatchServer) -> None:
    hub = ModelHub(FAST, batch=batching(size=4))
    refused, busy, late, later = anyio.run(
        ask_all, hub, ["refused", "busy", "late", "later"], MODEL
    )

    # Batch 1 expires after answering its first half: `refused` for good, `busy` overloaded.
    assert isinstance(refused, str) and "invalid_request_error" in refused and "too long" in refused
    assert isinstance(busy, ModelOutput) and busy.completion == "ok busy"
    assert isinstance(late, ModelOutput) and isinstance(later, ModelOutput)
    _, second = server.batches.values()
    resent = sorted(line["params"]["messages"][-1]["content"] for line in second.lines)
    assert resent == ["busy", "late", "later"]
    assert late.metadata is not None and late.metadata["batch"] == second.id


def test_a_connection_budget_that_runs_out_fails_the_requests_not_the_run(
    server: AnthropicBatchServer,
) -> None:
    server.stop()  # nobody answers: creating the batch fails after the pool's retries
    hub = ModelHub(ConnectionConfig(max_retries=1, backoff_base=0.01), batch=batching(size=2))
    results = anyio.run(ask_all, hub, ["a", "b"], MODEL)
    assert all(isinstance(r, str) and r.startswith("batch not created") for r in results)
