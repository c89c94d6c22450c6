"""An eval that selects no sample is a config error (exit 2 before any request), naming why."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import cli
from engine.config import ConfigError, compose_config
from engine.runner import build_plan
from tests.support.openai_server import OpenAIServer, echo


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "three.jsonl").write_text(
        "".join(f'{{"id": "q{n}", "input": "say {n}", "target": "{n}"}}\n' for n in range(3))
    )
    (tmp_path / "empty.jsonl").write_bytes(b"")
    for name in ("three", "empty"):
        (tmp_path / "conf" / "task" / f"{name}.yaml").write_text(
            f"name: {name}\ndataset: {{path: {tmp_path / name}.jsonl, allowed_roots: [{tmp_path}]}}\n"
        )
    return tmp_path / "conf"


def plan_problem(conf: Path, *overrides: str) -> tuple[str, str]:
    composed = compose_config(["model=openai/m", *overrides], config_dirs=[conf])
    with pytest.raises(ConfigError) as raised:
        build_plan(composed)
    (problem,) = raised.value.problems
    return problem.key, problem.message


def test_an_empty_dataset(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    key, message = plan_problem(conf, "task=empty")
    assert key == "task.dataset" and message.endswith("empty.jsonl has no samples")


def test_a_sample_id_matching_nothing_suggests_a_close_one(
    conf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    key, message = plan_problem(conf, "task=three", "sample_id=q11")
    assert key == "sample_id"
    assert "sample_id=q11 matches none of the 3 samples" in message
    assert message.endswith("did you mean 'q1'?")


@pytest.mark.parametrize("shuffle", ["false", "true"])
def test_a_limit_past_the_end(conf: Path, monkeypatch: pytest.MonkeyPatch, shuffle: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    key, message = plan_problem(conf, "task=three", "limit=[5,9]", f"shuffle={shuffle}")
    assert key == "limit" and message == "limit=[5, 9] selects none of the 3 samples"


def test_a_limit_larger_than_the_dataset_runs_what_there_is(
    conf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    composed = compose_config(["model=openai/m", "task=three", "limit=50"], config_dirs=[conf])
    assert len(build_plan(composed).samples) == 3


def test_the_command_exits_2_and_sends_nothing(
    conf: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(conf.parent)
    with OpenAIServer(echo) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        codes = [
            cli(["task=empty", "model=openai/m", "display=none"]),
            cli(["task=three", "model=openai/m", "sample_id=[nope]", "display=none"]),
        ]
        assert server.chat_requests() == []
    assert codes == [2, 2]
    err = capsys.readouterr().err
    assert "has no samples" in err and "sample_id=nope matches none" in err
    assert not (conf.parent / "logs").exists()
