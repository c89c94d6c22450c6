"""The Google provider end to end: the real `google-genai` SDK over real HTTP to a local server.

We assert on what the SDK sent (path, key header, body) and on how replies, errors and retries
are read back, through `ModelHub` as the runner uses it. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from engine.config import ConnectionConfig, GenerationConfig, ResponseSchema
from engine.messages import ChatMessage, ModelOutput, assistant, system, user
from engine.models import Model, ModelHub
from engine.providers import GenerateError, ProviderConfigError, create_api
from tests.providers._hub import FAST, generate_once
from tests.support.gemini_server import (
    GeminiServer,
    Reply,
    Request,
    close_connection,
    echo,
    error,
    fixed,
    generate_content,
    malformed,
    model_of,
    rate_limited,
    sequence,
)

KEY = "AIza-test-0123456789"
MODEL = "google/gemini-2.5-flash"
pytestmark = pytest.mark.filterwarnings(
    # google-genai 3.4 subclasses aiohttp.ClientSession for each client it builds.
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiServer]:
    with GeminiServer(echo) as running:
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        monkeypatch.setenv("GOOGLE_BASE_URL", running.base_url)
        yield running


async def generate(
    model: str = MODEL,
    generation: GenerationConfig | None = None,
    *,
    messages: Sequence[ChatMessage] = (),
    connection: ConnectionConfig = FAST,
    model_args: dict[str, Any] | None = None,
) -> tuple[ModelOutput, Model]:
    prompt = list(messages) or [user("Say hello")]
    return await generate_once(
        model, prompt, generation, connection=connection, model_args=model_args
    )


async def generate_error(*, connection: ConnectionConfig = FAST) -> GenerateError:
    with pytest.raises(GenerateError) as caught:
        await generate(connection=connection)
    return caught.value


# ── what the SDK sends ────────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_sends_a_plain_generate_content_request(server: GeminiServer) -> None:
    output, model = await generate(messages=[user("What is 2+2?")])

    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/v1/models/gemini-2.5-flash:generateContent")
    assert model_of(request) == "gemini-2.5-flash"
    assert request.headers["x-goog-api-key"] == KEY
    assert "key" not in request.query
    assert request.body == {
        "contents": [{"role": "user", "parts": [{"text": "What is 2+2?"}]}],
        "generationConfig": {},  # the SDK sends it even when empty
    }
    assert output.completion == "What is 2+2?"
    assert str(model.api) == MODEL


@pytest.mark.anyio
async def test_api_version_from_model_args_or_the_sdks_env(
    server: GeminiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    await generate(model_args={"api_version": "v1beta"})
    monkeypatch.setenv("GOOGLE_GENAI_API_VERSION", "beta")
    await generate()

    assert [r.path for r in server.requests] == [
        "/v1beta/models/gemini-2.5-flash:generateContent"
    ] * 2


@pytest.mark.anyio
async def test_roles_and_system_instruction(server: GeminiServer) -> None:
    await generate(
        messages=[
            system("Be brief."),
            user("Hi"),
            assistant("Hello!"),
            user("Where is the ball?"),
        ]
    )

    body = server.requests[0].body
    assert body["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Hi"}]},
        {"role": "model", "parts": [{"text": "Hello!"}]},
        {"role": "user", "parts": [{"text": "Where is the ball?"}]},
    ]


@pytest.mark.anyio
async def test_system_message_from_generation_config(server: GeminiServer) -> None:
    await generate(generation=GenerationConfig(system_message="Answer in French."))

    body = server.requests[0].body
    assert body["systemInstruction"]["parts"] == [{"text": "Answer in French."}]
    assert [c["role"] for c in body["contents"]] == ["user"]


@pytest.mark.anyio
async def test_maps_generation_fields(server: GeminiServer) -> None:
    generation = GenerationConfig(
        temperature=0.3,
        top_p=0.9,
        top_k=40,
        max_tokens=64,
        stop_seqs=["\n\n", "END"],
        seed=7,
        presence_penalty=-0.25,
        frequency_penalty=0.5,
        num_choices=2,
        reasoning_tokens=128,
        response_schema=ResponseSchema(
            name="answer",
            json_schema={"type": "object", "properties": {"answer": {"type": "string"}}},
        ),
    )

    output, _ = await generate(generation=generation)

    config = server.requests[0].body["generationConfig"]
    thinking = config.pop("thinkingConfig")
    assert config == {
        "temperature": 0.3,
        "topP": 0.9,
        "topK": 40,
        "maxOutputTokens": 64,
        "stopSequences": ["\n\n", "END"],
        "seed": 7,
        "presencePenalty": -0.25,
        "frequencyPenalty": 0.5,
        "candidateCount": 2,
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object", "properties": {"answer": {"type": "string"}}},
    }
    # google-genai 3.4 sends ThinkingConfig's field names as is; the API accepts both spellings.
    assert thinking in ({"thinkingBudget": 128}, {"thinking_budget": 128})
    assert len(output.choices) == 2


@pytest.mark.anyio
async def test_extra_headers_are_sent(server: GeminiServer) -> None:
    await generate(generation=GenerationConfig(extra_headers={"X-Trace-Id": "abc-123"}))

    assert server.requests[0].headers["x-trace-id"] == "abc-123"


@pytest.mark.anyio
async def test_attempt_timeout_reaches_the_server_header(server: GeminiServer) -> None:
    await generate(connection=FAST.model_copy(update={"attempt_timeout": 7.5}))

    assert server.requests[0].headers["x-server-timeout"] == "8"  # seconds, rounded up


# ── what is read back ─────────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_parses_text_usage_and_model_version(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(request: Request) -> Reply:
        body = generate_content(
            request,
            "the basket",
            usage={
                "promptTokenCount": 11,
                "candidatesTokenCount": 3,
                "totalTokenCount": 24,
                "thoughtsTokenCount": 10,
                "cachedContentTokenCount": 4,
            },
        )
        body["modelVersion"] = "gemini-2.5-flash-001"
        return Reply(body=body)

    with GeminiServer(answer) as running:
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        monkeypatch.setenv("GOOGLE_BASE_URL", running.base_url)
        output, model = await generate()

    assert output.completion == "the basket"
    assert output.choices[0].stop_reason == "stop"
    assert output.model == "gemini-2.5-flash-001"
    usage = output.usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (11, 13, 24)
    assert usage.reasoning_tokens == 10
    assert usage.input_tokens_cache_read == 4
    assert model.usage.total_tokens == 24
    assert output.time > 0


@pytest.mark.anyio
async def test_thought_parts_are_kept_apart_from_the_completion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def answer(request: Request) -> Reply:
        return Reply(body=generate_content(request, "42", thought="six times seven is"))

    with GeminiServer(answer) as running:
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        monkeypatch.setenv("GOOGLE_BASE_URL", running.base_url)
        output, _ = await generate(generation=GenerationConfig(reasoning_tokens=512))

    assert output.completion == "42"
    assert output.message.reasoning == "six times seven is"
    assert output.usage.reasoning_tokens == 4
    assert output.usage.output_tokens == 5


@pytest.mark.parametrize(
    ("finish_reason", "stop_reason"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "max_tokens"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("OTHER", "unknown"),
        ("FINISH_REASON_UNSPECIFIED", "unknown"),
    ],
)
@pytest.mark.anyio
async def test_finish_reason_maps_to_stop_reason(
    monkeypatch: pytest.MonkeyPatch, finish_reason: str, stop_reason: str
) -> None:
    def answer(request: Request) -> Reply:
        return Reply(body=generate_content(request, "partial", finish_reason=finish_reason))

    with GeminiServer(answer) as running:
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        monkeypatch.setenv("GOOGLE_BASE_URL", running.base_url)
        output, _ = await generate()

    assert output.choices[0].stop_reason == stop_reason


@pytest.mark.anyio
async def test_logprobs_are_requested_and_read(server: GeminiServer) -> None:
    def answer(request: Request) -> Reply:
        body = generate_content(request, "Paris")
        body["candidates"][0]["logprobsResult"] = {
            "topCandidates": [
                {
                    "candidates": [
                        {"token": "Paris", "logProbability": -0.01},
                        {"token": "Lyon", "logProbability": -4.5},
                    ]
                }
            ],
            "chosenCandidates": [{"token": "Paris", "logProbability": -0.01}],
        }
        return Reply(body=body)

    server.responder = answer
    output, _ = await generate(generation=GenerationConfig(logprobs=True, top_logprobs=2))

    config = server.requests[0].body["generationConfig"]
    assert (config["responseLogprobs"], config["logprobs"]) == (True, 2)
    assert output.choices[0].logprobs == [
        {
            "token": "Paris",
            "logprob": -0.01,
            "bytes": list(b"Paris"),
            "top_logprobs": [
                {"token": "Paris", "logprob": -0.01},
                {"token": "Lyon", "logprob": -4.5},
            ],
        }
    ]


@pytest.mark.anyio
async def test_extra_body_is_merged_into_the_request(server: GeminiServer) -> None:
    generation = GenerationConfig(
        temperature=0.5, extra_body={"generationConfig": {"responseModalities": ["TEXT"]}}
    )

    await generate(generation=generation)

    config = server.requests[0].body["generationConfig"]
    assert config == {"temperature": 0.5, "responseModalities": ["TEXT"]}


@pytest.mark.anyio
async def test_blocked_prompt_is_a_content_filter_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = {
        "promptFeedback": {"blockReason": "SAFETY"},
        "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5},
        "modelVersion": "gemini-2.5-flash",
    }
    with GeminiServer(fixed("")) as running:
        running.responder = lambda request: Reply(body=blocked)
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        monkeypatch.setenv("GOOGLE_BASE_URL", running.base_url)
        output, _ = await generate()

    assert output.completion == ""
    assert output.choices[0].stop_reason == "content_filter"
    assert output.usage.input_tokens == 5


# ── errors and retries ────────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_rate_limit_and_unavailable_are_retried(server: GeminiServer) -> None:
    server.responder = sequence([rate_limited("0"), error(503, "The model is overloaded."), "ok"])

    output, _ = await generate()

    assert output.completion == "ok"
    assert len(server.requests) == 3


@pytest.mark.anyio
async def test_retry_after_is_honoured(server: GeminiServer) -> None:
    server.responder = sequence([rate_limited("0.4"), "ok"])

    start = time.monotonic()
    output, _ = await generate()

    assert output.completion == "ok"
    assert time.monotonic() - start >= 0.35


@pytest.mark.anyio
async def test_retry_info_in_the_error_body_is_honoured(server: GeminiServer) -> None:
    quota = error(429, "Quota exceeded for metric generate_content_free_tier_requests.")
    quota.body["error"]["details"] = [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.4s"},
    ]
    server.responder = sequence([quota, "ok"])

    start = time.monotonic()
    output, _ = await generate()

    assert output.completion == "ok"
    assert time.monotonic() - start >= 0.35


@pytest.mark.parametrize("status", [500, 504])
@pytest.mark.anyio
async def test_server_errors_are_retried(server: GeminiServer, status: int) -> None:
    server.responder = sequence([error(status), "ok"])

    output, _ = await generate()

    assert output.completion == "ok"
    assert len(server.requests) == 2


@pytest.mark.anyio
async def test_gives_up_after_max_retries(server: GeminiServer) -> None:
    server.responder = lambda request: rate_limited("0")

    failure = await generate_error()

    assert "RESOURCE_EXHAUSTED" in failure.reason
    assert len(server.requests) == 4  # 1 + max_retries


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "Invalid value at 'generation_config.temperature'"),
        (403, "Method doesn't allow unregistered callers."),
        (404, "models/gemini-9 is not found for API version v1"),
    ],
)
@pytest.mark.anyio
async def test_client_errors_are_not_retried(
    server: GeminiServer, status: int, message: str
) -> None:
    server.responder = lambda request: error(status, message)

    failure = await generate_error()

    assert message in failure.reason
    assert f"HTTP {status}" in failure.reason
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_wrong_key_is_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    with GeminiServer(echo, api_key="the-right-key") as running:
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        monkeypatch.setenv("GOOGLE_BASE_URL", running.base_url)
        failure = await generate_error()
        assert len(running.requests) == 1

    assert "API key not valid" in failure.reason


@pytest.mark.anyio
async def test_dropped_connection_is_retried_without_sdk_sleep(server: GeminiServer) -> None:
    server.responder = sequence([close_connection(), "ok"])

    output, model = await generate()

    assert output.completion == "ok"
    assert len(server.requests) == 2
    assert model.pool.retries == 1  # our retry (no sleep) resent it, not the SDK's (1-10 s)


@pytest.mark.anyio
async def test_slow_answer_beyond_attempt_timeout_is_retried(server: GeminiServer) -> None:
    # Never in time; the limit stays far above what "ok" takes on a busy machine.
    server.responder = sequence([Reply(text="late", delay=3600), "ok"])

    output, _ = await generate(connection=FAST.model_copy(update={"attempt_timeout": 2.0}))

    assert output.completion == "ok"
    assert len(server.requests) == 2


@pytest.mark.anyio
async def test_malformed_json_is_retried(server: GeminiServer) -> None:
    server.responder = sequence([malformed(b'{"candidates": ['), "ok"])

    output, _ = await generate()

    assert output.completion == "ok"
    assert len(server.requests) == 2


# ── configuration ─────────────────────────────────────────────────────────────────────────────────


def test_missing_key_names_both_variables() -> None:
    with pytest.raises(ProviderConfigError) as caught:
        create_api(MODEL, {}, None)

    assert "GOOGLE_API_KEY" in str(caught.value)
    assert "GEMINI_API_KEY" in str(caught.value)


@pytest.mark.anyio
async def test_gemini_api_key_and_model_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key")
    monkeypatch.setenv("GOOGLE_BASE_URL", "http://127.0.0.1:9")  # model_base_url wins
    with GeminiServer(echo) as running:
        hub = ModelHub(FAST)
        try:
            model = hub.get(MODEL, GenerationConfig(), base_url=running.base_url)
            output = await model.generate([user("hi")])
        finally:
            await hub.aclose()
        [request] = running.requests

    assert output.completion == "hi"
    assert request.headers["x-goog-api-key"] == "gemini-key"


def test_default_base_url_and_pool_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    api = create_api(MODEL, {}, None)

    assert api.base_url == "https://generativelanguage.googleapis.com"
    assert api.model_name == "gemini-2.5-flash"
    assert api.account and KEY not in api.account


def test_unknown_model_args_are_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)

    with pytest.raises(ProviderConfigError, match="projct"):
        create_api(MODEL, {"projct": "x"}, None)


@pytest.mark.anyio
async def test_safety_settings_from_model_args(server: GeminiServer) -> None:
    settings = {"harassment": "block_none", "HARM_CATEGORY_HATE_SPEECH": "BLOCK_ONLY_HIGH"}

    await generate(model_args={"safety_settings": settings})

    assert server.requests[0].body["safetySettings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"},
        {"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_ONLY_HIGH"},
    ]


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"harasment": "BLOCK_NONE"}, "unknown safety category 'harasment'"),
        ({"harassment": "NEVER"}, "unknown safety threshold 'NEVER'"),
        (["BLOCK_NONE"], "must map categories to thresholds"),
    ],
)
def test_bad_safety_settings_are_a_config_error(
    monkeypatch: pytest.MonkeyPatch, settings: Any, match: str
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)

    with pytest.raises(ProviderConfigError, match=match):
        create_api(MODEL, {"safety_settings": settings}, None)


def test_reasoning_effort_is_unsupported_beside_a_budget_or_without_a_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    api = create_api(MODEL, {}, None)

    assert api.unsupported(GenerationConfig(reasoning_effort="low", reasoning_tokens=5)) == [
        "reasoning_effort"
    ]
    assert api.unsupported(GenerationConfig(reasoning_effort="max")) == ["reasoning_effort"]
    assert api.unsupported(GenerationConfig(reasoning_effort="high")) == []
    assert api.unsupported(GenerationConfig(reasoning_tokens=5, logprobs=True)) == []


@pytest.mark.anyio
async def test_reasoning_effort_becomes_a_thinking_level(server: GeminiServer) -> None:
    await generate("google/gemini-3-pro-preview", GenerationConfig(reasoning_effort="high"))

    thinking = server.requests[0].body["generationConfig"]["thinkingConfig"]
    assert thinking in ({"thinkingLevel": "HIGH"}, {"thinking_level": "HIGH"})


@pytest.mark.anyio
async def test_server_answers_unknown_routes_in_googles_error_shape(server: GeminiServer) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.base_url}/v1beta/models") as response,
    ):
        body = await response.json()

    assert response.status == 404
    assert body["error"]["code"] == 404
    assert body["error"]["status"] == "NOT_FOUND"


# ── the CLI end to end ────────────────────────────────────────────────────────────────────────────


def test_cli_runs_a_graded_task_on_gemini(tmp_path: Path) -> None:
    from inspect_ai.log import read_eval_log

    from tests.test_cli import run_cli, the_log

    with GeminiServer(fixed("the basket\nGRADE: C")) as running:
        done = run_cli(
            "task=theory_of_mind",
            "model=google/gemini-2.5-flash",
            "limit=2",
            "display=none",
            cwd=tmp_path,
            env={"GOOGLE_API_KEY": KEY, "GOOGLE_BASE_URL": running.base_url},
        )
        sent = running.requests

    assert done.returncode == 0, done.stderr
    assert sent and all(r.path == "/v1/models/gemini-2.5-flash:generateContent" for r in sent)
    assert all(r.headers["x-goog-api-key"] == KEY for r in sent)
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.status == "success"
    assert log.eval.model == MODEL
    assert log.samples is not None and len(log.samples) == 2
    assert log.stats.model_usage[MODEL].total_tokens > 0
    for sample in log.samples:
        assert sample.output.completion == "the basket\nGRADE: C"


# ── streamed replies (streamGenerateContent) ──────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_a_streamed_reply_reads_like_a_plain_one(server: GeminiServer) -> None:
    def answer(request: Request) -> Reply:
        body = generate_content(
            request, ["The basket.", "In the basket."], thought="Sally did not see."
        )
        for candidate in body["candidates"]:
            candidate["finishReason"] = "MAX_TOKENS"
        return Reply(body=body)

    server.responder = answer
    plain, _ = await generate()
    streamed, _ = await generate(model_args={"stream": True})

    first, second = server.requests
    assert first.path.endswith(":generateContent")
    assert second.path == "/v1/models/gemini-2.5-flash:streamGenerateContent"
    assert second.query == {"alt": "sse"}
    assert second.body == first.body
    assert [c.message for c in streamed.choices] == [c.message for c in plain.choices]
    assert streamed.completion == "The basket."
    assert streamed.choices[1].message.text == "In the basket."
    assert streamed.message.reasoning == "Sally did not see."
    assert [c.stop_reason for c in streamed.choices] == ["max_tokens", "max_tokens"]
    assert streamed.usage == plain.usage  # the last chunk's (cumulative) usage


@pytest.mark.anyio
@pytest.mark.parametrize(("max_tokens", "streams"), [(None, False), (64_000, True)])
async def test_auto_streams_only_long_generations(
    server: GeminiServer, max_tokens: int | None, streams: bool
) -> None:
    output, _ = await generate(generation=GenerationConfig(max_tokens=max_tokens))

    [request] = server.requests
    assert request.path.endswith(":streamGenerateContent") is streams
    assert output.completion == "Say hello"


@pytest.mark.anyio
async def test_a_rate_limited_stream_is_retried(server: GeminiServer) -> None:
    server.responder = sequence([rate_limited("0"), "ok"])

    output, _ = await generate(model_args={"stream": True})

    assert [r.path.rsplit(":", 1)[1] for r in server.requests] == ["streamGenerateContent"] * 2
    assert output.completion == "ok"
