"""Structured output end to end: each provider's request field, and the validation record of the
reply, through the real SDKs against local wire-protocol servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from engine.config import ConnectionConfig, GenerationConfig, ResponseSchema
from engine.messages import ModelOutput, user
from engine.models import ModelHub
from engine.providers import create_api
from tests.providers._hub import generate_once
from tests.support.anthropic_server import AnthropicServer
from tests.support.gemini_server import GeminiServer
from tests.support.openai_server import OpenAIServer, fixed

FAST = ConnectionConfig(backoff_base=0.01, backoff_max=0.05, max_retries=1, attempt_timeout=5.0)

SCHEMA = ResponseSchema(
    name="city",
    description="A city and its population",
    json_schema={
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
        "additionalProperties": False,
    },
)
WITH_SCHEMA = GenerationConfig(response_schema=SCHEMA)
VALID = '{"city": "Paris", "population": 2100000}'
INVALID = '{"city": "Paris", "population": "about two million"}'


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    with OpenAIServer(fixed(VALID)) as running:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-test")
        monkeypatch.setenv("DEEPSEEK_BASE_URL", running.base_url)
        monkeypatch.setenv("LLAMA_CPP_PYTHON_BASE_URL", running.base_url)
        yield running


async def generate(model: str, generation: GenerationConfig = WITH_SCHEMA) -> ModelOutput:
    prompt = [user("The largest French city?")]
    output, _ = await generate_once(model, prompt, generation, connection=FAST)
    return output


# ── validation of the reply ───────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_a_conforming_reply_is_recorded_valid(openai_server: OpenAIServer) -> None:
    output = await generate("openai/gpt-4o-mini")

    assert output.metadata == {"response_schema": {"name": "city", "valid": True}}
    assert output.to_log()["metadata"] == output.metadata  # so it shows in the sample's log


@pytest.mark.anyio
async def test_a_reply_breaking_the_schema_is_recorded_with_the_reason(
    openai_server: OpenAIServer,
) -> None:
    openai_server.responder = fixed(INVALID)

    output = await generate("openai/gpt-4o-mini")

    # Not an error: the reply stays for the scorers, the verdict says what is wrong and where.
    assert output.error is None and output.completion == INVALID
    assert output.metadata == {
        "response_schema": {
            "name": "city",
            "valid": False,
            "error": "'about two million' is not of type 'integer' (at /population)",
        }
    }


@pytest.mark.anyio
async def test_a_reply_that_is_not_json_is_recorded_invalid(openai_server: OpenAIServer) -> None:
    openai_server.responder = fixed("Paris, about two million people")

    output = await generate("openai/gpt-4o-mini")

    verdict = output.metadata["response_schema"] if output.metadata else {}
    assert verdict["valid"] is False
    assert verdict["error"].startswith("not JSON: Expecting value")


@pytest.mark.anyio
async def test_a_schema_ref_that_cannot_be_resolved_keeps_the_reply(
    openai_server: OpenAIServer,
) -> None:
    remote = ResponseSchema(name="city", json_schema={"$ref": "https://127.0.0.1:9/city.json"})

    output = await generate("openai/gpt-4o-mini", GenerationConfig(response_schema=remote))

    assert output.completion == VALID
    verdict = output.metadata["response_schema"] if output.metadata else {}
    assert verdict["valid"] is False
    assert "$ref cannot be resolved" in verdict["error"]
    assert "https://127.0.0.1:9/city.json" in verdict["error"]


@pytest.mark.anyio
async def test_no_schema_no_record(openai_server: OpenAIServer) -> None:
    output = await generate("openai/gpt-4o-mini", GenerationConfig())

    assert output.metadata is None
    assert "response_format" not in openai_server.requests[0].body


@pytest.mark.anyio
async def test_a_schema_given_per_call_is_sent_and_checked(openai_server: OpenAIServer) -> None:
    """As a `generate` step's override: merged over the model's own settings, kept typed."""
    hub = ModelHub(FAST)
    try:
        model = hub.get("openai/gpt-4o-mini", GenerationConfig(temperature=0))
        output = await model.generate([user("The largest French city?")], WITH_SCHEMA)
    finally:
        await hub.aclose()

    body = openai_server.requests[0].body
    assert body["temperature"] == 0
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA.json_schema
    assert output.metadata == {"response_schema": {"name": "city", "valid": True}}


def test_a_broken_json_schema_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="not a valid JSON Schema: 'strng' is not valid"):
        ResponseSchema(
            name="x", json_schema={"type": "object", "properties": {"a": {"type": "strng"}}}
        )


# ── what each provider sends ──────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_openai_sends_response_format_json_schema(openai_server: OpenAIServer) -> None:
    await generate("openai/gpt-4o-mini")

    assert openai_server.requests[0].body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "city",
            "schema": SCHEMA.json_schema,
            "strict": True,
            "description": "A city and its population",
        },
    }


@pytest.mark.anyio
async def test_a_service_without_structured_output_is_not_sent_it_but_still_validates(
    openai_server: OpenAIServer,
) -> None:
    openai_server.responder = fixed(INVALID)

    output = await generate("deepseek/deepseek-chat")

    assert "response_format" not in openai_server.requests[0].body
    assert create_api("deepseek/deepseek-chat", {}, None).unsupported(WITH_SCHEMA) == [
        "response_schema"
    ]
    assert output.metadata is not None and output.metadata["response_schema"]["valid"] is False


@pytest.mark.anyio
async def test_a_llama_cpp_server_gets_its_own_json_object_shape(
    openai_server: OpenAIServer,
) -> None:
    output = await generate("llama-cpp-python/SmolLM2-135M-Instruct")

    # llama-cpp-python's server refuses `json_schema`; it builds a grammar from this shape.
    assert openai_server.requests[0].body["response_format"] == {
        "type": "json_object",
        "schema": SCHEMA.json_schema,
    }
    assert output.metadata == {"response_schema": {"name": "city", "valid": True}}


def _anthropic_reply(text: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 6},
    }


@pytest.mark.anyio
@pytest.mark.parametrize(("reply", "valid"), [(VALID, True), (INVALID, False)])
async def test_anthropic_sends_output_config_format(
    monkeypatch: pytest.MonkeyPatch, reply: str, valid: bool
) -> None:
    from tests.support.openai_server import Reply

    with AnthropicServer(lambda request: Reply(body=_anthropic_reply(reply))) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        output = await generate("anthropic/claude-sonnet-4-5")

    [request] = server.requests
    assert "anthropic-beta" not in request.headers  # generally available, no beta header
    assert request.body["output_config"] == {
        "format": {"type": "json_schema", "schema": SCHEMA.json_schema}
    }
    assert output.metadata is not None
    assert output.metadata["response_schema"]["valid"] is valid


@pytest.mark.anyio
@pytest.mark.parametrize(("reply", "valid"), [(VALID, True), (INVALID, False)])
async def test_google_sends_a_json_mime_type_and_schema(
    monkeypatch: pytest.MonkeyPatch, reply: str, valid: bool
) -> None:
    with GeminiServer(lambda request: reply) as server:
        monkeypatch.setenv("GOOGLE_API_KEY", "g-test")
        monkeypatch.setenv("GOOGLE_BASE_URL", server.base_url)
        output = await generate("google/gemini-2.5-flash")

    config = server.requests[0].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == SCHEMA.json_schema
    assert output.metadata is not None
    assert output.metadata["response_schema"]["valid"] is valid


def test_the_verdict_is_in_each_samples_log_and_scorers_still_see_the_reply(
    tmp_path: Path,
) -> None:
    from inspect_ai.log import read_eval_log

    from tests.test_cli import run_cli, the_log

    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "cities.jsonl").write_text(
        '{"id": "fr", "input": "France?", "target": "Paris"}\n'
        '{"id": "de", "input": "Germany?", "target": "Berlin"}\n'
    )
    (tmp_path / "conf" / "task" / "cities.yaml").write_text(
        "name: cities\ndataset: {path: cities.jsonl}\nscorers: [{match: {location: any}}]\n"
    )
    replies = {"France?": VALID, "Germany?": '{"city": "Berlin"}'}
    with OpenAIServer(lambda request: replies[request.messages[-1]["content"]]) as server:
        done = run_cli(
            "task=cities",
            "model=openai/gpt-4o-mini",
            "generation.response_schema={name: city, json_schema: {type: object, "
            "properties: {city: {type: string}}, required: [city, population]}}",
            "display=none",
            cwd=tmp_path,
            env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url},
        )
        sent = server.chat_requests()

    assert done.returncode == 0, done.stderr
    assert all(r.body["response_format"]["type"] == "json_schema" for r in sent)
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.samples is not None
    verdicts = {sample.id: sample.output.metadata for sample in log.samples}
    assert verdicts == {
        "fr": {"response_schema": {"name": "city", "valid": True}},
        "de": {
            "response_schema": {
                "name": "city",
                "valid": False,
                "error": "'population' is a required property",
            }
        },
    }
    # The invalid reply was scored like any other: it names the right city.
    assert {s.id: s.scores["match"].value for s in log.samples if s.scores} == {
        "fr": "C",
        "de": "C",
    }
