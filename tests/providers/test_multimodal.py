"""Images, audio and video reach each provider in its own wire format, and reasoning comes back
apart from the answer. The real SDKs talk to local servers; we assert on the bodies they sent."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.config import ConnectionConfig, GenerationConfig
from engine.messages import (
    ChatMessage,
    ContentAudio,
    ContentImage,
    ContentReasoning,
    ContentText,
    ContentVideo,
    ModelOutput,
    assistant,
    user,
    vet_file,
)
from tests.providers._hub import generate_once
from tests.support import anthropic_server, gemini_server, openai_server

FAST = ConnectionConfig(backoff_base=0.01, backoff_max=0.05, max_retries=1, attempt_timeout=5.0)
URL = "https://example.com/cat.jpg"


def png_bytes() -> bytes:
    """A real 1×1 PNG, built here rather than shipped."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def image_file(tmp_path: Path) -> Path:
    path = tmp_path / "cat.png"
    path.write_bytes(png_bytes())
    return path


@pytest.fixture
def encoded() -> str:
    return base64.b64encode(png_bytes()).decode()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("OPENAI_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    yield


async def ask(
    model: str,
    messages: list[ChatMessage],
    generation: GenerationConfig | None = None,
) -> ModelOutput:
    output, _ = await generate_once(model, messages, generation, connection=FAST)
    return output


def question(image_file: Path) -> ChatMessage:
    return user(
        [
            ContentText("Which animals?"),
            ContentImage(vet_file(image_file), "low"),
            ContentImage(URL),
        ]
    )


# ── OpenAI and the compatible services ────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_openai_gets_image_url_parts_with_files_as_data_uris(
    monkeypatch: pytest.MonkeyPatch, image_file: Path, encoded: str
) -> None:
    with openai_server.OpenAIServer(openai_server.fixed("a cat")) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        output = await ask("openai/gpt-4o-mini", [question(image_file)])
        [request] = server.chat_requests()

    assert request.messages == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Which animals?"},
                {
                    "type": "image_url",
                    "image_url": {"url": f"data:image/png;base64,{encoded}", "detail": "low"},
                },
                {"type": "image_url", "image_url": {"url": URL, "detail": "auto"}},
            ],
        }
    ]
    assert output.completion == "a cat"


@pytest.mark.anyio
async def test_openai_gets_input_audio_and_vllm_video_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.wav"
    clip.write_bytes(b"RIFF0000WAVEfmt ")
    video = "data:video/mp4;base64,AAAA"
    with openai_server.OpenAIServer(openai_server.fixed("ok")) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("VLLM_BASE_URL", server.base_url)
        await ask("openai/gpt-4o-audio-preview", [user([ContentAudio(vet_file(clip), "wav")])])
        await ask("vllm/Qwen/Qwen2.5-VL-7B", [user([ContentVideo(video)])])
        audio_request, video_request = server.chat_requests()

    [audio_part] = audio_request.messages[0]["content"]
    assert audio_part == {
        "type": "input_audio",
        "input_audio": {"data": base64.b64encode(clip.read_bytes()).decode(), "format": "wav"},
    }
    assert video_request.messages[0]["content"] == [
        {"type": "video_url", "video_url": {"url": video}}
    ]


@pytest.mark.anyio
async def test_compatible_reasoning_content_is_kept_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    def reply(request: openai_server.Request) -> openai_server.Reply:
        body = openai_server.chat_completion(request, "42")
        body["choices"][0]["message"]["reasoning_content"] = "six times seven"
        return openai_server.Reply(body=body)

    with openai_server.OpenAIServer(reply) as server:
        monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-test")
        monkeypatch.setenv("DEEPSEEK_BASE_URL", server.base_url)
        output = await ask("deepseek/deepseek-reasoner", [user("6*7?")])

    assert output.completion == "42"
    assert output.message.reasoning == "six times seven"
    assert output.message.to_log()["content"][0] == {
        "type": "reasoning",
        "reasoning": "six times seven",
        "signature": None,
        "redacted": False,
    }


# ── Anthropic ─────────────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch) -> Iterator[anthropic_server.AnthropicServer]:
    with anthropic_server.AnthropicServer(anthropic_server.fixed("a cat")) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        yield server


@pytest.mark.anyio
async def test_anthropic_gets_image_blocks(
    claude: anthropic_server.AnthropicServer, image_file: Path, encoded: str
) -> None:
    await ask("anthropic/claude-sonnet-4-5", [question(image_file)])

    [request] = claude.message_requests()
    assert request.messages == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Which animals?"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": encoded},
                },
                {"type": "image", "source": {"type": "url", "url": URL}},
            ],
        }
    ]


