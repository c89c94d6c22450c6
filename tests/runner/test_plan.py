"""Planning: unsupported generation settings are warned once; dataset images are checked once."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import read_eval_log

from engine.config import ConfigError, compose_config
from engine.messages import ContentImage
from engine.runner import build_plan
from tests.support.hub_fixtures import png_bytes
from tests.support.openai_server import OpenAIServer, fixed
from tests.test_cli import run_cli, the_log


def test_unsupported_settings_are_warned_once_per_model_and_field_and_logged(
    tmp_path: Path,
) -> None:
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "qa.jsonl").write_text(
        '{"input": "2+2?", "target": "4"}\n{"input": "3+3?", "target": "6"}\n'
    )
    # The `generate` step overrides a setting for the model under test.
    (tmp_path / "conf" / "task" / "qa.yaml").write_text(
        "name: qa\ndataset: {path: qa.jsonl}\n"
        "solvers: [{generate: {top_k: 3}}]\nscorers: [model_graded_fact]\n"
    )
    with OpenAIServer(fixed("4\nGRADE: C")) as server:
        done = run_cli(
            "task=qa",
            "model=openai/m",
            "generation.reasoning_tokens=64",
            # The grader is the same model with its own settings: the same (model, field) pairs.
            "roles.grader={model: 'openai/m', generation: {reasoning_tokens: 64, top_k: 2}}",
            "roles.critic={model: 'deepseek/judge', generation: "
            "{response_schema: {name: verdict, json_schema: {type: object}}}}",
            "display=plain",
            cwd=tmp_path,
            env={
                "OPENAI_API_KEY": "sk-test",
                "OPENAI_BASE_URL": server.base_url,
                "DEEPSEEK_API_KEY": "sk-test",
                "DEEPSEEK_BASE_URL": server.base_url,
            },
        )
        sent = server.chat_requests()

    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "ignores generation settings" in line]
    assert warnings == [
        "openai/m ignores generation settings: reasoning_tokens, top_k",
        "deepseek/judge ignores generation settings: response_schema",
    ]
    assert len(sent) == 4  # two answers, two grades: run, not stopped by the warnings
    assert not any({"top_k", "reasoning_effort", "reasoning_tokens"} & set(r.body) for r in sent)

    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.eval.metadata is not None
    assert log.eval.metadata["inspect_run"]["unsupported_generation"] == {
        "openai/m": ["reasoning_tokens", "top_k"],
        "deepseek/judge": ["response_schema"],
    }


def test_nothing_unsupported_logs_an_empty_mapping(tmp_path: Path) -> None:
    with OpenAIServer(fixed("GRADE: C")) as server:
        done = run_cli(
            "model=openai/m",
            "limit=1",
            "display=none",
            cwd=tmp_path,
            env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url},
        )
    assert done.returncode == 0, done.stderr
    assert "ignores generation settings" not in done.stderr
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.eval.metadata is not None
    assert log.eval.metadata["inspect_run"]["unsupported_generation"] == {}


def vision_task(root: Path, images: dict[str, bytes]) -> None:
    """A task `pics` whose samples each show one of `images` (file name → bytes)."""
    (root / "conf" / "task").mkdir(parents=True)
    (root / "img").mkdir()
    lines = []
    for name, data in images.items():
        (root / "img" / name).write_bytes(data)
        lines.append(json.dumps({"input": "Colour?", "target": "red", "pics": f"img/{name}"}))
    (root / "pics.jsonl").write_text("\n".join(lines) + "\n")
    (root / "conf" / "task" / "pics.yaml").write_text(
        "name: pics\ndataset: {path: pics.jsonl, fields: {images: pics}}\n"
    )


def count_resizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size of each image Pillow is asked to scale down, from now on."""
    from PIL import Image

    resized: list[tuple[int, int]] = []
    thumbnail = Image.Image.thumbnail

    def counted(image: Image.Image, size: tuple[int, int], *args: Any, **kwargs: Any) -> None:
        resized.append(image.size)
        thumbnail(image, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "thumbnail", counted)
    return resized


def test_planning_checks_images_without_resizing_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    resized = count_resizes(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    vision_task(tmp_path, {f"{n}.png": png_bytes(2048, 1024, (n, 0, 0)) for n in range(3)})
    plan = build_plan(compose_config(["model=openai/m", "task=pics"]))
    assert len(plan.samples) == 3 and plan.samples.media == {"image": 1}
    assert resized == []  # the plan-time pass decoded and resized nothing
    parts = [s.input[0].content[1] for s in plan.samples if not isinstance(s.input, str)]
    assert resized == [(2048, 1024)] * 3  # once per sample, when the samples are read to run
    again = [s.input[0].content[1] for s in plan.samples if not isinstance(s.input, str)]
    assert again == parts and len(resized) == 3  # a second epoch reuses the resized images
    for part in parts:
        assert isinstance(part, ContentImage) and part.image.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(part.image.partition(",")[2]))) as image:
            assert image.size == (1024, 512)


def jpeg_bytes(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "bad",
    [
        png_bytes(2048, 1024)[:60] + b"\0" * 40 + png_bytes(2048, 1024)[100:],  # damaged chunks
        jpeg_bytes(2048, 1024)[:-400],  # truncated: the header alone reads fine
    ],
    ids=["png", "jpeg"],
)
def test_a_corrupt_image_is_still_a_config_error_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: bytes
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    vision_task(tmp_path, {"good.png": png_bytes(2048, 1024), "bad.img": bad})
    with pytest.raises(ConfigError, match=r"pics\.jsonl, line 2: not a readable image"):
        build_plan(compose_config(["model=openai/m", "task=pics"]))


def test_a_shuffled_limited_run_resizes_only_the_selected_images_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resized = count_resizes(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    # Other pixels than the test above: resized images are reused by content, process-wide.
    vision_task(tmp_path, {f"{n}.png": png_bytes(2048, 1024, (n, 99, 0)) for n in range(6)})
    plan = build_plan(compose_config(["model=openai/m", "task=pics", "shuffle=true", "limit=2"]))
    assert resized == [] and len(plan.samples) == 2
    first = [sample.id for sample in plan.samples]  # epoch 1
    assert [sample.id for sample in plan.samples] == first == plan.samples.ids  # epoch 2
    assert set(first) <= {1, 2, 3, 4, 5, 6}
    assert len(resized) == 2  # the two selected samples' images, each once
