"""Claude on Bedrock and Vertex (anthropic SDK platform clients) and Gemini on Vertex (google-genai
in Vertex mode), each SDK talking real HTTP to a local server on the platform's own routes.

AWS requests must carry a SigV4 signature made with the test access key id; Google requests a
bearer token that google-auth obtained by refreshing application-default credentials against a
local token endpoint. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.config import BatchConfig, GenerationConfig
from engine.messages import ContentImage, ContentText, ModelOutput, system, user, vet_file
from engine.models import ModelHub
from engine.providers import GenerateError, ProviderConfigError, create_api
from engine.providers._anthropic import DEFAULT_MAX_TOKENS
from tests.providers._hub import FAST
from tests.support import anthropic_server, gemini_server
from tests.support.anthropic_server import AnthropicServer
from tests.support.gemini_server import GeminiServer
from tests.support.google_auth_server import GoogleTokenServer

ACCESS_KEY = "AKIDLOCALTEST0000002"
SECRET_KEY = "local/secret+Key9876543210abcdefghijklmn"
TOKEN = "ya29.local-access-token-0123456789"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[GoogleTokenServer]:
    """Application-default credentials whose refresh is answered locally with TOKEN."""
    with GoogleTokenServer(TOKEN) as server:
        adc = server.write_credentials(tmp_path)
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
        yield server


async def generate(
    model: str,
    generation: GenerationConfig | None = None,
    *,
    prompts: int = 1,
    model_args: dict[str, Any] | None = None,
    base_url: str | None = None,
) -> ModelOutput:
    """`prompts` generate calls through one hub (one client), the way the runner makes them."""
    hub = ModelHub(FAST)
    try:
        found = hub.get(model, generation or GenerationConfig(), model_args, base_url)
        output = None
        for _ in range(prompts):
            output = await found.generate([system("Be brief."), user("Where is the ball?")])
        assert output is not None
        return output
    finally:
        await hub.aclose()


# ── anthropic/bedrock ─────────────────────────────────────────────────────────────────────────────

BEDROCK_CLAUDE = "anthropic/bedrock/anthropic.claude-3-5-haiku-20241022-v1:0"


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicServer]:
    with AnthropicServer(
        anthropic_server.fixed("In the box."), aws_access_key=ACCESS_KEY
    ) as server:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.base_url)
        yield server


@pytest.mark.anyio
async def test_claude_on_bedrock_sends_a_signed_invoke_request(bedrock: AnthropicServer) -> None:
    output = await generate(BEDROCK_CLAUDE, GenerationConfig(temperature=0.5))

    [request] = bedrock.requests
    assert request.method == "POST"
    assert request.path == "/model/anthropic.claude-3-5-haiku-20241022-v1:0/invoke"
    authorization = request.headers["authorization"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    assert "/eu-west-3/bedrock/aws4_request" in authorization
    assert SECRET_KEY not in request.raw.decode() + str(request.headers)
    body = dict(request.body)
    assert body.pop("anthropic_version")  # the SDK's; the model id is in the path, not the body
    assert body == {
        "messages": [{"role": "user", "content": "Where is the ball?"}],
        "max_tokens": DEFAULT_MAX_TOKENS,
        "system": "Be brief.",
        "temperature": 0.5,
    }
    assert output.completion == "In the box."
    assert output.model == "anthropic.claude-3-5-haiku-20241022-v1:0"
    assert output.usage.input_tokens == 6 and output.usage.output_tokens == 3


@pytest.mark.anyio
async def test_claude_on_bedrock_retries_throttling_and_fails_on_bad_credentials(
    bedrock: AnthropicServer,
) -> None:
    throttled = anthropic_server.Reply(
        status=429,
        body={"message": "Too many requests, please wait before trying your request again."},
        headers={"x-amzn-errortype": "ThrottlingException", "retry-after": "0"},
    )
    bedrock.responder = anthropic_server.sequence([throttled, "ok"])
    assert (await generate(BEDROCK_CLAUDE)).completion == "ok"
    assert len(bedrock.requests) == 2

    bedrock.aws_access_key = "AKIDSOMEONEELSE00000"  # our key id is not the one it knows
    with pytest.raises(GenerateError) as caught:
        await generate(BEDROCK_CLAUDE)
    assert caught.value.reason.startswith(
        f"HTTP 403 from {BEDROCK_CLAUDE}: The security token included in the request is invalid."
    )
    assert "check the AWS credentials" in caught.value.reason
    assert len(bedrock.requests) == 3


@pytest.mark.anyio
async def test_claude_on_bedrock_never_streams(bedrock: AnthropicServer) -> None:
    # Bedrock streams in AWS event-stream framing, not SSE: even a long generation is one reply.
    await generate(BEDROCK_CLAUDE, GenerationConfig(max_tokens=64_000))
    assert bedrock.requests[0].path.endswith("/invoke")
    assert "stream" not in bedrock.requests[0].body


@pytest.mark.anyio
async def test_claude_on_bedrock_takes_a_bedrock_api_key(
    bedrock: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-0123456789")
    bedrock.aws_access_key = None
    await generate(BEDROCK_CLAUDE)
    assert bedrock.requests[0].headers["authorization"] == "Bearer bedrock-api-key-0123456789"


def test_claude_on_bedrock_needs_a_region() -> None:
    with pytest.raises(ProviderConfigError, match="needs an AWS region"):
        create_api(BEDROCK_CLAUDE, {}, None)


def test_aws_keys_are_not_model_args(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with pytest.raises(ProviderConfigError, match="aws_secret_key not accepted"):
        create_api(BEDROCK_CLAUDE, {"aws_secret_key": "x"}, None)


# ── anthropic/vertex ──────────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_claude_on_vertex_uses_application_default_credentials(
    tokens: GoogleTokenServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_VERTEX_PROJECT_ID", "eval-project")
    monkeypatch.setenv("CLOUD_ML_REGION", "us-east5")
    with AnthropicServer(anthropic_server.fixed("In the box."), access_token=TOKEN) as server:
        output = await generate(
            "anthropic/vertex/claude-sonnet-4-5@20250929",
            GenerationConfig(reasoning_tokens=1024),
            prompts=2,
            base_url=f"{server.base_url}/v1",
        )
    assert tokens.grants() == 1  # one token for both requests
    first, second = server.requests
    assert first.path == (
        "/v1/projects/eval-project/locations/us-east5/publishers/anthropic/models/"
        "claude-sonnet-4-5@20250929:rawPredict"
    )
    assert first.headers["authorization"] == second.headers["authorization"] == f"Bearer {TOKEN}"
    assert "model" not in first.body and first.body["anthropic_version"]
    assert first.body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert first.body["max_tokens"] == DEFAULT_MAX_TOKENS + 1024
    assert output.completion == "In the box."


@pytest.mark.anyio
async def test_claude_on_vertex_model_args_pick_project_and_region(
    tokens: GoogleTokenServer,
) -> None:
    with AnthropicServer(anthropic_server.fixed("ok"), access_token=TOKEN) as server:
        await generate(
            "anthropic/vertex/claude-haiku-4-5",
            model_args={"project_id": "other", "region": "europe-west1"},
            base_url=server.base_url,
        )
    assert server.requests[0].path == (
        "/projects/other/locations/europe-west1/publishers/anthropic/models/"
        "claude-haiku-4-5:rawPredict"
    )


@pytest.mark.anyio
async def test_vertex_errors_are_classified(tokens: GoogleTokenServer) -> None:
    exhausted = anthropic_server.Reply(
        status=429,
        body={"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}},
    )
    with AnthropicServer(anthropic_server.sequence([exhausted, "ok"])) as server:
        args = {"project_id": "p", "region": "us-east5"}
        output = await generate(
            "anthropic/vertex/claude-haiku-4-5", model_args=args, base_url=server.base_url
        )
        assert output.completion == "ok"
        server.responder = anthropic_server.sequence(
            [anthropic_server.Reply(status=403, body={"error": {"code": 403, "message": "denied"}})]
        )
        with pytest.raises(GenerateError) as caught:
            await generate(
                "anthropic/vertex/claude-haiku-4-5", model_args=args, base_url=server.base_url
            )
    assert "HTTP 403 from anthropic/vertex/claude-haiku-4-5: denied" in caught.value.reason
    assert "application-default credentials" in caught.value.reason


@pytest.mark.anyio
async def test_claude_on_vertex_streams_server_sent_events(tokens: GoogleTokenServer) -> None:
    with AnthropicServer(anthropic_server.fixed("In the box."), access_token=TOKEN) as server:
        output = await generate(
            "anthropic/vertex/claude-haiku-4-5",
            model_args={"project_id": "p", "region": "global", "stream": True},
            base_url=server.base_url,
        )
    request = server.requests[0]
    assert request.path.endswith("/models/claude-haiku-4-5:streamRawPredict")
    assert request.body["stream"] is True
    assert output.completion == "In the box."
    assert output.usage.output_tokens == 3


def test_claude_on_vertex_needs_a_project_and_region(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProviderConfigError, match="ANTHROPIC_VERTEX_PROJECT_ID or GOOGLE_CLOUD"):
        create_api("anthropic/vertex/claude-haiku-4-5", {}, None)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "p")
    with pytest.raises(ProviderConfigError, match="CLOUD_ML_REGION or GOOGLE_CLOUD_LOCATION"):
        create_api("anthropic/vertex/claude-haiku-4-5", {}, None)


def test_a_misspelt_platform_gets_a_did_you_mean() -> None:
    with pytest.raises(ProviderConfigError, match="did you mean 'anthropic/bedrock/…'"):
        create_api("anthropic/bedrok/claude", {}, None)
    with pytest.raises(ProviderConfigError, match="did you mean 'google/vertex/…'"):
        create_api("google/vertx/gemini-2.5-flash", {}, None)


# ── google/vertex ─────────────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_gemini_on_vertex_uses_the_vertex_route_and_adc(
    tokens: GoogleTokenServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "eval-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "europe-west4")
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-not-for-vertex-0123")
    with GeminiServer(gemini_server.fixed("In the box."), access_token=TOKEN) as server:
        monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", server.base_url)
        output = await generate(
            "google/vertex/gemini-2.5-flash",
            GenerationConfig(temperature=0.1, reasoning_tokens=0),
            prompts=2,
        )
    assert tokens.grants() == 1
    request = server.requests[0]
    assert request.path == (
        "/v1beta1/projects/eval-project/locations/europe-west4/publishers/google/models/"
        "gemini-2.5-flash:generateContent"
    )
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert "x-goog-api-key" not in request.headers
    assert request.body == {
        "contents": [{"role": "user", "parts": [{"text": "Where is the ball?"}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}], "role": "user"},
        # google-genai's Vertex converter sends this field in snake case (proto JSON takes both).
        "generationConfig": {"temperature": 0.1, "thinkingConfig": {"thinking_budget": 0}},
    }
    assert output.completion == "In the box."
    assert output.model == "gemini-2.5-flash"


@pytest.mark.anyio
async def test_gemini_on_vertex_errors_and_model_args(tokens: GoogleTokenServer) -> None:
    script = [gemini_server.rate_limited("0"), gemini_server.error(403, "Permission denied")]
    with (
        GeminiServer(gemini_server.sequence(script), access_token=TOKEN) as server,
        pytest.raises(GenerateError) as caught,
    ):
        await generate(
            "google/vertex/gemini-2.5-pro",
            model_args={"project": "p2", "location": "us-central1", "api_version": "v1"},
            base_url=server.base_url,
        )
    assert len(server.requests) == 2  # the 429 retried, the 403 fatal
    assert server.requests[0].path.startswith("/v1/projects/p2/locations/us-central1/")
    assert "HTTP 403 PERMISSION_DENIED from google/vertex/gemini-2.5-pro" in caught.value.reason
    assert "application-default credentials" in caught.value.reason


@pytest.mark.anyio
async def test_the_seeds_location_us_east5_reaches_vertex_through_inspects_flag(
    tokens: GoogleTokenServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`google/MODEL` with GOOGLE_GENAI_USE_VERTEXAI=true is Vertex AI, as in Inspect."""
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    with GeminiServer(gemini_server.fixed("ok"), access_token=TOKEN) as server:
        await generate(
            "google/gemini-2.5-flash",
            model_args={"project": "p", "location": "us-east5"},
            base_url=server.base_url,
        )
    assert server.requests[0].path.startswith("/v1beta1/projects/p/locations/us-east5/")


