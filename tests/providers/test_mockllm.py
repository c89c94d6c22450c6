"""`mockllm/model`: answers with no network — from the target, a fixed reply or a user's reply
function — and runs every built-in task offline (Hub tasks from a local Hub)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from engine._assets import conf_dir
from engine.cli import cli
from tests.support.hub_fixtures import animals_repo, arc_repo
from tests.support.hub_server import HubServer
from tests.test_cli import the_log

ROWS = [
    {"id": "fr", "input": "Capital of France?", "target": "Paris"},
    {"id": "it", "input": "Capital of Italy?", "target": ["Rome", "Roma"]},
]

TASK = """\
name: capitals
dataset:
  path: capitals.jsonl
scorers:
  - includes
"""

REPLIES = """\
async def reply(messages, target):
    return f"{len(messages)} message(s); the answer is {target[0]}"


def shout(messages, target):
    return messages[-1].text.upper()
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "conf" / "task" / "capitals.yaml").write_text(TASK)
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "capitals.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    (tmp_path / "tasks" / "replies.py").write_text(REPLIES)
    monkeypatch.chdir(tmp_path)
    for name in ("INSPECT_RUN_CONFIG_PATH", "INSPECT_EVAL_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any socket connection fails the test: the mock model must not need one."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("mockllm opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def outputs(repo: Path) -> dict[str, str]:
    log = read_eval_log(str(the_log(repo / "logs")))
    assert log.status == "success" and log.samples is not None
    return {str(s.id): s.output.completion for s in log.samples}


def test_it_answers_with_the_target_by_default(repo: Path, no_network: None) -> None:
    assert cli(["task=capitals", "model=mockllm/model", "display=none"]) == 0
    assert outputs(repo) == {"fr": "Paris", "it": "Rome, Roma"}
    log = read_eval_log(str(the_log(repo / "logs")))
    assert log.results is not None and log.results.scores[0].metrics["accuracy"].value == 1.0
    assert log.samples is not None
    usage = log.samples[0].model_usage["mockllm/model"]
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def test_a_fixed_reply_may_quote_the_target(repo: Path, no_network: None) -> None:
    args = ["task=capitals", "model=mockllm/model", "display=none"]
    assert cli([*args, "+model_args.reply='ANSWER: {target}'"]) == 0
    assert outputs(repo) == {"fr": "ANSWER: Paris", "it": "ANSWER: Rome, Roma"}


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("replies.py:reply", "1 message(s); the answer is Paris"),
        ("replies.py:shout", "CAPITAL OF FRANCE?"),
    ],
)
def test_a_reply_function_from_a_task_directory(
    repo: Path, no_network: None, reference: str, expected: str
) -> None:
    args = ["task=capitals", "model=mockllm/model", "display=none", "sample_id=fr"]
    assert cli([*args, f"+model_args.reply_fn={reference}"]) == 0
    assert outputs(repo) == {"fr": expected}


@pytest.mark.parametrize(
    ("model_args", "message"),
    [
        (["+model_args.repyl=x"], "model_args repyl not accepted by the mockllm/model client"),
        (["+model_args.repyl=x"], "did you mean 'reply'?"),
        (["+model_args.reply=x", "+model_args.reply_fn=replies.py:reply"], "not both"),
        (["+model_args.reply_fn=replies.py:nothing"], "has no function 'nothing'"),
        (
            ["+model_args.reply_fn=/etc/passwd.py:reply"],
            "is outside the task directories: an absolute path is refused",
        ),
        (
            ["+model_args.reply_fn=../replies.py:reply"],
            "is outside the task directories: it climbs out of",
        ),
    ],
)
def test_bad_model_args_are_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], model_args: list[str], message: str
) -> None:
    assert cli(["task=capitals", "model=mockllm/model", "display=none", *model_args]) == 2
    assert message in capsys.readouterr().err
    assert not (repo / "logs").exists()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    repos = {"allenai/ai2_arc": arc_repo(), "inspect-run/animal_or_else": animals_repo()}
    with HubServer(repos) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        yield server


BUILT_IN_TASKS = sorted(path.stem for path in (conf_dir() / "task").glob("*.yaml"))


@pytest.mark.parametrize("task", BUILT_IN_TASKS)
def test_every_built_in_task_runs_offline(
    task: str, hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("INSPECT_RUN_CONFIG_PATH", "INSPECT_EVAL_MODEL"):
        monkeypatch.delenv(name, raising=False)
    assert cli([f"task={task}", "model=mockllm/model", "limit=3", "display=none"]) == 0
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.status == "success"
    assert log.samples and all(s.error is None and s.scores for s in log.samples)
    assert all(s.output.completion for s in log.samples)  # each answered with its target
