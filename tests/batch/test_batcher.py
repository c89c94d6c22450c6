"""The batcher, driven through OpenAI's Batch API (the real SDK, the local batch server):
batches by count, bytes and `send_delay`, `max_batches`, per-line failures, retries, expiry."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.batch import BatchJournal, running_batchers
from engine.config import BatchConfig, ConnectionConfig, GenerationConfig
from engine.messages import ModelOutput, user
from engine.models import ModelHub
from engine.providers import GenerateError, sample_key
from tests.support.batch_servers import OpenAIBatchServer, ServedBatch
from tests.support.openai_server import Request, error

FAST = ConnectionConfig(max_retries=2, backoff_base=0.01, backoff_max=0.05)


def batching(**settings: float) -> BatchConfig:
    return BatchConfig(enabled=True, **{"send_delay": 0.1, "tick": 0.05, **settings})  # type: ignore[arg-type]


async def ask_all(
    hub: ModelHub,
    prompts: list[str],
    name: str = "openai/gpt-4o-mini",
    journal: BatchJournal | None = None,
) -> list[ModelOutput | str]:
    """Ask each prompt as its own sample, concurrently, in batch mode; outputs or failures."""
    model = hub.get(name, GenerationConfig(temperature=0))
    results: list[ModelOutput | str] = [""] * len(prompts)

    async def ask(index: int) -> None:
        sample_key.set(str(index))
        try:
            results[index] = await model.generate([user(prompts[index])])
        except GenerateError as failure:
            results[index] = failure.reason

    batchers = [model.batcher] if model.batcher is not None else []
    async with (
        running_batchers(batchers, journal or BatchJournal(None)),
        anyio.create_task_group() as group,
    ):
        for index in range(len(prompts)):
            group.start_soon(ask, index)
    await hub.aclose()
    return results


def test_a_partial_batch_waits_send_delay_then_goes_as_one(
    serve: Callable[..., OpenAIBatchServer],
) -> None:
    server = serve(batch_delay=0.05)
    hub = ModelHub(FAST, batch=batching(size=100, send_delay=0.2))
    results = anyio.run(ask_all, hub, [f"q{n}" for n in range(5)])
    assert all(isinstance(r, ModelOutput) for r in results)
    assert [len(b.lines) for b in server.batches.values()] == [5]


def test_a_failed_line_fails_only_its_request_and_a_transient_one_is_sent_again(
    serve: Callable[..., OpenAIBatchServer],
) -> None:
    seen: dict[str, int] = {}

    def answer(request: Request) -> Any:
        prompt = request.messages[-1]["content"]
        seen[prompt] = seen.get(prompt, 0) + 1
        if prompt == "refused":
            return error(400, "this prompt is not allowed")
        if prompt == "flaky" and seen[prompt] == 1:
            return error(500, "The server had an error processing your request.")
        return f"ok {prompt}"

    server = serve(answer, batch_delay=0.05)
    hub = ModelHub(FAST, batch=batching(size=3))
    refused, flaky, fine = anyio.run(ask_all, hub, ["refused", "flaky", "fine"])

    assert isinstance(refused, str) and "HTTP 400" in refused and "not allowed" in refused
    assert isinstance(flaky, ModelOutput) and flaky.completion == "ok flaky"
    assert isinstance(fine, ModelOutput) and fine.completion == "ok fine"
    first, second = server.batches.values()
    assert len(first.lines) == 3
    assert [line["body"]["messages"][-1]["content"] for line in second.lines] == ["flaky"]
    assert flaky.metadata and flaky.metadata["batch"] == second.id


def test_an_expired_batch_hands_back_what_it_answered_and_resends_the_rest(
    serve: Callable[..., OpenAIBatchServer],
) -> None:
    server = serve(batch_delay=0.05, expire={1})
    hub = ModelHub(FAST, batch=batching(size=4))
    prompts = ["a", "b", "c", "d"]
    results = anyio.run(ask_all, hub, prompts)

    assert [r.completion for r in results if isinstance(r, ModelOutput)] == prompts
    expired, rerun = server.batches.values()
    assert expired.results is not None and len(expired.results["error"]) == 2
    assert sorted(line["custom_id"] for line in rerun.lines) == sorted(
        line["custom_id"] for line in expired.results["error"]
    )


def test_at_most_max_batches_are_in_flight(serve: Callable[..., OpenAIBatchServer]) -> None:
    server = serve(batch_delay=0.05)
    hub = ModelHub(FAST, batch=batching(size=2, max_size=2, max_batches=1))
    results = anyio.run(ask_all, hub, [f"q{n}" for n in range(6)])

    assert all(isinstance(r, ModelOutput) for r in results)
    kinds = [kind for kind, _ in server.events]
    assert kinds == ["created", "ended"] * 3  # each batch created only after the last ended


def test_a_batch_closes_at_the_providers_byte_limit(
    serve: Callable[..., OpenAIBatchServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.providers._openai_batch import OpenAIBatch

    server = serve(batch_delay=0.05)
    monkeypatch.setattr(OpenAIBatch, "max_bytes", 400)  # a small provider, to keep the test small
    hub = ModelHub(FAST, batch=batching(size=100, send_delay=0.3))
    prompts = ["x" * 100 + str(n) for n in range(6)]  # about 150 bytes each
    results = anyio.run(ask_all, hub, prompts)

    assert [r.completion for r in results if isinstance(r, ModelOutput)] == prompts
    # Not by count (size 100): two batches full by bytes at once, the rest after send_delay.
    assert [len(batch.lines) for batch in server.batches.values()] == [2, 2, 2]


def test_a_batch_the_provider_no_longer_has_is_abandoned_and_its_requests_sent_again(
    serve: Callable[..., OpenAIBatchServer], tmp_path: Path
) -> None:
    journal = BatchJournal(tmp_path / "run.batches.jsonl")
    first = serve(batch_delay=0.05)
    anyio.run(ask_all, ModelHub(FAST, batch=batching(size=2)), ["a", "b"], "openai/m", journal)
    (gone,) = first.batches

    other = serve(batch_delay=0.05)  # another server: it never heard of that batch (404)
    hub = ModelHub(FAST, batch=batching(size=2))
    results = anyio.run(ask_all, hub, ["a", "b"], "openai/m", journal)

    assert [r.completion for r in results if isinstance(r, ModelOutput)] == ["a", "b"]
    assert any(r.path == f"/v1/batches/{gone}" for r in other.requests)  # it tried to re-attach
    assert len(other.batches) == 1
    # Journaled as abandoned: a later resume re-attaches only to the batch sent in its place.
    assert [batch.batch_id for batch in journal.reattachable(())] == list(other.batches)


def test_a_batch_waiting_for_a_slot_grows_up_to_max_size(
    serve: Callable[..., OpenAIBatchServer],
) -> None:
    server = serve(batch_delay=0.05)
    hub = ModelHub(FAST, batch=batching(size=2, max_size=4, max_batches=1))
    results = anyio.run(ask_all, hub, [f"q{n}" for n in range(6)])
    assert all(isinstance(r, ModelOutput) for r in results)
    assert [len(batch.lines) for batch in server.batches.values()] == [4, 2]


def test_a_resumed_request_in_two_journaled_batches_waits_for_the_later_one(
    serve: Callable[..., OpenAIBatchServer], tmp_path: Path
) -> None:
    # Run 1: batch 1 expires with "b" unanswered, "b" goes again (and is answered) in batch 2.
    journal = BatchJournal(tmp_path / "run.batches.jsonl")
    server = serve(batch_delay=0.05, expire={1})
    anyio.run(ask_all, ModelHub(FAST, batch=batching(size=2)), ["a", "b"], "openai/m", journal)
    expired, answered = server.batches

    # Resumed with nothing scored: both batches hold "b"; the expired one answers its poll first
    # and must not resend "b" (nor fail it): "b" waits for the later batch.
    reply = server._batch_reply
    expired_answered = asyncio.Event()

    async def later_batch_answers_last(batch: ServedBatch) -> Any:
        if batch.id == answered:  # a gate, not a pace: the expired batch answers first
            await asyncio.wait_for(expired_answered.wait(), timeout=60)
        answer = await reply(batch)
        if batch.id == expired:
            expired_answered.set()
        return answer

    server._batch_reply = later_batch_answers_last  # type: ignore[method-assign]
    hub = ModelHub(FAST, batch=batching(size=2))
    results = anyio.run(ask_all, hub, ["a", "b"], "openai/m", journal)

    assert [r.completion for r in results if isinstance(r, ModelOutput)] == ["a", "b"]
    assert list(server.batches) == [expired, answered]  # nothing paid for twice
    b = results[1]
    assert isinstance(b, ModelOutput) and b.metadata and b.metadata["batch"] == answered


def test_a_batch_created_while_its_create_answer_is_lost_is_found_not_paid_twice(
    serve: Callable[..., OpenAIBatchServer],
) -> None:
    # The server creates batch 1 and drops the connection: the retried create finds it by tag.
    server = serve(batch_delay=0.05, drop_create={1})
    hub = ModelHub(FAST, batch=batching(size=2))
    results = anyio.run(ask_all, hub, ["a", "b"])

    assert [r.completion for r in results if isinstance(r, ModelOutput)] == ["a", "b"]
    (only,) = server.batches
    assert any(r.method == "GET" and r.path == "/v1/batches" for r in server.requests)
    assert all(isinstance(r, ModelOutput) and r.metadata["batch"] == only for r in results)


def test_a_resumed_run_adopts_the_batch_its_interrupted_create_made(
    serve: Callable[..., OpenAIBatchServer], tmp_path: Path
) -> None:
    # Run 1 never sees batch 1's id (the create's answer is lost and it does not retry): as if
    # killed mid-create. Its journal holds only the `creating` line.
    journal = BatchJournal(tmp_path / "run.batches.jsonl")
    server = serve(batch_delay=0.05, drop_create={1})
    once = ConnectionConfig(max_retries=0)
    failed = anyio.run(
        ask_all, ModelHub(once, batch=batching(size=2)), ["a", "b"], "openai/m", journal
    )
    assert all(isinstance(r, str) and "batch not created" in r for r in failed)
    (made,) = server.batches
    assert journal.reattachable(()) == []

    hub = ModelHub(FAST, batch=batching(size=2))
    results = anyio.run(ask_all, hub, ["a", "b"], "openai/m", journal)

    assert [r.completion for r in results if isinstance(r, ModelOutput)] == ["a", "b"]
    assert list(server.batches) == [made]  # adopted, not created again
    assert [batch.batch_id for batch in journal.reattachable(())] == [made]
    assert journal.unconfirmed(()) == []


def test_a_resumed_run_resends_what_an_unfinished_create_never_made(
    serve: Callable[..., OpenAIBatchServer], tmp_path: Path
) -> None:
    journal = BatchJournal(tmp_path / "run.batches.jsonl")
    journal.creating("openai/m#x", "inspect-run-lost", 0.0, ["c1"], [("0", 0)])  # another key
    server = serve(batch_delay=0.05)
    hub = ModelHub(FAST, batch=batching(size=2))
    model = hub.get("openai/m", GenerationConfig(temperature=0))
    assert model.batcher is not None
    key = model.batcher.key
    journal.creating(key, "inspect-run-never-made", 0.0, ["c2"], [("1", 0)])
    results = anyio.run(ask_all, hub, ["a", "b"], "openai/m", journal)

    assert [r.completion for r in results if isinstance(r, ModelOutput)] == ["a", "b"]
    assert len(server.batches) == 1
    # Looked up once and journaled as not created; the other model's line is left for it.
    assert [u.tag for u in journal.unconfirmed(())] == ["inspect-run-lost"]


def test_a_batch_goes_once_the_providers_request_limit_is_queued(
    serve: Callable[..., OpenAIBatchServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.providers._openai_batch import OpenAIBatch

    server = serve(batch_delay=0.05)
    monkeypatch.setattr(OpenAIBatch, "max_requests", 2)  # a small provider limit, below size
    # send_delay is an hour: the batches can only go because they are full at the provider's limit.
    hub = ModelHub(FAST, batch=batching(size=100, send_delay=3600))

    async def bounded() -> list[ModelOutput | str]:
        with anyio.fail_after(20):  # a hang guard, not a timing check
            return await ask_all(hub, ["a", "b", "c", "d"])

    results = anyio.run(bounded)
    assert [r.completion for r in results if isinstance(r, ModelOutput)] == ["a", "b", "c", "d"]
    assert [len(batch.lines) for batch in server.batches.values()] == [2, 2]