@pytest.mark.parametrize(
    ("model", "args", "message"),
    [
        ("google/gemini-2.5-flash", {"location": "us-east5"}, "use google/vertex/gemini-2.5-flash"),
        ("google/gemini-2.5-flash", {"project": "p"}, "the Gemini API has no project"),
        ("google/gemini-2.5-flash", {"debug_config": "x"}, "accepted: api_version, safety"),
        ("google/gemini-2.5-flash", {"use_adc": True}, "use_adc not accepted"),
        ("google/vertex/gemini-2.5-flash", {"project": "p", "debug_config": "x"}, "from ADC"),
    ],
)
def test_gemini_client_args_are_passed_or_refused_cleanly(
    model: str, args: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-test")
    with pytest.raises(ProviderConfigError, match=message):
        create_api(model, args, None)


def test_gemini_on_vertex_needs_a_project() -> None:
    with pytest.raises(ProviderConfigError, match=r"model_args.project or .*GOOGLE_CLOUD_PROJECT"):
        create_api("google/vertex/gemini-2.5-flash", {}, None)


@pytest.mark.anyio
async def test_gemini_on_vertex_streams(tokens: GoogleTokenServer) -> None:
    with GeminiServer(gemini_server.fixed("In the box."), access_token=TOKEN) as server:
        output = await generate(
            "google/vertex/gemini-2.5-flash",
            model_args={"project": "p", "location": "us-central1", "stream": True},
            base_url=server.base_url,
        )
    assert server.requests[0].path == (
        "/v1beta1/projects/p/locations/us-central1/publishers/google/models/"
        "gemini-2.5-flash:streamGenerateContent"
    )
    assert output.completion == "In the box."


@pytest.mark.anyio
async def test_claude_on_a_platform_gets_image_bytes_and_refuses_image_urls(
    bedrock: AnthropicServer, tmp_path: Path
) -> None:
    """Bedrock (and Vertex) take no `url` image source: bytes go as base64, a URL fails the
    sample before anything is sent."""
    picture = tmp_path / "dot.png"
    picture.write_bytes(PNG)
    hub = ModelHub(FAST)
    try:
        model = hub.get(BEDROCK_CLAUDE, GenerationConfig())
        await model.generate([user([ContentText("What is it?"), ContentImage(vet_file(picture))])])
        with pytest.raises(GenerateError, match="takes images as bytes, not URLs"):
            await model.generate([user([ContentImage("https://example.com/dot.png")])])
    finally:
        await hub.aclose()
    [request] = bedrock.requests
    image = request.body["messages"][0]["content"][1]
    assert image == {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": "image/png",
            "data": base64.b64encode(PNG).decode(),
        },
    }


