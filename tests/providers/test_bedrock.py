"""`bedrock/MODEL`: the real boto3 Converse client, SigV4-signed, against a local Converse server.

We assert on what botocore sent (path, SigV4 header, JSON body with base64 image bytes) and on how
replies, usage, AWS errors and retries are read back, through `ModelHub` as the runner uses it.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.config import ConnectionConfig, GenerationConfig, ResponseSchema
from engine.messages import (
    ChatMessage,
    ContentImage,
    ContentReasoning,
    ContentText,
    ModelOutput,
    assistant,
    system,
    user,
    vet_file,
)
from engine.models import Model, ModelHub
from engine.providers import ErrorKind, GenerateError, ProviderConfigError, create_api
from tests.providers._hub import FAST, generate_once
from tests.support.bedrock_server import (
    BedrockServer,
    Reply,
    Request,
    close_connection,
    converse,
    error,
    fixed,
    malformed,
    sequence,
    throttled,
)

ACCESS_KEY = "AKIDLOCALTEST0000001"
SECRET_KEY = "local/secret+Key0123456789abcdefghijklmn"
MODEL = "bedrock/amazon.nova-pro-v1:0"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[BedrockServer]:
    with BedrockServer(fixed("Paris."), access_key=ACCESS_KEY) as running:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", running.base_url)
        yield running


async def generate(
    generation: GenerationConfig | None = None,
    *,
    messages: Sequence[ChatMessage] = (),
    connection: ConnectionConfig = FAST,
    model_args: dict[str, Any] | None = None,
    base_url: str | None = None,
) -> tuple[ModelOutput, Model]:
    prompt = list(messages) or [user("Capital of France?")]
    return await generate_once(
        MODEL, prompt, generation, connection=connection, model_args=model_args, base_url=base_url
    )


@pytest.mark.anyio
async def test_sends_a_signed_converse_request(server: BedrockServer) -> None:
    output, _ = await generate(messages=[system("Be brief."), user("Capital of France?")])

    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/model/amazon.nova-pro-v1%3A0/converse")
    authorization = request.headers["authorization"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    assert "/us-east-1/bedrock/aws4_request" in authorization
    assert "x-amz-date" in request.headers
    assert SECRET_KEY not in request.raw.decode() + str(request.headers)
    assert request.body == {
        "messages": [{"role": "user", "content": [{"text": "Capital of France?"}]}],
        "system": [{"text": "Be brief."}],
    }
    assert output.completion == "Paris."
    assert output.choices[0].stop_reason == "stop"
    assert output.usage.to_log() == {"input_tokens": 5, "output_tokens": 1, "total_tokens": 6}


@pytest.mark.anyio
async def test_generation_settings_map_to_converse_fields(server: BedrockServer) -> None:
    schema = ResponseSchema(
        name="city", json_schema={"type": "object", "properties": {"name": {"type": "string"}}}
    )
    generation = GenerationConfig(
        max_tokens=300,
        temperature=0.2,
        top_p=0.9,
        top_k=40,
        stop_seqs=["END"],
        reasoning_tokens=1024,
        reasoning_effort="high",
        response_schema=schema,
        extra_body={"additionalModelRequestFields": {"foo": 1}, "serviceTier": {"type": "flex"}},
    )
    await generate(generation)

    body = server.requests[0].body
    assert body["inferenceConfig"] == {
        "maxTokens": 300,
        "temperature": 0.2,
        "topP": 0.9,
        "stopSequences": ["END"],
    }
    assert body["additionalModelRequestFields"] == {
        "top_k": 40,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "foo": 1,
    }
    assert body["outputConfig"] == {
        "effort": "high",
        "textFormat": {
            "type": "json_schema",
            "structure": {
                "jsonSchema": {
                    "schema": '{"type": "object", "properties": {"name": {"type": "string"}}}',
                    "name": "city",
                }
            },
        },
    }
    assert body["serviceTier"] == {"type": "flex"}


def test_unsupported_settings_are_listed(server: BedrockServer) -> None:
    api = create_api(MODEL, {}, None)
    config = GenerationConfig(
        seed=1, logprobs=True, num_choices=2, extra_headers={"x": "y"}, temperature=0
    )
    assert api.unsupported(config) == ["seed", "logprobs", "extra_headers", "num_choices"]


def test_a_zero_seed_is_listed_unsupported_and_logprobs_off_is_not(server: BedrockServer) -> None:
    api = create_api(MODEL, {}, None)

    assert api.unsupported(GenerationConfig(seed=0, logprobs=False)) == ["seed"]


@pytest.mark.anyio
async def test_images_are_sent_as_bytes_and_turns_alternate(
    server: BedrockServer, tmp_path: Path
) -> None:
    picture = tmp_path / "dot.png"
    picture.write_bytes(PNG)
    messages = [
        user([ContentText("What is this?"), ContentImage(vet_file(picture))]),
        assistant("A dot."),
        ChatMessage(
            "assistant",
            [
                ContentReasoning("thought", signature="sig"),
                ContentReasoning("another provider's thought"),  # unsigned: not resent
                ContentReasoning(base64.b64encode(b"opaque").decode(), redacted=True),
                ContentText("!"),
            ],
        ),
        user("Sure?"),
    ]
    await generate(messages=messages)

    assert server.requests[0].body["messages"] == [
        {
            "role": "user",
            "content": [
                {"text": "What is this?"},
                {"image": {"format": "png", "source": {"bytes": base64.b64encode(PNG).decode()}}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"text": "A dot."},
                {"reasoningContent": {"reasoningText": {"text": "thought", "signature": "sig"}}},
                {"reasoningContent": {"redactedContent": base64.b64encode(b"opaque").decode()}},
                {"text": "!"},
            ],
        },
        {"role": "user", "content": [{"text": "Sure?"}]},
    ]


@pytest.mark.anyio
async def test_an_image_url_fails_the_sample_with_the_reason(server: BedrockServer) -> None:
    with pytest.raises(GenerateError, match="URL; this provider needs the bytes"):
        await generate(messages=[user([ContentImage("https://example.com/a.png")])])
    assert server.requests == []


@pytest.mark.anyio
async def test_reasoning_and_cache_usage_are_read(server: BedrockServer) -> None:
    def answer(request: Request) -> Reply:
        usage = {"cacheReadInputTokens": 7, "cacheWriteInputTokens": 3, "totalTokens": 20}
        body = converse(request, "42", reasoning="six times seven", usage=usage)
        return Reply(body=body)

    server.responder = answer
    output, _ = await generate(GenerationConfig(reasoning_tokens=2000))

    assert output.completion == "42"
    assert output.message.reasoning == "six times seven"
    assert output.message.content[0] == ContentReasoning("six times seven", "c2lnbmF0dXJl")
    assert output.usage.input_tokens_cache_read == 7
    assert output.usage.input_tokens_cache_write == 3
    assert output.usage.total_tokens == 20


@pytest.mark.anyio
async def test_stop_reasons(server: BedrockServer) -> None:
    server.responder = lambda r: Reply(body=converse(r, "cut", stop_reason="max_tokens"))
    output, _ = await generate()
    assert output.choices[0].stop_reason == "max_tokens"
    server.responder = lambda r: Reply(body=converse(r, "", stop_reason="guardrail_intervened"))
    output, _ = await generate()
    assert output.choices[0].stop_reason == "content_filter"


@pytest.mark.anyio
async def test_throttling_and_unavailable_are_retried_honouring_retry_after(
    server: BedrockServer,
) -> None:
    server.responder = sequence(
        [
            throttled("0"),
            error(503, "ServiceUnavailableException", "Service unavailable"),
            error(429, "ModelNotReadyException", "Model is not ready"),
            "ok",
        ]
    )
    output, model = await generate()
    assert output.completion == "ok"
    assert len(server.requests) == 4
    assert model.pool.retries == 3 and model.pool.rate_limits == 1


@pytest.mark.anyio
async def test_botocore_does_not_retry_on_its_own(server: BedrockServer) -> None:
    server.responder = sequence([throttled("0")])
    with pytest.raises(GenerateError, match="gave up after 2 attempts") as caught:
        await generate(connection=ConnectionConfig(max_retries=1, backoff_base=0.01))
    assert "ThrottlingException" in caught.value.reason
    assert len(server.requests) == 2


@pytest.mark.anyio
async def test_retry_after_is_read_from_the_aws_error(server: BedrockServer) -> None:
    from botocore.exceptions import ClientError

    server.responder = sequence([throttled("7")])
    api = create_api(MODEL, {}, None)
    try:
        with pytest.raises(ClientError) as caught:  # one attempt, straight from botocore
            await api.generate([user("hi")], GenerationConfig(), None)
        verdict = api.classify(caught.value)
    finally:
        await api.aclose()
    assert verdict.kind is ErrorKind.RATE_LIMIT
    assert verdict.retry_after == 7.0
    assert verdict.reason.startswith("HTTP 429 ThrottlingException from bedrock/amazon.nova-pro")


@pytest.mark.anyio
async def test_worker_threads_carry_max_connections_requests_at_once(
    server: BedrockServer,
) -> None:
    """boto3 blocks, so calls run in threads: as many at once as the pool allows, no more.

    The first requests are held until three are in flight (a gate, not a pace), then a moment
    longer, so a pool that let a fourth through would be seen doing it."""
    in_flight = peak = 0
    full = asyncio.Event()

    async def slow(request: Request) -> str:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight == 3:
            full.set()
        await asyncio.wait_for(full.wait(), timeout=60)  # a failure timeout, not a pace
        await asyncio.sleep(0.05)
        in_flight -= 1
        return "ok"

    server.responder = slow
    hub = ModelHub(ConnectionConfig(max_connections=3, attempt_timeout=10.0))
    try:
        model = hub.get(MODEL, GenerationConfig())
        async with anyio.create_task_group() as group:
            for index in range(7):
                group.start_soon(model.generate, [user(f"question {index}")])
    finally:
        await hub.aclose()
    assert len(server.requests) == 7
    assert peak == 3


def test_the_client_is_sized_by_the_connection_settings(server: BedrockServer) -> None:
    api = create_api(MODEL, {}, None)
    api.configure(ConnectionConfig(max_connections=37, attempt_timeout=45.0))
    config = api.client.meta.config  # type: ignore[attr-defined]
    assert config.max_pool_connections == 37
    assert config.read_timeout == 45.0
    assert config.retries["total_max_attempts"] == 1  # botocore itself never retries


@pytest.mark.anyio
async def test_validation_errors_are_fatal_with_the_message(server: BedrockServer) -> None:
    server.responder = sequence(
        [error(400, "ValidationException", "The model returned the following errors: bad")]
    )
    with pytest.raises(GenerateError) as caught:
        await generate()
    assert caught.value.reason == (
        "HTTP 400 ValidationException from bedrock/amazon.nova-pro-v1:0: "
        "The model returned the following errors: bad"
    )
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_wrong_credentials_are_fatal_and_never_echo_the_secret(
    server: BedrockServer,
) -> None:
    server.access_key = "AKIDSOMEONEELSE00000"  # our key id is not the one it knows
    with pytest.raises(GenerateError) as caught:
        await generate()
    assert "UnrecognizedClientException" in caught.value.reason
    assert "check the AWS credentials" in caught.value.reason
    assert SECRET_KEY not in caught.value.reason
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_a_malformed_reply_is_retried_then_recorded(server: BedrockServer) -> None:
    server.responder = sequence([malformed(b'{"output": ')])
    with pytest.raises(GenerateError, match="malformed reply"):
        await generate()
    assert len(server.requests) == 4


@pytest.mark.anyio
async def test_model_base_url_overrides_the_endpoint(
    server: BedrockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:9")
    output, model = await generate(base_url=server.base_url)
    assert output.completion == "Paris."
    assert model.api.base_url == server.base_url


def test_a_missing_region_is_a_config_error() -> None:
    with pytest.raises(ProviderConfigError, match="needs an AWS region: set AWS_REGION"):
        create_api(MODEL, {}, None)


def test_unknown_model_args_are_a_config_error() -> None:
    with pytest.raises(ProviderConfigError, match="did you mean 'aws_region'"):
        create_api(MODEL, {"aws_regon": "us-east-1"}, None)


@pytest.mark.anyio
async def test_a_dropped_connection_is_retried(server: BedrockServer) -> None:
    server.responder = sequence([close_connection(), "ok"])
    output, model = await generate()
    assert output.completion == "ok"
    assert len(server.requests) == 2 and model.pool.retries == 1


@pytest.mark.anyio
async def test_no_credentials_is_fatal_with_where_to_set_them(
    server: BedrockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(GenerateError, match=r"no AWS credentials found \(set AWS_ACCESS_KEY_ID"):
        await generate()
    assert server.requests == []
