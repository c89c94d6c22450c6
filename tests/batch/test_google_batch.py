"""Gemini batch mode through the real `google-genai` SDK against the local batch server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from engine.messages import ModelOutput
from engine.models import ModelHub
from tests.batch.test_batcher import FAST, ask_all, batching
from tests.support.batch_servers import GeminiBatchServer
from tests.support.gemini_server import Request, contents_text, error

MODEL = "google/gemini-2.5-flash"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiBatchServer]:
    seen: dict[str, int] = {}

    def answer(request: Request) -> Any:
        prompt = contents_text(request)[-1]
        seen[prompt] = seen.get(prompt, 0) + 1
        if prompt == "refused":
            return error(400, "Request contains an invalid argument.")
        if prompt == "busy" and seen[prompt] == 1:
            return error(503, "The model is overloaded. Please try again later.")
        return f"ok {prompt}"

    with GeminiBatchServer(answer, batch_delay=0.05) as running:
        monkeypatch.setenv("GOOGLE_API_KEY", "gk-test")
        monkeypatch.setenv("GOOGLE_BASE_URL", running.base_url)
        yield running


def test_inlined_requests_come_back_by_key(server: GeminiBatchServer) -> None:
    hub = ModelHub(FAST, batch=batching(size=3, max_size=3))
    prompts = ["a", "b", "c", "d"]
    results = anyio.run(ask_all, hub, prompts, MODEL)

    assert [r.completion for r in results if isinstance(r, ModelOutput)] == [
        f"ok {p}" for p in prompts
    ]
    assert sorted(len(batch.lines) for batch in server.batches.values()) == [1, 3]
    assert set(server.models.values()) == {"gemini-2.5-flash"}
    creates = [r for r in server.requests if r.path.endswith(":batchGenerateContent")]
    assert {r.path for r in creates} == {"/v1beta/models/gemini-2.5-flash:batchGenerateContent"}
    assert all(r.headers["x-goog-api-key"] == "gk-test" for r in creates)
    lines = [line for batch in server.batches.values() for line in batch.lines]
    assert all(line["request"]["generationConfig"]["temperature"] == 0 for line in lines)
    assert all(isinstance(r, ModelOutput) and r.usage.output_tokens == 2 for r in results)


def test_a_failed_line_fails_alone_and_an_unavailable_or_expired_one_is_resent(
    server: GeminiBatchServer,
) -> None:
    server.expire = {1}
    hub = ModelHub(FAST, batch=batching(size=4))
    refused, busy, late, later = anyio.run(
        ask_all, hub, ["refused", "busy", "late", "later"], MODEL
    )

    assert isinstance(refused, str) and "invalid argument" in refused
    assert [r.completion for r in (busy, late, later) if isinstance(r, ModelOutput)] == [
        "ok busy",
        "ok late",
        "ok later",
    ]
    _, second = server.batches.values()
    assert sorted(line["request"]["contents"][-1]["parts"][0]["text"] for line in second.lines) == [
        "busy",
        "late",
        "later",
    ]


def test_a_batch_created_while_its_create_answer_is_lost_is_found_by_display_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with GeminiBatchServer(batch_delay=0.05, drop_create={1}) as server:
        monkeypatch.setenv("GOOGLE_API_KEY", "gk-test")
        monkeypatch.setenv("GOOGLE_BASE_URL", server.base_url)
        results = anyio.run(ask_all, ModelHub(FAST, batch=batching(size=2)), ["a", "b"], MODEL)

    assert all(isinstance(r, ModelOutput) for r in results)
    (only,) = server.batches  # the retried create found batch 1 instead of making another
    assert any(r.method == "GET" and r.path == "/v1beta/batches" for r in server.requests)
    assert all(isinstance(r, ModelOutput) and r.metadata["batch"] == only for r in results)