@pytest.mark.anyio
async def test_anthropic_thinking_comes_back_as_reasoning_and_goes_back_signed(
    claude: anthropic_server.AnthropicServer,
) -> None:
    def reply(request: anthropic_server.Request) -> anthropic_server.Reply:
        body = anthropic_server.message(request, "The basket.", thinking="Sally did not see.")
        body["content"].insert(0, {"type": "redacted_thinking", "data": "EmwKAhgB"})
        return anthropic_server.Reply(body=body)

    claude.responder = reply
    first = await ask("anthropic/claude-sonnet-4-5", [user("Where will Sally look?")])
    assert first.completion == "The basket."
    assert first.message.content == [
        ContentReasoning("EmwKAhgB", redacted=True),
        ContentReasoning("Sally did not see.", "c2lnbmF0dXJl"),
        ContentText("The basket."),
    ]

    await ask(
        "anthropic/claude-sonnet-4-5",
        [user("Where will Sally look?"), first.message, user("Why?")],
        GenerationConfig(reasoning_tokens=1024),
    )
    turn = claude.message_requests()[-1].messages[1]
    assert turn == {
        "role": "assistant",
        "content": [
            {"type": "redacted_thinking", "data": "EmwKAhgB"},
            {"type": "thinking", "thinking": "Sally did not see.", "signature": "c2lnbmF0dXJl"},
            {"type": "text", "text": "The basket."},
        ],
    }


@pytest.mark.anyio
async def test_unsigned_reasoning_from_another_provider_is_not_sent_to_anthropic(
    claude: anthropic_server.AnthropicServer,
) -> None:
    earlier = assistant([ContentReasoning("thinking elsewhere"), ContentText("42")])
    await ask("anthropic/claude-sonnet-4-5", [user("6*7?"), earlier, user("Sure?")])

    turn = claude.message_requests()[-1].messages[1]
    assert turn == {"role": "assistant", "content": [{"type": "text", "text": "42"}]}


@pytest.mark.anyio
async def test_a_turn_with_nothing_to_send_is_left_out_for_anthropic(
    claude: anthropic_server.AnthropicServer,
) -> None:
    silent = assistant([ContentReasoning("thinking elsewhere"), ContentText("")])
    output = await ask(
        "anthropic/claude-sonnet-4-5", [user("6*7?"), silent, assistant(""), user("Well?")]
    )

    assert output.completion == "a cat"
    assert claude.message_requests()[-1].messages == [
        {"role": "user", "content": "6*7?"},
        {"role": "user", "content": "Well?"},
    ]


# ── Google ────────────────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def gemini(monkeypatch: pytest.MonkeyPatch) -> Iterator[gemini_server.GeminiServer]:
    with gemini_server.GeminiServer(gemini_server.fixed("a cat")) as server:
        monkeypatch.setenv("GOOGLE_API_KEY", "google-test")
        monkeypatch.setenv("GOOGLE_BASE_URL", server.base_url)
        yield server


def user_parts(request: gemini_server.Request) -> list[dict[str, Any]]:
    [content] = request.body["contents"]
    assert content["role"] == "user"
    parts: list[dict[str, Any]] = content["parts"]
    return parts


@pytest.mark.anyio
async def test_gemini_gets_inline_data_and_file_data(
    gemini: gemini_server.GeminiServer, image_file: Path, encoded: str
) -> None:
    video = "data:video/mp4;base64,AAAA"
    message = question(image_file)
    assert isinstance(message.content, list)
    await ask("google/gemini-2.5-flash", [user([*message.content, ContentVideo(video)])])

    [request] = gemini.requests
    # google-genai 3.x names the blob fields in snake case inside camel-case parts; the API's
    # proto-JSON parser takes both spellings.
    assert user_parts(request) == [
        {"text": "Which animals?"},
        {"inlineData": {"data": encoded, "mime_type": "image/png"}},
        {"fileData": {"file_uri": URL, "mime_type": "image/jpeg"}},
        {"inlineData": {"data": "AAAA", "mime_type": "video/mp4"}},
    ]


@pytest.mark.anyio
async def test_gemini_thoughts_come_back_as_reasoning(gemini: gemini_server.GeminiServer) -> None:
    def answer(request: gemini_server.Request) -> gemini_server.Reply:
        return gemini_server.Reply(
            body=gemini_server.generate_content(request, "42", thought="six times seven is")
        )

    gemini.responder = answer
    output = await ask("google/gemini-2.5-flash", [user("6*7?")])

    assert output.completion == "42"
    assert output.message.reasoning == "six times seven is"


@pytest.mark.anyio
async def test_an_unreadable_image_fails_the_call_naming_the_file(
    gemini: gemini_server.GeminiServer, tmp_path: Path
) -> None:
    from engine.providers import GenerateError

    missing = tmp_path / "gone.png"
    with pytest.raises(GenerateError, match=r"cannot read media file .*gone\.png"):
        await ask("google/gemini-2.5-flash", [user([ContentImage(vet_file(missing))])])
    assert gemini.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize("model", ["google/gemini-2.5-flash", "openai/gpt-4o-mini"])
async def test_a_file_no_dataset_vetted_is_never_read_nor_sent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model: str
) -> None:
    """Defence in depth: a path that reached a provider without the dataset layer's check (a
    message built in code, a hook) is refused before any request, /proc files included."""
    from engine.providers import GenerateError

    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes())
    with (
        openai_server.OpenAIServer(openai_server.fixed("no")) as openai,
        gemini_server.GeminiServer(gemini_server.fixed("no")) as gemini,
    ):
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", openai.base_url)
        monkeypatch.setenv("GOOGLE_API_KEY", "google-test")
        monkeypatch.setenv("GOOGLE_BASE_URL", gemini.base_url)
        for source in (str(secret), "/proc/self/environ", "~/.bashrc"):
            with pytest.raises(GenerateError, match="was not checked against the task directories"):
                await ask(model, [user([ContentImage(source)])])
        assert openai.requests == [] and gemini.requests == []
