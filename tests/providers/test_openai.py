"""The OpenAI provider end to end: the real `openai` SDK over real HTTP to a local server.

We assert on what the SDK sent (path, headers, body) and on how replies, errors and retries are
read back, through `ModelHub` as the runner uses it. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.config import ConnectionConfig, GenerationConfig, ResponseSchema
from engine.messages import ChatMessage, ModelOutput, system, user
from engine.models import Model, ModelHub
from engine.providers import COMPATIBLE_SERVICES, GenerateError, ProviderConfigError, create_api
from tests.providers._hub import FAST, generate_once
from tests.support.openai_server import (
    Gate,
    OpenAIServer,
    Reply,
    Request,
    chat_completion,
    close_connection,
    echo,
    error,
    fixed,
    malformed,
    rate_limited,
    sequence,
)

KEY = "sk-test-0123456789"
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    """An echo server that `openai/...` models talk to."""
    with OpenAIServer(echo) as running:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        yield running


async def generate(
    model: str = MODEL,
    generation: GenerationConfig | None = None,
    *,
    messages: Sequence[ChatMessage] = (),
    connection: ConnectionConfig = FAST,
    model_args: dict[str, Any] | None = None,
) -> tuple[ModelOutput, Model]:
    """One generate call through a fresh hub, the way the runner makes it."""
    prompt = list(messages) or [user("Say hello")]
    return await generate_once(
        model, prompt, generation, connection=connection, model_args=model_args
    )


async def generate_error(
    model: str = MODEL, *, connection: ConnectionConfig = FAST
) -> GenerateError:
    with pytest.raises(GenerateError) as caught:
        await generate(model, connection=connection)
    return caught.value


# ── what the SDK sends ────────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_sends_a_plain_chat_completion_request(server: OpenAIServer) -> None:
    output, _ = await generate(messages=[user("What is 2+2?")])

    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-stainless-retry-count"] == "0"
    assert request.body == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "What is 2+2?"}],
    }
    assert output.completion == "What is 2+2?"


FULL_GENERATION = GenerationConfig(
    temperature=0.3,
    top_p=0.9,
    top_k=40,
    max_tokens=64,
    stop_seqs=["\n\n", "END"],
    seed=7,
    frequency_penalty=0.5,
    presence_penalty=-0.25,
    logprobs=True,
    top_logprobs=3,
    num_choices=2,
    reasoning_effort="low",
    response_schema=ResponseSchema(
        name="answer",
        description="The final answer",
        json_schema={"type": "object", "properties": {"answer": {"type": "string"}}},
    ),
    extra_body={"user": "eval-42", "metadata": {"run": "r1"}},
)

_MAPPED_FIELDS = {
    "temperature": 0.3,
    "top_p": 0.9,
    "stop": ["\n\n", "END"],
    "seed": 7,
    "frequency_penalty": 0.5,
    "presence_penalty": -0.25,
    "logprobs": True,
    "top_logprobs": 3,
    "n": 2,
    "reasoning_effort": "low",
    "response_format": {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "description": "The final answer",
            "schema": {"type": "object", "properties": {"answer": {"type": "string"}}},
            "strict": True,
        },
    },
    "user": "eval-42",
    "metadata": {"run": "r1"},
}


@pytest.mark.anyio
async def test_native_openai_maps_every_generation_field(server: OpenAIServer) -> None:
    await generate(generation=FULL_GENERATION, messages=[user("hi")])

    [request] = server.requests
    assert request.body == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "max_completion_tokens": 64,  # OpenAI's name; no `top_k`, which OpenAI rejects
        **_MAPPED_FIELDS,
    }


@pytest.mark.anyio
async def test_compatible_service_sends_max_tokens_and_top_k(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VLLM_BASE_URL", server.base_url)

    await generate("vllm/Qwen/Qwen2.5-0.5B", FULL_GENERATION, messages=[user("hi")])

    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.body == {
        "model": "Qwen/Qwen2.5-0.5B",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 64,
        "top_k": 40,
        **_MAPPED_FIELDS,
    }
    assert request.headers["authorization"] == "Bearer not-needed"  # vLLM runs without a key


@pytest.mark.anyio
async def test_extra_body_overrides_mapped_fields(server: OpenAIServer) -> None:
    generation = GenerationConfig(temperature=0.3, extra_body={"temperature": 1.5, "x": [1]})

    await generate(generation=generation)

    assert server.requests[0].body["temperature"] == 1.5
    assert server.requests[0].body["x"] == [1]


@pytest.mark.anyio
async def test_extra_headers_are_sent_as_headers(server: OpenAIServer) -> None:
    generation = GenerationConfig(extra_headers={"X-Trace-Id": "abc-123", "OpenAI-Beta": "x"})

    await generate(generation=generation)

    [request] = server.requests
    assert request.headers["x-trace-id"] == "abc-123"
    assert request.headers["openai-beta"] == "x"
    assert "extra_headers" not in request.body


@pytest.mark.anyio
async def test_system_message_is_prepended(server: OpenAIServer) -> None:
    await generate(generation=GenerationConfig(system_message="Be brief."), messages=[user("hi")])

    assert server.requests[0].messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]


@pytest.mark.anyio
async def test_system_message_does_not_replace_one_in_the_conversation(
    server: OpenAIServer,
) -> None:
    messages = [system("You are a pirate."), user("hi")]

    await generate(generation=GenerationConfig(system_message="Be brief."), messages=messages)

    assert server.requests[0].messages == [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "hi"},
    ]


@pytest.mark.anyio
async def test_model_args_configure_the_sdk_client(server: OpenAIServer) -> None:
    await generate(model_args={"organization": "org-42", "default_headers": {"x-team": "evals"}})

    [request] = server.requests
    assert request.headers["openai-organization"] == "org-42"
    assert request.headers["x-team"] == "evals"


# ── what is read back ─────────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_parses_completion_usage_and_time(server: OpenAIServer) -> None:
    server.responder = fixed("The answer is four")

    output, _ = await generate(messages=[system("Be brief."), user("What is 2+2?")])

    assert output.completion == "The answer is four"
    assert output.message.role == "assistant"
    assert output.model == "gpt-4o-mini"
    assert [choice.stop_reason for choice in output.choices] == ["stop"]
    # The server counts words: 2 + 3 prompt, 4 completion.
    assert (output.usage.input_tokens, output.usage.output_tokens) == (5, 4)
    assert output.usage.total_tokens == 9
    assert output.time > 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("finish_reason", "stop_reason"),
    [
        ("stop", "stop"),
        ("length", "max_tokens"),
        ("content_filter", "content_filter"),
        ("tool_calls", "tool_calls"),
        ("something_new", "unknown"),
    ],
)
async def test_finish_reason_maps_to_stop_reason(
    server: OpenAIServer, finish_reason: str, stop_reason: str
) -> None:
    server.responder = lambda request: Reply(
        body=chat_completion(request, "cut", finish_reason=finish_reason)
    )

    output, _ = await generate()

    assert output.choices[0].stop_reason == stop_reason


@pytest.mark.anyio
async def test_reads_reasoning_and_cached_tokens(server: OpenAIServer) -> None:
    usage = {
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "total_tokens": 1500,
        "prompt_tokens_details": {"cached_tokens": 1024},
        "completion_tokens_details": {"reasoning_tokens": 256},
    }
    server.responder = lambda request: Reply(body=chat_completion(request, "42", usage=usage))

    output, _ = await generate()

    assert output.usage.input_tokens == 1200
    assert output.usage.output_tokens == 300
    assert output.usage.total_tokens == 1500
    assert output.usage.reasoning_tokens == 256
    assert output.usage.input_tokens_cache_read == 1024
    assert output.usage.to_log()["reasoning_tokens"] == 256


@pytest.mark.anyio
async def test_usage_accumulates_on_the_model(server: OpenAIServer) -> None:
    server.responder = fixed("one two three")
    hub = ModelHub(FAST)
    model = hub.get(MODEL, GenerationConfig())
    try:
        for text in ("a", "b c"):
            await model.generate([user(text)])
    finally:
        await hub.aclose()

    assert model.calls == 2
    assert model.usage.input_tokens == 3
    assert model.usage.output_tokens == 6
    assert model.usage.total_tokens == 9


@pytest.mark.anyio
async def test_reads_several_choices_and_logprobs(server: OpenAIServer) -> None:
    server.responder = fixed("yes indeed")
    generation = GenerationConfig(num_choices=2, logprobs=True, top_logprobs=1)

    output, _ = await generate(generation=generation)

    assert [choice.message.content for choice in output.choices] == ["yes indeed"] * 2
    logprobs = output.choices[0].logprobs
    assert logprobs is not None
    assert [entry["token"] for entry in logprobs] == ["yes", "indeed"]
    assert output.choices[0].to_log()["logprobs"]["content"] == logprobs


@pytest.mark.anyio
async def test_keeps_one_connection_alive_across_calls(server: OpenAIServer) -> None:
    hub = ModelHub(FAST)
    model = hub.get(MODEL, GenerationConfig())
    try:
        for index in range(5):
            await model.generate([user(f"call {index}")])
    finally:
        await hub.aclose()

    assert len(server.requests) == 5
    assert server.connections == 1


# ── retries: only the pool retries, and it reads the server's hints ───────────────────────────────


@pytest.mark.anyio
async def test_rate_limit_with_retry_after_zero_is_retried(server: OpenAIServer) -> None:
    server.responder = sequence([rate_limited("0"), "ok"])

    output, model = await generate()

    assert output.completion == "ok"
    assert len(server.requests) == 2
    assert model.pool.retries == 1
    assert model.pool.rate_limits == 1
    # The SDK itself did not retry: each attempt is a first try.
    assert {r.headers["x-stainless-retry-count"] for r in server.requests} == {"0"}


@pytest.mark.anyio
async def test_server_error_is_retried(server: OpenAIServer) -> None:
    server.responder = sequence([error(500, "The server had an error"), "ok"])

    output, model = await generate()

    assert output.completion == "ok"
    assert len(server.requests) == 2
    assert (model.pool.retries, model.pool.rate_limits) == (1, 0)


@pytest.mark.anyio
async def test_retry_after_ms_is_honoured(server: OpenAIServer) -> None:
    server.responder = sequence([error(503, headers={"retry-after-ms": "300"}), "ok"])

    start = time.monotonic()
    output, model = await generate()

    assert output.completion == "ok"
    assert model.pool.retries == 1
    assert time.monotonic() - start >= 0.3  # the backoff alone would be under 0.05 s


@pytest.mark.anyio
async def test_slow_answer_beyond_attempt_timeout_is_retried(server: OpenAIServer) -> None:
    # Never in time; the limit stays far above what "on time" takes on a busy machine.
    server.responder = sequence([Reply(text="too late", delay=3600), "on time"])
    connection = FAST.model_copy(update={"attempt_timeout": 2.0})

    output, model = await generate(connection=connection)

    assert output.completion == "on time"  # without the attempt timeout, "too late" would win
    assert len(server.requests) == 2
    assert model.pool.retries == 1


@pytest.mark.anyio
async def test_dropped_connection_is_retried(server: OpenAIServer) -> None:
    server.responder = sequence([close_connection(), "ok"])

    output, model = await generate()

    assert output.completion == "ok"
    assert len(server.requests) == 2
    assert model.pool.retries == 1


@pytest.mark.anyio
async def test_gives_up_after_max_retries(server: OpenAIServer) -> None:
    server.responder = lambda request: error(502, "Bad gateway upstream")
    connection = FAST.model_copy(update={"max_retries": 2})

    failure = await generate_error(connection=connection)

    assert len(server.requests) == 3
    assert failure.attempts == 3
    assert "gave up after 3 attempts" in failure.reason
    assert "HTTP 502" in failure.reason
    assert "Bad gateway upstream" in failure.reason


@pytest.mark.anyio
async def test_total_timeout_stops_retrying_rate_limits(server: OpenAIServer) -> None:
    server.responder = lambda request: rate_limited("0.1")
    connection = FAST.model_copy(update={"timeout": 0.35, "max_retries": 100})

    failure = await generate_error(connection=connection)

    assert "timeout of 0.35s reached" in failure.reason
    assert "HTTP 429" in failure.reason
    assert 1 <= len(server.requests) <= 4  # Retry-After 0.1 s fits at most 4 tries into 0.35 s


@pytest.mark.anyio
async def test_total_timeout_bounds_a_hanging_server(server: OpenAIServer) -> None:
    server.responder = lambda request: Reply(text="never", delay=10.0)
    connection = FAST.model_copy(update={"timeout": 0.4, "max_retries": 100})

    failure = await generate_error(connection=connection)

    assert "timeout of 0.4s reached" in failure.reason  # the 10 s answer was not waited for
    assert "timed out" in failure.reason
    assert len(server.requests) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "message", "hint"),
    [
        (400, "Invalid value for 'temperature': must be <= 2.", ""),
        (401, "Incorrect API key provided: sk-test-***.", "check the API key"),
        (403, "Project does not have access to model gpt-4o-mini.", "check the API key"),
        (404, "The model `gpt-4o-mini` does not exist.", "check the model name"),
    ],
)
async def test_client_errors_are_not_retried(
    server: OpenAIServer, status: int, message: str, hint: str
) -> None:
    server.responder = lambda request: error(status, message)

    failure = await generate_error()

    assert len(server.requests) == 1
    assert failure.attempts == 1
    assert f"HTTP {status}" in failure.reason
    assert message in failure.reason
    assert hint in failure.reason


@pytest.mark.anyio
async def test_wrong_key_is_a_fatal_401(monkeypatch: pytest.MonkeyPatch) -> None:
    with OpenAIServer(echo, api_key="sk-right") as strict:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
        monkeypatch.setenv("OPENAI_BASE_URL", strict.base_url)

        failure = await generate_error()

        assert len(strict.requests) == 1
    assert "HTTP 401" in failure.reason
    assert "Incorrect API key provided" in failure.reason


@pytest.mark.anyio
async def test_malformed_json_is_retried(server: OpenAIServer) -> None:
    server.responder = sequence([malformed(), "ok"])

    output, model = await generate()

    assert output.completion == "ok"
    assert len(server.requests) == 2
    assert model.pool.retries == 1


@pytest.mark.anyio
async def test_malformed_json_is_reported_when_it_persists(server: OpenAIServer) -> None:
    server.responder = lambda request: malformed(b"<html>gateway</html>")
    connection = FAST.model_copy(update={"max_retries": 1})

    failure = await generate_error(connection=connection)

    assert len(server.requests) == 2
    assert "malformed reply" in failure.reason
    assert "not JSON" in failure.reason
    assert "<html>gateway</html>" in failure.reason


@pytest.mark.anyio
async def test_json_that_is_not_a_chat_completion_is_malformed(server: OpenAIServer) -> None:
    server.responder = lambda request: Reply(body={"object": "chat.completion", "choices": [{}]})
    connection = FAST.model_copy(update={"max_retries": 0})

    failure = await generate_error(connection=connection)

    assert "malformed reply" in failure.reason
    assert "not a chat completion" in failure.reason


# ── concurrency ───────────────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_max_connections_caps_requests_in_flight_per_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each model has its own pool (Inspect's scope): `max_connections` caps each one. The server
    holds every request until both caps are full, so the peak is reached however slow the
    machine is, and never passed."""
    gate = Gate(echo)
    with OpenAIServer(gate) as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        hub = ModelHub(FAST.model_copy(update={"max_connections": 3}))
        models = [hub.get(MODEL, GenerationConfig()), hub.get("openai/gpt-4o", GenerationConfig())]
        assert models[0].pool is not models[1].pool
        outputs: list[str] = []

        async def one(index: int) -> None:
            output = await models[index % 2].generate([user(f"question {index}")])
            outputs.append(output.completion)

        try:
            async with anyio.create_task_group() as group:
                for index in range(12):
                    group.start_soon(one, index)
                await anyio.to_thread.run_sync(gate.wait_arrived, 6)  # 3 per model, all held
                assert server.max_in_flight == 6
                gate.release()
        finally:
            await hub.aclose()

        assert sorted(outputs) == sorted(f"question {index}" for index in range(12))
        assert len(server.requests) == 12
        assert server.max_in_flight == 6
        per_model = Counter(request.model for request in server.requests)
        assert per_model == {"gpt-4o-mini": 6, "gpt-4o": 6}


