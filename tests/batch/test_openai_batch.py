"""OpenAI's Batch API through the real `openai` SDK against the local batch server: the wire
(file upload, lines, batch object), cancelled and failed batches, compatible services."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from engine.config import GenerationConfig
from engine.messages import ModelOutput
from engine.models import ModelHub
from tests.batch.test_batcher import FAST, ask_all, batching
from tests.support.batch_servers import OpenAIBatchServer


def test_requests_go_in_batches_by_size_and_each_gets_its_own_line(
    serve: Callable[..., OpenAIBatchServer],
) -> None:
    server = serve(batch_delay=0.1)
    hub = ModelHub(FAST, batch=batching(size=3, max_size=3))
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
    assert len(uploads) == 3 and all(
        r.headers["authorization"] == "Bearer sk-test" for r in uploads
    )


def test_a_compatible_service_with_the_batch_endpoints_opts_in_from_the_table(
    serve: Callable[..., OpenAIBatchServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(batch_delay=0.05)
    monkeypatch.setenv("GROQ_API_KEY", "gsk-test")
    monkeypatch.setenv("GROQ_BASE_URL", server.base_url)
    monkeypatch.setenv("TOGETHER_API_KEY", "tk-test")  # Together's batch API is its own
    hub = ModelHub(FAST, batch=batching(size=2))
    results = anyio.run(ask_all, hub, ["a", "b"], "groq/llama-3.3-70b-versatile")
    assert [r.completion for r in results if isinstance(r, ModelOutput)] == ["a", "b"]
    (batch,) = server.batches.values()
    assert {line["body"]["model"] for line in batch.lines} == {"llama-3.3-70b-versatile"}
    assert not hub.notes
    assert ModelHub(FAST, batch=batching()).get("together/m", GenerationConfig()).batcher is None


def test_a_cancelled_batch_hands_back_what_it_answered_and_fails_the_rest(
    serve: Callable[..., OpenAIBatchServer],
) -> None:
    server = serve(batch_delay=0.05, cancel={1})
    hub = ModelHub(FAST, batch=batching(size=4))
    results = anyio.run(ask_all, hub, ["a", "b", "c", "d"])

    assert [r.completion for r in results[:2] if isinstance(r, ModelOutput)] == ["a", "b"]
    assert all(isinstance(r, str) and "batch_cancelled" in r for r in results[2:])
    assert len(server.batches) == 1  # someone cancelled it: nothing is resent


def test_a_batch_that_fails_validation_fails_its_requests_with_the_reason(
    serve: Callable[..., OpenAIBatchServer],
) -> None:
    serve(batch_delay=0.05, fail={1})
    hub = ModelHub(FAST, batch=batching(size=2))
    results = anyio.run(ask_all, hub, ["a", "b"])
    assert all(
        isinstance(r, str) and "failed: invalid_request: the batch was refused" in r
        for r in results
    )