def test_a_missing_cloud_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else real(name, *a)
    )
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for model in (BEDROCK_CLAUDE, "bedrock/amazon.nova-pro-v1:0"):
        with pytest.raises(ProviderConfigError, match=r'pip install "inspect-run\[bedrock\]"'):
            create_api(model, {}, None)


@pytest.mark.anyio
async def test_platforms_without_batch_apis_send_one_by_one_under_batch_on(
    bedrock: AnthropicServer, tokens: GoogleTokenServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Message Batches are not on Bedrock or Vertex, nor inlined Gemini batches on Vertex: with
    `batch=on` their requests still go, one by one, to the platform's own route."""
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "p")
    with GeminiServer(gemini_server.fixed("ok"), access_token=TOKEN) as gemini:
        monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", gemini.base_url)
        hub = ModelHub(FAST, batch=BatchConfig(enabled=True, size=2, send_delay=0))
        try:
            for name in (BEDROCK_CLAUDE, "google/vertex/gemini-2.5-flash"):
                model = hub.get(name, GenerationConfig())
                assert model.batcher is None
                assert (await model.generate([user("hi")])).completion
        finally:
            await hub.aclose()
    assert [r.path for r in bedrock.requests] == [
        "/model/anthropic.claude-3-5-haiku-20241022-v1:0/invoke"
    ]
    assert [r.path.rsplit(":", 1)[-1] for r in gemini.requests] == ["generateContent"]
    assert hub.notes == [
        "anthropic/bedrock has no batch API: its requests are sent one by one",
        "google/vertex has no batch API: its requests are sent one by one",
    ]
