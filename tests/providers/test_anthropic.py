"""The Anthropic provider end to end: the real `anthropic` SDK over real HTTP to a local server.

We assert on what the SDK sent (path, headers, body) and on how replies, errors and retries are
read back, through `ModelHub` as the runner uses it. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from engine.config import ConnectionConfig, GenerationConfig, ResponseSchema
from engine.messages import ChatMessage, ModelOutput, assistant, system, user
from engine.models import Model
from engine.providers import ErrorKind, GenerateError, ProviderConfigError, create_api
from engine.providers._anthropic import AnthropicAPI
from tests.providers._hub import FAST, generate_once
from tests.support.anthropic_server import (
    AnthropicServer,
    Reply,
    Request,
    echo,
    error,
    fixed,
    malformed,
    message,
    overloaded,
    rate_limited,
    sequence,
)
from tests.support.openai_server import truncated

KEY = "sk-ant-test-0123456789"
MODEL = "anthropic/claude-3-5-haiku-latest"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicServer]:
    """An echo server that `anthropic/...` models talk to."""
    with AnthropicServer(echo) as running:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", running.base_url)
        yield running


async def generate(
    generation: GenerationConfig | None = None,
    *,
    messages: Sequence[ChatMessage] = (),
    connection: ConnectionConfig = FAST,
    model_args: dict[str, Any] | None = None,
    base_url: str | None = None,
) -> tuple[ModelOutput, Model]:
    """One generate call through a fresh hub, the way the runner makes it."""
    prompt = list(messages) or [user("Say hello")]
    return await generate_once(
        MODEL, prompt, generation, connection=connection, model_args=model_args, base_url=base_url
    )


async def generate_error(connection: ConnectionConfig = FAST) -> GenerateError:
    with pytest.raises(GenerateError) as caught:
        await generate(connection=connection)
    return caught.value


# ── what the SDK sends ────────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_sends_a_plain_messages_request(server: AnthropicServer) -> None:
    output, _ = await generate(messages=[user("What is 2+2?")])

    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/v1/messages")
    # anthropic 2.x sends the API key as a bearer token (1.x sent `x-api-key`).
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", request.headers["anthropic-version"])
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-stainless-retry-count"] == "0"
    assert request.headers["x-stainless-timeout"] == "5.0"  # the pool's attempt_timeout
    assert request.body == {
        "model": "claude-3-5-haiku-latest",
        "messages": [{"role": "user", "content": "What is 2+2?"}],
        "max_tokens": 4096,  # the API requires one
    }
    assert output.completion == "What is 2+2?"


@pytest.mark.anyio
async def test_maps_generation_fields_into_the_body(server: AnthropicServer) -> None:
    generation = GenerationConfig(
        temperature=0.3,
        top_p=0.9,
        top_k=40,
        max_tokens=2048,
        stop_seqs=["\n\n", "END"],
        reasoning_tokens=1024,
        reasoning_effort="high",
        response_schema=ResponseSchema(
            name="answer",
            description="not sent: Anthropic's format has no name or description",
            json_schema={
                "type": "object",
                "properties": {"answer": {"type": "integer", "minimum": 0}},
                "required": ["answer"],
            },
        ),
        # Not honoured by Anthropic: reported by `unsupported()`, never sent.
        seed=7,
        frequency_penalty=0.5,
        presence_penalty=-0.25,
        logprobs=True,
        top_logprobs=3,
    )
    conversation = [
        system("You are terse."),
        user("Hi"),
        assistant("Hello."),
        user("What is 2+2?"),
    ]

    await generate(generation, messages=conversation)

    [request] = server.requests
    assert request.body == {
        "model": "claude-3-5-haiku-latest",
        "system": "You are terse.",
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "What is 2+2?"},
        ],
        "max_tokens": 2048,
        "stop_sequences": ["\n\n", "END"],
        "temperature": 0.3,
        "top_p": 0.9,
        "top_k": 40,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "output_config": {
            "effort": "high",
            # Structured outputs as the SDK's `messages.parse` sends them: closed objects, and
            # constraints the API cannot enforce moved into descriptions.
            "format": {
                "type": "json_schema",
                "schema": {
                    "type": "object",
                    "properties": {"answer": {"type": "integer", "description": "{minimum: 0}"}},
                    "additionalProperties": False,
                    "required": ["answer"],
                },
            },
        },
    }


@pytest.mark.anyio
async def test_system_message_setting_goes_to_the_system_field(server: AnthropicServer) -> None:
    await generate(GenerationConfig(system_message="Be brief."), messages=[user("hi")])

    [request] = server.requests
    assert request.body["system"] == "Be brief."
    assert request.messages == [{"role": "user", "content": "hi"}]


@pytest.mark.anyio
async def test_several_system_messages_are_joined(server: AnthropicServer) -> None:
    await generate(messages=[system("One."), user("hi"), system("Two.")])

    [request] = server.requests
    assert request.body["system"] == "One.\n\nTwo."
    assert request.messages == [{"role": "user", "content": "hi"}]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("generation", "max_tokens", "thinking"),
    [
        (
            GenerationConfig(reasoning_tokens=8000),
            4096 + 8000,
            {"type": "enabled", "budget_tokens": 8000},
        ),
        (GenerationConfig(reasoning_tokens=0), 4096, {"type": "disabled"}),
        (GenerationConfig(max_tokens=1), 1, None),
    ],
)
async def test_default_max_tokens_leaves_room_for_the_thinking_budget(
    server: AnthropicServer,
    generation: GenerationConfig,
    max_tokens: int,
    thinking: dict[str, Any] | None,
) -> None:
    await generate(generation)

    [request] = server.requests
    assert request.body["max_tokens"] == max_tokens
    assert request.body.get("thinking") == thinking


@pytest.mark.anyio
async def test_reasoning_effort_goes_to_output_config(server: AnthropicServer) -> None:
    await generate(GenerationConfig(reasoning_effort="high"))

    assert server.requests[0].body["output_config"] == {"effort": "high"}


@pytest.mark.anyio
async def test_extra_body_and_headers(server: AnthropicServer) -> None:
    generation = GenerationConfig(
        temperature=0.3,
        extra_body={"temperature": 1.0, "metadata": {"user_id": "eval-42"}},
        extra_headers={"anthropic-beta": "some-feature-2025-01-01", "X-Trace-Id": "abc"},
    )

    await generate(generation)

    [request] = server.requests
    assert request.body["temperature"] == 1.0
    assert request.body["metadata"] == {"user_id": "eval-42"}
    assert request.headers["anthropic-beta"] == "some-feature-2025-01-01"
    assert request.headers["x-trace-id"] == "abc"


@pytest.mark.anyio
async def test_model_args_configure_the_sdk_client(server: AnthropicServer) -> None:
    await generate(model_args={"default_headers": {"x-team": "evals"}})

    assert server.requests[0].headers["x-team"] == "evals"


def test_unsupported_fields_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    api = create_api(MODEL, {}, None)
    everything = GenerationConfig(
        temperature=0.5,
        top_k=3,
        max_tokens=9,
        stop_seqs=["x"],
        reasoning_tokens=2000,
        seed=1,
        frequency_penalty=0.1,
        presence_penalty=0.1,
        logprobs=True,
        top_logprobs=2,
        num_choices=2,
        reasoning_effort="minimal",
        response_schema=ResponseSchema(name="a", json_schema={}),
    )

    assert api.unsupported(everything) == [
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "logprobs",
        "top_logprobs",
        "num_choices",
        "reasoning_effort",
    ]
    assert api.unsupported(GenerationConfig(num_choices=1, reasoning_effort="low")) == []


# ── what is read back ─────────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_parses_text_usage_and_time(server: AnthropicServer) -> None:
    server.responder = fixed("The answer is four")

    output, _ = await generate(messages=[system("Be brief."), user("What is 2+2?")])

    assert output.completion == "The answer is four"
    assert output.message.role == "assistant"
    assert output.model == "claude-3-5-haiku-latest"
    assert [choice.stop_reason for choice in output.choices] == ["stop"]
    # The server counts words: 2 + 3 prompt, 4 completion.
    assert (output.usage.input_tokens, output.usage.output_tokens) == (5, 4)
    assert output.usage.total_tokens == 9
    assert output.usage.input_tokens_cache_read == 0
    assert output.usage.input_tokens_cache_write == 0
    assert output.time > 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("anthropic_reason", "stop_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "max_tokens"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("model_context_window_exceeded", "model_length"),
        ("pause_turn", "unknown"),
    ],
)
async def test_stop_reason_mapping(
    server: AnthropicServer, anthropic_reason: str, stop_reason: str
) -> None:
    server.responder = lambda request: Reply(
        body=message(request, "cut", stop_reason=anthropic_reason)
    )

    output, _ = await generate()

    assert output.choices[0].stop_reason == stop_reason


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("setting", "sent"),
    [
        (True, {"type": "ephemeral"}),
        ("1h", {"type": "ephemeral", "ttl": "1h"}),
        (False, None),
    ],
)
async def test_prompt_caching_is_opt_in(
    server: AnthropicServer, setting: bool | str, sent: dict[str, str] | None
) -> None:
    await generate(model_args={"cache_prompt": setting})

    [request] = server.requests
    assert request.body.get("cache_control") == sent


def test_a_bad_cache_prompt_setting_is_a_config_error(server: AnthropicServer) -> None:
    with pytest.raises(ProviderConfigError, match="cache_prompt must be true, false, '5m' or '1h'"):
        create_api(MODEL, {"cache_prompt": "forever"}, None)
    assert server.requests == []


@pytest.mark.anyio
async def test_reads_cache_tokens(server: AnthropicServer) -> None:
    usage = {
        "input_tokens": 20,
        "output_tokens": 30,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 200,
    }
    server.responder = lambda request: Reply(body=message(request, "42", usage=usage))

    output, model = await generate()

    assert output.usage.input_tokens == 20
    assert output.usage.output_tokens == 30
    assert output.usage.input_tokens_cache_read == 1000
    assert output.usage.input_tokens_cache_write == 200
    assert output.usage.total_tokens == 20 + 30 + 1000 + 200
    assert model.usage.input_tokens_cache_read == 1000


@pytest.mark.anyio
async def test_thinking_blocks_are_kept_apart_from_the_completion(server: AnthropicServer) -> None:
    usage = {"output_tokens": 57, "output_tokens_details": {"thinking_tokens": 50}}
    server.responder = lambda request: Reply(
        body=message(
            request, "The basket.", thinking="Sally did not see the move, so...", usage=usage
        )
    )

    output, _ = await generate(GenerationConfig(reasoning_tokens=1024))

    assert output.completion == "The basket."
    assert output.message.reasoning == "Sally did not see the move, so..."
    assert output.usage.output_tokens == 57
    assert output.usage.reasoning_tokens == 50


@pytest.mark.anyio
async def test_text_blocks_are_joined_and_redacted_thinking_skipped(
    server: AnthropicServer,
) -> None:
    def reply(request: Request) -> Reply:
        body = message(request, "")
        body["content"] = [
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
            {"type": "text", "text": "Part one, "},
            {"type": "text", "text": "part two."},
        ]
        return Reply(body=body)

    server.responder = reply

    output, _ = await generate()

    assert output.completion == "Part one, part two."


# ── errors and retries (only the pool retries) ────────────────────────────────────────────────────


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (rate_limited("0"), "rate limit"),
        (overloaded(), "overloaded"),
        (error(500, "Internal server error"), "transient"),
    ],
)
async def test_retries_then_succeeds(server: AnthropicServer, failure: Reply, kind: str) -> None:
    server.responder = sequence([failure, failure, "ok"])

    output, model = await generate()

    assert output.completion == "ok"
    assert len(server.requests) == 3  # the SDK itself did not retry
    assert [r.headers["x-stainless-retry-count"] for r in server.requests] == ["0", "0", "0"]
    assert model.pool.retries == 2
    assert model.pool.rate_limits == (2 if kind == "rate limit" else 0)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("reply", "kind", "retry_after", "words"),
    [
        (rate_limited("7"), ErrorKind.RATE_LIMIT, 7.0, "rate_limit_error"),
        (overloaded("3"), ErrorKind.TRANSIENT, 3.0, "overloaded"),
        (error(503), ErrorKind.TRANSIENT, None, "HTTP 503"),
        (error(408), ErrorKind.TRANSIENT, None, "HTTP 408"),
        (error(409), ErrorKind.TRANSIENT, None, "HTTP 409"),
        (
            error(400, "max_tokens: Field required", headers={"retry-after": "5"}),
            ErrorKind.FATAL,
            None,
            "max_tokens",
        ),
    ],
)
async def test_classify(
    server: AnthropicServer,
    reply: Reply,
    kind: ErrorKind,
    retry_after: float | None,
    words: str,
) -> None:
    server.responder = lambda request: reply
    api = create_api(MODEL, {}, None)
    try:
        with pytest.raises(Exception) as caught:
            await api.generate([user("hi")], GenerationConfig(), 5.0)
    finally:
        await api.aclose()

    verdict = api.classify(caught.value)

    assert verdict.kind is kind
    assert verdict.retry_after == retry_after
    assert words in verdict.reason
    assert "anthropic/claude-3-5-haiku-latest" in verdict.reason


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "message_text", "hint"),
    [
        (400, "temperature: range: 0..1", ""),
        (401, "invalid x-api-key", "check ANTHROPIC_API_KEY"),
        (
            403,
            "Your API key does not have permission to use the specified resource.",
            "check ANTHROPIC_API_KEY",
        ),
        (404, "model: claude-3-5-haiku-latest", "check the model name"),
    ],
)
async def test_client_errors_are_not_retried(
    server: AnthropicServer, status: int, message_text: str, hint: str
) -> None:
    server.responder = lambda request: error(status, message_text)

    failure = await generate_error()

    assert len(server.requests) == 1
    assert failure.attempts == 1
    assert f"HTTP {status}" in failure.reason
    assert message_text in failure.reason
    assert hint in failure.reason


@pytest.mark.anyio
async def test_wrong_key_is_a_fatal_401(monkeypatch: pytest.MonkeyPatch) -> None:
    with AnthropicServer(echo, api_key="sk-ant-right") as strict:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-wrong")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", strict.base_url)

        failure = await generate_error()

        assert len(strict.requests) == 1
    assert "HTTP 401" in failure.reason
    assert "authentication_error: invalid x-api-key" in failure.reason


@pytest.mark.anyio
async def test_malformed_json_is_retried(server: AnthropicServer) -> None:
    server.responder = sequence([malformed(), "ok"])

    output, model = await generate()

    assert output.completion == "ok"
    assert len(server.requests) == 2
    assert model.pool.retries == 1


@pytest.mark.anyio
async def test_a_body_cut_short_is_retried(server: AnthropicServer) -> None:
    server.responder = sequence([truncated("first", sent=10), "ok"])

    output, model = await generate()

    assert output.completion == "ok"
    assert len(server.requests) == 2
    assert model.pool.retries == 1


@pytest.mark.anyio
async def test_json_that_is_not_a_message_is_malformed(server: AnthropicServer) -> None:
    server.responder = lambda request: Reply(body={"type": "message", "content": "nope"})

    failure = await generate_error(FAST.model_copy(update={"max_retries": 0}))

    assert "malformed reply" in failure.reason
    assert "not a message" in failure.reason


@pytest.mark.anyio
async def test_unreachable_server_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")

    failure = await generate_error(FAST.model_copy(update={"max_retries": 1}))

    assert failure.attempts == 2
    assert "connection to http://127.0.0.1:9 failed" in failure.reason


@pytest.mark.anyio
async def test_a_dropped_connection_is_named_not_called_a_timeout(server: AnthropicServer) -> None:
    server.responder = lambda request: Reply(close=True)

    failure = await generate_error(FAST.model_copy(update={"max_retries": 1}))

    assert failure.attempts == 2
    assert "failed:" in failure.reason and "Server disconnected" in failure.reason
    assert "timed out" not in failure.reason


# ── resolving the model string ────────────────────────────────────────────────────────────────────


def test_missing_key_names_the_variable() -> None:
    with pytest.raises(ProviderConfigError, match="ANTHROPIC_API_KEY"):
        create_api(MODEL, {}, None)


def test_default_base_url_and_no_sdk_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)

    api = create_api(MODEL, {}, None)

    assert isinstance(api, AnthropicAPI)
    assert api.base_url == "https://api.anthropic.com"
    assert str(api.client.base_url).rstrip("/") == "https://api.anthropic.com"
    assert api.client.max_retries == 0
    assert str(api) == MODEL
    assert api.account and KEY not in api.account


@pytest.mark.anyio
async def test_model_base_url_overrides_the_env(
    server: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")

    output, model = await generate(base_url=server.base_url, messages=[user("ping")])

    assert output.completion == "ping"
    assert model.api.base_url == server.base_url


def test_unknown_model_args_are_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)

    with pytest.raises(ProviderConfigError, match="default_header") as caught:
        create_api(MODEL, {"default_header": {"x": "y"}}, None)

    assert "did you mean 'default_headers'" in str(caught.value)


# ── the CLI, end to end ───────────────────────────────────────────────────────────────────────────


def test_cli_runs_a_graded_task_on_anthropic(tmp_path: Path) -> None:
    from inspect_ai.log import read_eval_log

    from tests.test_cli import run_cli, the_log

    with AnthropicServer(fixed("the basket\nGRADE: C")) as model_server:
        done = run_cli(
            "task=theory_of_mind",
            "model=anthropic/claude-3-5-haiku-latest",
            "limit=2",
            "display=none",
            cwd=tmp_path,
            env={"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": model_server.base_url},
        )
        sent = model_server.message_requests()

    assert done.returncode == 0, done.stderr
    assert len(sent) == 4  # two answers, two grades (the grader role falls back to the model)
    assert {r.body["model"] for r in sent} == {"claude-3-5-haiku-latest"}
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in sent)
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.status == "success"
    assert log.eval.model == MODEL
    assert log.results is not None and log.results.scores[0].metrics["accuracy"].value == 1.0
    assert log.samples is not None and len(log.samples) == 2
    for sample in log.samples:
        assert sample.output.completion == "the basket\nGRADE: C"
        assert sample.scores is not None and sample.scores["model_graded_fact"].value == "C"
    usage = log.stats.model_usage[MODEL]
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_cache_read == 0


# ── streamed replies (SSE) ────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_a_streamed_reply_reads_like_a_plain_one(server: AnthropicServer) -> None:
    def reply(request: Request) -> Reply:
        usage = {"input_tokens": 12, "output_tokens": 9, "cache_read_input_tokens": 100}
        body = message(request, "The basket.", thinking="Sally did not see.", usage=usage)
        return Reply(body=body)

    server.responder = reply
    plain, _ = await generate()
    streamed, _ = await generate(model_args={"stream": True})

    first, second = server.requests
    assert "stream" not in first.body
    assert second.body == {**first.body, "stream": True}
    assert streamed.completion == plain.completion == "The basket."
    assert streamed.message == plain.message
    assert streamed.message.reasoning == "Sally did not see."
    assert streamed.usage == plain.usage
    assert (streamed.usage.input_tokens, streamed.usage.output_tokens) == (12, 9)
    assert streamed.usage.input_tokens_cache_read == 100
    assert streamed.choices[0].stop_reason == plain.choices[0].stop_reason == "stop"


@pytest.mark.anyio
@pytest.mark.parametrize(("max_tokens", "streams"), [(None, False), (64_000, True)])
async def test_auto_streams_only_long_generations(
    server: AnthropicServer, max_tokens: int | None, streams: bool
) -> None:
    output, _ = await generate(GenerationConfig(max_tokens=max_tokens))

    [request] = server.requests
    assert ("stream" in request.body) is streams
    assert output.completion == "Say hello"


def _sse(*events: dict[str, Any]) -> bytes:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


_START = {
    "type": "message_start",
    "message": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-3-5-haiku-latest",
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": 3, "output_tokens": 1},
    },
}


@pytest.mark.anyio
async def test_an_overloaded_error_event_mid_stream_is_retried(server: AnthropicServer) -> None:
    overloaded_event = {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    stream_headers = {"content-type": "text/event-stream"}
    server.responder = sequence(
        [Reply(raw=_sse(_START, overloaded_event), headers=stream_headers), "hello"]
    )

    output, _ = await generate(model_args={"stream": True})

    assert len(server.requests) == 2
    assert output.completion == "hello"


@pytest.mark.anyio
async def test_a_stream_cut_before_message_stop_fails_with_the_reason(
    server: AnthropicServer,
) -> None:
    server.responder = lambda request: Reply(raw=_sse(_START, {"type": "ping"}))

    with pytest.raises(GenerateError) as caught:
        await generate(model_args={"stream": True}, connection=FAST)

    assert len(server.requests) == FAST.max_retries + 1  # malformed replies are retried
    assert "the stream ended before message_stop" in caught.value.reason


def test_a_bad_stream_setting_is_a_config_error(server: AnthropicServer) -> None:
    with pytest.raises(
        ProviderConfigError, match=r"model_args\.stream must be true, false or auto"
    ):
        create_api(MODEL, {"stream": "sometimes"}, None)
