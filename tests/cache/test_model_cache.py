"""`Model.generate` with the response cache: hits send nothing and take no connection slot."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest

from engine.config import CacheConfig, ConnectionConfig, GenerationConfig
from engine.messages import ModelUsage, user
from engine.models import Model, ModelHub
from engine.providers import GenerateError, sample_epoch, sample_usage
from tests.support.openai_server import OpenAIServer, Reply, Request, error

KEY = "sk-test-cache-0123456789"
MODEL = "openai/gpt-4o-mini"
FAST = ConnectionConfig(backoff_base=0.01, backoff_max=0.05, max_retries=0, attempt_timeout=10)
ON = CacheConfig(enabled=True)


def answer(request: Request) -> str | Reply:
    """Echo the prompt with the temperature; `slow…` prompts take a second, `fail` fails."""
    prompt = request.messages[-1]["content"]
    if prompt == "fail":
        return error(400, "no")
    text = f"{prompt} @ {request.body.get('temperature')}"
    return Reply(text=text, delay=1.0) if prompt.startswith("slow") else text


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with OpenAIServer(answer) as running:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        yield running


@pytest.fixture
async def hub(server: OpenAIServer) -> AsyncIterator[ModelHub]:
    made = ModelHub(FAST, ON)
    try:
        yield made
    finally:
        await made.aclose()


def model(hub: ModelHub, **generation: object) -> Model:
    return hub.get(MODEL, GenerationConfig.model_validate(generation))


@pytest.mark.anyio
async def test_a_repeated_request_is_answered_from_the_cache(
    server: OpenAIServer, hub: ModelHub
) -> None:
    gpt = model(hub, temperature=0.0)
    first = await gpt.generate([user("Where is the ball?")])
    second = await gpt.generate([user("Where is the ball?")])

    assert len(server.chat_requests()) == 1
    assert second.completion == first.completion == "Where is the ball? @ 0.0"
    assert first.metadata == {"cache": "miss"}
    assert second.metadata == {"cache": "hit"}
    assert second.to_log()["metadata"] == {"cache": "hit"}
    assert second.usage == first.usage and second.model == first.model
    assert second.time != first.time  # a hit is timed as a lookup, not given the call's time
    assert (gpt.calls, gpt.cache_hits) == (1, 1)
    assert gpt.usage.total_tokens == 2 * first.usage.total_tokens  # a hit still costs its usage


@pytest.mark.anyio
async def test_changing_temperature_misses(server: OpenAIServer, hub: ModelHub) -> None:
    gpt = model(hub, temperature=0.0)
    await gpt.generate([user("q")])
    warmer = await gpt.generate([user("q")], GenerationConfig(temperature=0.5))
    other = await model(hub, temperature=0.5).generate([user("q")])

    assert warmer.metadata == {"cache": "miss"} and warmer.completion == "q @ 0.5"
    assert other.metadata == {"cache": "hit"} and other.completion == "q @ 0.5"
    assert len(server.chat_requests()) == 2


@pytest.mark.anyio
async def test_a_hit_takes_no_connection_slot(server: OpenAIServer) -> None:
    hub = ModelHub(FAST.model_copy(update={"max_connections": 1}), ON)
    gpt = model(hub)
    try:
        await gpt.generate([user("quick")])
        in_flight_during_hit = -1
        released = threading.Event()

        async def held(request: Request) -> str:
            """The slow question is answered only once the test lets it go."""
            while not released.is_set():
                await asyncio.sleep(0.005)
            return "slow answer"

        server.responder = held

        async def slow() -> None:
            await gpt.generate([user("slow question")])

        async with anyio.create_task_group() as group:
            group.start_soon(slow)
            while server.in_flight == 0:  # the slow request holds the only connection
                await anyio.sleep(0.005)
            hit = await gpt.generate([user("quick")])  # would wait forever if it needed the slot
            in_flight_during_hit = server.in_flight
            released.set()
    finally:
        await hub.aclose()

    assert hit.metadata == {"cache": "hit"}
    assert in_flight_during_hit == 1
    assert len(server.chat_requests()) == 2


@pytest.mark.anyio
async def test_connection_settings_and_extra_headers_do_not_split_the_cache(
    server: OpenAIServer,
) -> None:
    first = ModelHub(FAST, ON)
    await first.get(MODEL, GenerationConfig()).generate([user("q")])
    await first.aclose()
    other_connection = FAST.model_copy(update={"max_connections": 1, "timeout": 5.0})
    second = ModelHub(other_connection, ON)
    headers = GenerationConfig(extra_headers={"X-Trace": "abc", "Authorization": f"Bearer {KEY}"})
    try:
        found = await second.get(MODEL, headers).generate([user("q")])
    finally:
        await second.aclose()
    assert found.metadata == {"cache": "hit"}
    assert len(server.chat_requests()) == 1


@pytest.mark.anyio
async def test_base_url_and_model_split_the_cache(server: OpenAIServer, hub: ModelHub) -> None:
    await model(hub).generate([user("q")])
    other_model = await hub.get("openai/gpt-4o", GenerationConfig()).generate([user("q")])
    with OpenAIServer(answer) as elsewhere:
        moved = ModelHub(FAST, ON)
        try:
            on_other_url = moved.get(MODEL, GenerationConfig(), base_url=elsewhere.base_url)
            output = await on_other_url.generate([user("q")])
        finally:
            await moved.aclose()
        assert len(elsewhere.chat_requests()) == 1
    assert other_model.metadata == output.metadata == {"cache": "miss"}
    assert len(server.chat_requests()) == 2


@pytest.mark.anyio
@pytest.mark.parametrize(("per_epoch", "requests"), [(True, 2), (False, 1)])
async def test_epochs_get_their_own_answer_when_per_epoch(
    server: OpenAIServer, per_epoch: bool, requests: int
) -> None:
    hub = ModelHub(FAST, CacheConfig(enabled=True, per_epoch=per_epoch))
    gpt = model(hub)
    try:
        for epoch in (1, 2, 2):
            token = sample_epoch.set(epoch)
            try:
                await gpt.generate([user("q")])
            finally:
                sample_epoch.reset(token)
    finally:
        await hub.aclose()
    assert len(server.chat_requests()) == requests


@pytest.mark.anyio
async def test_scopes_split_the_cache(server: OpenAIServer) -> None:
    for scopes in (
        {},
        {"prompt_version": "v3"},
        {"prompt_version": "v3"},
        {"prompt_version": "v4"},
    ):
        hub = ModelHub(FAST, CacheConfig(enabled=True, scopes=scopes))
        try:
            await model(hub).generate([user("q")])
        finally:
            await hub.aclose()
    assert len(server.chat_requests()) == 3


@pytest.mark.anyio
async def test_a_hit_counts_in_the_samples_usage(server: OpenAIServer, hub: ModelHub) -> None:
    gpt = model(hub)
    first = await gpt.generate([user("how many words")])
    usage: dict[str, ModelUsage] = {}
    token = sample_usage.set(usage)
    try:
        await gpt.generate([user("how many words")])
    finally:
        sample_usage.reset(token)
    assert usage == {MODEL: first.usage}


@pytest.mark.anyio
async def test_failures_are_not_cached(server: OpenAIServer, hub: ModelHub) -> None:
    gpt = model(hub)
    for _ in range(2):
        with pytest.raises(GenerateError):
            await gpt.generate([user("fail")])
    assert len(server.chat_requests()) == 2
    assert gpt.cache_hits == 0


@pytest.mark.anyio
async def test_expired_answers_are_asked_again(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = ModelHub(FAST, CacheConfig(enabled=True, expiry="30m"))
    gpt = model(hub)
    try:
        await gpt.generate([user("q")])
        real_time = time.time
        monkeypatch.setattr(time, "time", lambda: real_time() + 31 * 60)
        again = await gpt.generate([user("q")])
    finally:
        await hub.aclose()
    assert again.metadata == {"cache": "miss"}
    assert len(server.chat_requests()) == 2


@pytest.mark.anyio
async def test_the_cache_survives_the_hub(server: OpenAIServer, cache_dir: Path) -> None:
    for _ in range(2):
        hub = ModelHub(FAST, ON)
        try:
            output = await model(hub).generate([user("q")])
        finally:
            await hub.aclose()
        assert hub.response_cache is not None and hub.response_cache._store is None  # closed
    assert output.metadata == {"cache": "hit"}
    assert len(server.chat_requests()) == 1
    assert [p.name for p in cache_dir.iterdir()] == ["responses.sqlite"]  # WAL checkpointed


@pytest.mark.anyio
@pytest.mark.parametrize("cache", [None, CacheConfig(), CacheConfig(enabled=False, expiry="1D")])
async def test_off_means_no_cache_at_all(
    server: OpenAIServer, cache_dir: Path, cache: CacheConfig | None
) -> None:
    hub = ModelHub(FAST, cache)
    gpt = model(hub)
    try:
        outputs = [await gpt.generate([user("q")]) for _ in range(2)]
    finally:
        await hub.aclose()
    assert hub.response_cache is None and gpt.cache is None
    assert all(output.metadata is None for output in outputs)
    assert "metadata" not in outputs[0].to_log()
    assert len(server.chat_requests()) == 2
    assert not cache_dir.exists()


@pytest.mark.anyio
async def test_the_store_opens_on_first_use(server: OpenAIServer, cache_dir: Path) -> None:
    hub = ModelHub(FAST, ON)
    model(hub)
    assert not cache_dir.exists()
    await hub.aclose()


@pytest.mark.anyio
async def test_an_unusable_cache_is_skipped_with_one_warning(
    server: OpenAIServer, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    cache_dir.write_text("a file where the folder should be")
    hub = ModelHub(FAST, ON)
    try:
        first = await model(hub).generate([user("q")])
        second = await model(hub).generate([user("q")])
    finally:
        await hub.aclose()
    assert first.completion == second.completion == "q @ None"
    assert len(server.chat_requests()) == 2  # no cache: both sent
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "goes on without the cache" in err
