"""A task whose samples carry an image, from the command line: each provider receives the image in
its own format, and a model that cannot read images is refused before any request."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.providers.test_multimodal import png_bytes
from tests.support import anthropic_server, gemini_server, openai_server
from tests.test_cli import run_cli


@pytest.fixture
def vision_task(tmp_path: Path) -> Path:
    """A user's own task (YAML in ./conf) over a JSONL whose input holds a local image."""
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes())
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "conf" / "task" / "vision.yaml").write_text(
        "name: vision\n"
        "description: Name the animal in the picture.\n"
        "dataset: {path: vision.jsonl}\n"
        "scorers: [includes]\n"
    )
    content = [{"type": "text", "text": "Which animal?"}, {"type": "image", "image": image.name}]
    record = {"id": "cat-1", "input": [{"role": "user", "content": content}], "target": "cat"}
    (tmp_path / "vision.jsonl").write_text(json.dumps(record) + "\n")
    return tmp_path


def encoded() -> str:
    return base64.b64encode(png_bytes()).decode()


def openai_image(request: openai_server.Request) -> Any:
    return request.messages[0]["content"][1]


def anthropic_image(request: anthropic_server.Request) -> Any:
    return request.messages[0]["content"][1]


def gemini_image(request: gemini_server.Request) -> Any:
    return request.body["contents"][0]["parts"][1]


CASES: list[tuple[str, Callable[[], Any], str, dict[str, str], Callable[[Any], Any], Any]] = [
    (
        "openai/gpt-4o-mini",
        lambda: openai_server.OpenAIServer(openai_server.fixed("a cat")),
        "OPENAI",
        {"OPENAI_API_KEY": "sk-test"},
        openai_image,
        {
            "type": "image_url",
            "image_url": {"url": f"data:image/png;base64,{encoded()}", "detail": "auto"},
        },
    ),
    (
        "anthropic/claude-sonnet-4-5",
        lambda: anthropic_server.AnthropicServer(anthropic_server.fixed("a cat")),
        "ANTHROPIC",
        {"ANTHROPIC_API_KEY": "sk-ant-test"},
        anthropic_image,
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": encoded()},
        },
    ),
    (
        "google/gemini-2.5-flash",
        lambda: gemini_server.GeminiServer(gemini_server.fixed("a cat")),
        "GOOGLE",
        {"GOOGLE_API_KEY": "google-test"},
        gemini_image,
        {"inlineData": {"data": encoded(), "mime_type": "image/png"}},
    ),
]


@pytest.mark.parametrize(
    ("model", "serve", "prefix", "env", "image_of", "expected"),
    CASES,
    ids=[case[0].split("/")[0] for case in CASES],
)
def test_the_image_reaches_each_provider_in_its_format(
    vision_task: Path,
    model: str,
    serve: Callable[[], Any],
    prefix: str,
    env: dict[str, str],
    image_of: Callable[[Any], Any],
    expected: Any,
) -> None:
    with serve() as server:
        done = run_cli(
            "task=vision",
            f"model={model}",
            "display=none",
            cwd=vision_task,
            env={**env, f"{prefix}_BASE_URL": server.base_url},
        )
        requests = [r for r in server.requests if r.method == "POST"]
    assert done.returncode == 0, done.stderr
    [request] = requests
    assert image_of(request) == expected


def test_a_model_that_cannot_read_images_is_refused_before_any_request(vision_task: Path) -> None:
    with openai_server.OpenAIServer(openai_server.fixed("a cat")) as server:
        done = run_cli(
            "task=vision",
            "model=deepseek/deepseek-chat",
            "display=none",
            cwd=vision_task,
            env={"DEEPSEEK_API_KEY": "sk-test", "DEEPSEEK_BASE_URL": server.base_url},
        )
        seen = server.requests
    assert done.returncode == 2
    assert (
        "model [command line: model=deepseek/deepseek-chat]: deepseek/deepseek-chat cannot take image input"
        in done.stderr
    )
    assert "first in sample 'cat-1'" in done.stderr
    assert seen == []
