"""`azureai/MODEL`: the real openai SDK on the Azure AI model-inference API, against a local
chat-completions server. We assert the route, `api-version`, the `api-key` header (and no bearer
token), the body, `extra-parameters` pass-through, images, and how errors and retries are read.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.config import GenerationConfig
from engine.messages import ContentImage, ContentText, ModelOutput, system, user, vet_file
from engine.models import ModelHub
from engine.providers import GenerateError, ProviderConfigError, create_api
from tests.providers._hub import FAST, generate_once
from tests.support.azure_identity_server import ManagedIdentityServer
from tests.support.openai_server import (
    OpenAIServer,
    error,
    fixed,
    rate_limited,
    sequence,
)

KEY = "azure-ai-key-0123456789abcdef"
MODEL = "azureai/Llama-3.3-70B-Instruct"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    with OpenAIServer(fixed("Four."), api_key=KEY) as running:
        monkeypatch.setenv("AZUREAI_ENDPOINT_URL", f"{running.url}/models")
        monkeypatch.setenv("AZUREAI_ENDPOINT_KEY", KEY)
        yield running


async def generate(
    generation: GenerationConfig | None = None,
    *,
    messages: list[Any] | None = None,
    model_args: dict[str, Any] | None = None,
) -> ModelOutput:
    prompt = messages or [system("Be brief."), user("2+2?")]
    output, _ = await generate_once(MODEL, prompt, generation, model_args=model_args)
    return output


@pytest.mark.anyio
async def test_sends_a_model_inference_request_with_the_api_key_header(
    server: OpenAIServer,
) -> None:
    output = await generate(GenerationConfig(max_tokens=100, temperature=0.3, seed=7))

    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/models/chat/completions")
    assert request.query == {"api-version": "2024-05-01-preview"}
    assert request.headers["api-key"] == KEY
    assert "authorization" not in request.headers
    assert "extra-parameters" not in request.headers
    assert request.body == {
        "model": "Llama-3.3-70B-Instruct",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "2+2?"},
        ],
        "max_tokens": 100,
        "temperature": 0.3,
        "seed": 7,
    }
    assert output.completion == "Four."
    assert output.usage.input_tokens == 3 and output.usage.output_tokens == 1


@pytest.mark.anyio
async def test_parameters_outside_the_spec_are_passed_through(server: OpenAIServer) -> None:
    generation = GenerationConfig(
        top_k=20, reasoning_effort="low", extra_body={"safe_prompt": True}
    )
    await generate(generation, model_args={"api_version": "2025-05-01"})

    [request] = server.requests
    assert request.headers["extra-parameters"] == "pass-through"
    assert request.query == {"api-version": "2025-05-01"}
    assert request.body["top_k"] == 20
    assert request.body["reasoning_effort"] == "low"
    assert request.body["safe_prompt"] is True


@pytest.mark.anyio
async def test_images_are_image_url_parts(server: OpenAIServer, tmp_path: Path) -> None:
    picture = tmp_path / "dot.png"
    picture.write_bytes(PNG)
    await generate(messages=[user([ContentText("What is it?"), ContentImage(vet_file(picture))])])

    [message] = server.requests[0].messages
    data_uri = f"data:image/png;base64,{base64.b64encode(PNG).decode()}"
    assert message["content"] == [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": {"url": data_uri, "detail": "auto"}},
    ]


@pytest.mark.anyio
async def test_rate_limits_are_retried_and_auth_errors_are_fatal(server: OpenAIServer) -> None:
    server.responder = sequence([rate_limited("0"), error(503), "ok"])
    assert (await generate()).completion == "ok"
    assert len(server.requests) == 3

    server.responder = sequence([error(401, "Access denied due to invalid subscription key.")])
    with pytest.raises(GenerateError) as caught:
        await generate()
    assert caught.value.reason.startswith(
        f"HTTP 401 from {MODEL}: Access denied due to invalid subscription key."
    )
    assert len(server.requests) == 4


@pytest.mark.anyio
async def test_a_wrong_key_is_refused_by_the_endpoint(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZUREAI_ENDPOINT_KEY", "another-key-0000000000")
    with pytest.raises(GenerateError, match="HTTP 401"):
        await generate()
    assert server.requests[0].headers["api-key"] == "another-key-0000000000"


def test_the_litellm_spellings_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_AI_API_BASE", "https://res.services.ai.azure.com/models")
    monkeypatch.setenv("AZURE_AI_API_KEY", KEY)
    api = create_api(MODEL, {}, None)
    assert api.base_url == "https://res.services.ai.azure.com/models"


def test_a_missing_endpoint_is_a_config_error() -> None:
    with pytest.raises(ProviderConfigError, match="needs an endpoint: set AZUREAI_ENDPOINT_URL"):
        create_api(MODEL, {}, None)


@pytest.mark.anyio
async def test_without_a_key_an_entra_token_is_the_bearer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No key: DefaultAzureCredential finds a managed identity (served locally) and its token
    goes in `Authorization: Bearer`, fetched once for several requests."""
    token = "entra-access-token-0123456789"
    with (
        ManagedIdentityServer(token) as identity,
        OpenAIServer(fixed("ok"), api_key=token) as server,
    ):
        for name, value in identity.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AZUREAI_ENDPOINT_URL", f"{server.url}/models")
        hub = ModelHub(FAST)
        try:
            model = hub.get(MODEL, GenerationConfig())
            for _ in range(2):
                assert (await model.generate([user("hi")])).completion == "ok"
        finally:
            await hub.aclose()
    first, second = server.requests
    assert first.headers["authorization"] == second.headers["authorization"] == f"Bearer {token}"
    assert "api-key" not in first.headers
    assert first.query == {"api-version": "2024-05-01-preview"}
    [fetched] = identity.token_requests()
    assert fetched.query["resource"] == "https://cognitiveservices.azure.com"