# ── resolving model strings to clients ────────────────────────────────────────────────────────────


def _set_service_env(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(COMPATIBLE_SERVICES[name].key_env, f"key-for-{name}")
    if name == "cloudflare":
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct123")


_WITH_DEFAULT_URL = sorted(n for n, s in COMPATIBLE_SERVICES.items() if s.default_base_url)


@pytest.mark.parametrize("name", _WITH_DEFAULT_URL)
def test_compatible_service_uses_its_default_base_url(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    _set_service_env(monkeypatch, name)
    default = COMPATIBLE_SERVICES[name].default_base_url
    assert default is not None
    expected = default.replace("{CLOUDFLARE_ACCOUNT_ID}", "acct123")

    api = create_api(f"{name}/some-model", {}, None)

    assert api.base_url == expected
    assert str(api.client.base_url).rstrip("/") == expected  # type: ignore[attr-defined]
    assert api.client.max_retries == 0  # type: ignore[attr-defined]
    assert str(api) == f"{name}/some-model"


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(COMPATIBLE_SERVICES))
async def test_compatible_service_base_url_env_override(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    _set_service_env(monkeypatch, name)
    monkeypatch.setenv(COMPATIBLE_SERVICES[name].base_url_env, server.base_url)

    output, model = await generate(
        f"{name}/org/some-model", GenerationConfig(max_tokens=5), messages=[user("ping")]
    )

    assert model.api.base_url == server.base_url
    assert output.completion == "ping"
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer key-for-{name}"
    assert request.body["model"] == "org/some-model"
    assert request.body["max_tokens"] == 5
    assert "max_completion_tokens" not in request.body


@pytest.mark.parametrize(
    ("model", "variable"),
    [
        (MODEL, "OPENAI_API_KEY"),
        ("openai/azure/my-deployment", "AZUREAI_OPENAI_BASE_URL"),
        *(
            (f"{name}/some-model", service.key_env)
            for name, service in sorted(COMPATIBLE_SERVICES.items())
            if service.key_required
        ),
    ],
)
def test_missing_key_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, model: str, variable: str
) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct123")
    with pytest.raises(ProviderConfigError, match=variable):
        create_api(model, {}, None)


@pytest.mark.parametrize(
    "name", sorted(n for n, s in COMPATIBLE_SERVICES.items() if not s.key_required)
)
def test_local_services_need_no_key(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(COMPATIBLE_SERVICES[name].base_url_env, "http://127.0.0.1:9/v1")

    api = create_api(f"{name}/some-model", {}, None)

    assert api.base_url == "http://127.0.0.1:9/v1"


@pytest.mark.anyio
async def test_generic_openai_api_service_reads_its_env(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_BASE_URL", server.base_url)
    monkeypatch.setenv("ACME_API_KEY", "acme-key")

    output, model = await generate("openai-api/acme/acme-chat-1", messages=[user("hey")])

    assert output.completion == "hey"
    assert str(model.api) == "openai-api/acme/acme-chat-1"
    [request] = server.requests
    assert request.body["model"] == "acme-chat-1"
    assert request.headers["authorization"] == "Bearer acme-key"


def test_generic_openai_api_service_needs_its_env(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProviderConfigError, match="ACME_BASE_URL"):
        create_api("openai-api/acme/acme-chat-1", {}, None)
    monkeypatch.setenv("ACME_BASE_URL", "http://127.0.0.1:9/v1")
    with pytest.raises(ProviderConfigError, match="ACME_API_KEY"):
        create_api("openai-api/acme/acme-chat-1", {}, None)
    with pytest.raises(ProviderConfigError, match="openai-api/SERVICE/MODEL"):
        create_api("openai-api/acme", {}, None)


def test_cloudflare_fills_the_account_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "cf-token")
    with pytest.raises(ProviderConfigError, match="CLOUDFLARE_ACCOUNT_ID"):
        create_api("cloudflare/@cf/meta/llama-3.1-8b-instruct", {}, None)

    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "0123abcd")
    api = create_api("cloudflare/@cf/meta/llama-3.1-8b-instruct", {}, None)

    assert api.base_url == "https://api.cloudflare.com/client/v4/accounts/0123abcd/ai/v1"
    assert api.model_name == "@cf/meta/llama-3.1-8b-instruct"


@pytest.mark.anyio
async def test_hf_inference_providers_keeps_the_routed_model_name(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_token")
    monkeypatch.setenv("HF_INFERENCE_PROVIDERS_BASE_URL", server.base_url)

    await generate("hf-inference-providers/openai/gpt-oss-120b:cerebras")

    [request] = server.requests
    assert request.body["model"] == "openai/gpt-oss-120b:cerebras"
    assert request.headers["authorization"] == "Bearer hf_token"


def test_unknown_provider_suggests_a_known_one() -> None:
    with pytest.raises(ProviderConfigError, match="did you mean 'openai'"):
        ModelHub(FAST).get("opena/gpt-4o-mini", GenerationConfig())


def test_model_string_without_a_provider_is_rejected() -> None:
    with pytest.raises(ProviderConfigError, match="provider/name"):
        create_api("gpt-4o-mini", {}, None)


def test_unknown_model_args_are_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)

    with pytest.raises(ProviderConfigError, match="organisation") as caught:
        ModelHub(FAST).get(MODEL, GenerationConfig(), model_args={"organisation": "org-1"})

    assert "did you mean 'organization'" in str(caught.value)


@pytest.mark.anyio
async def test_azure_routes_to_the_deployment(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZUREAI_OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("AZUREAI_OPENAI_API_KEY", "azure-key")

    output, model = await generate(
        "openai/azure/my-gpt-4o", GenerationConfig(max_tokens=10), messages=[user("hi azure")]
    )

    assert output.completion == "hi azure"
    assert str(model.api) == "openai/azure/my-gpt-4o"
    [request] = server.requests
    assert request.path == "/openai/deployments/my-gpt-4o/chat/completions"
    assert request.query == {"api-version": "2025-03-01-preview"}
    assert request.headers["api-key"] == "azure-key"
    assert "authorization" not in request.headers
    assert request.body["model"] == "my-gpt-4o"
    assert request.body["max_completion_tokens"] == 10


@pytest.mark.anyio
async def test_azure_api_version_from_env(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZUREAI_OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("AZUREAI_OPENAI_API_KEY", "azure-key")
    monkeypatch.setenv("AZUREAI_OPENAI_API_VERSION", "2024-10-21")

    await generate("openai/azure/my-gpt-4o")

    assert server.requests[0].query == {"api-version": "2024-10-21"}


def test_azure_needs_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZUREAI_OPENAI_BASE_URL", "http://127.0.0.1:9")

    with pytest.raises(ProviderConfigError, match="AZUREAI_OPENAI_API_KEY"):
        create_api("openai/azure/my-gpt-4o", {}, None)


# ── the test server itself ────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_server_lists_models_and_answers_unknown_routes_like_openai(
    server: OpenAIServer,
) -> None:
    import openai

    client = openai.AsyncOpenAI(api_key=KEY, base_url=server.base_url, max_retries=0)
    try:
        models = await client.models.list()
        with pytest.raises(openai.NotFoundError) as caught:
            await client.post("/nowhere", cast_to=object, body={})
    finally:
        await client.close()

    assert [model.id for model in models.data] == ["gpt-4o-mini"]
    assert caught.value.body == {
        "message": "Invalid URL (POST /v1/nowhere)",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", "/v1/models"),
        ("POST", "/v1/nowhere"),
    ]


def test_server_script_runs_standalone() -> None:
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.openai_server", "--port", "0", "--reply", "A"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/v1")

        async def ask() -> str:
            import openai

            client = openai.AsyncOpenAI(api_key=KEY, base_url=base_url, max_retries=0)
            try:
                response = await client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
                )
            finally:
                await client.close()
            assert response.object == "chat.completion"
            assert response.usage is not None
            assert response.usage.total_tokens == 2
            return response.choices[0].message.content or ""

        assert anyio.run(ask) == "A"
    finally:
        process.terminate()
        assert process.wait(timeout=300) == 0


def test_request_helpers() -> None:
    request = Request(
        "POST",
        "/v1/chat/completions",
        {},
        {},
        {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]},
    )

    assert request.model == "m"
    assert echo(request) == "x"
    body = chat_completion(request, "a b", usage={"completion_tokens_details": {"x": 1}})
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0
    assert body["usage"]["completion_tokens_details"]["x"] == 1
    assert body["choices"][0]["logprobs"] is None
