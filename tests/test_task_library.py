"""The task library from the command line: built-in Hub tasks end to end against a local Hub and
a local model server, `inspect-run list`, a user's YAML-only task, and task-level defaults."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from tests.support.files import found_in
from tests.support.hub_fixtures import animals_repo, arc_repo
from tests.support.hub_server import HubServer
from tests.support.openai_server import OpenAIServer, Request, fixed
from tests.test_cli import run_cli, the_log


@pytest.fixture
def hub() -> Iterator[HubServer]:
    repos = {"allenai/ai2_arc": arc_repo(), "inspect-run/animal_or_else": animals_repo()}
    with HubServer(repos) as server:
        yield server


def hub_env(hub: HubServer, tmp_path: Path, model: OpenAIServer) -> dict[str, str]:
    return {
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(tmp_path / "hf"),
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": model.base_url,
    }


HF_SECRET = "hf_NEVER_IN_A_LOG_9876"


def test_arc_easy_end_to_end(tmp_path: Path, hub: HubServer) -> None:
    with OpenAIServer(fixed("ANSWER: C")) as model:
        env = hub_env(hub, tmp_path, model) | {"HF_TOKEN": HF_SECRET}
        args = ("task=arc_easy", "model=openai/gpt-4o-mini", "display=plain")
        done = run_cli(*args, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        sent = model.chat_requests()  # concurrent: in any order
        first, second = sorted(sent, key=lambda r: "Moon" in r.messages[0]["content"])
    assert "A) Planetary density will decrease.\nB) Planetary years" in first.messages[0]["content"]
    assert "A) the Moon\nB) the Sun\nC) Mars" in second.messages[0]["content"]
    assert first.body["temperature"] == 0  # the task's own generation default
    assert hub.downloads() == [  # the card (for its configs:), then only the split's file
        "allenai/ai2_arc/README.md",
        "allenai/ai2_arc/ARC-Easy/test-00000-of-00001.parquet",
    ]
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.eval.dataset.location == "hf://allenai/ai2_arc/ARC-Easy/test"
    assert log.results is not None and log.results.scores[0].metrics["accuracy"].value == 0.5
    assert log.samples is not None
    scores = {s.id: (s.target, s.scores["choice"].value) for s in log.samples if s.scores}
    assert scores == {"Mercury_7175875": ("C", "C"), "NYSEDREGENTS_2015_4_11": ("B", "I")}
    written = [p for p in (tmp_path / "logs").rglob("*") if p.is_file()]
    assert written and found_in(HF_SECRET, written) == []

    hub.stop()  # a second run reads the Hub cache
    with OpenAIServer(fixed("ANSWER: C")) as model:
        env = hub_env(hub, tmp_path, model) | {"HF_TOKEN": HF_SECRET}
        again = run_cli(*args, "resume=false", "log_dir=again", cwd=tmp_path, env=env)
        assert again.returncode == 0, again.stderr
        assert len(model.chat_requests()) == 2


def test_animal_or_else_sends_the_resized_images(tmp_path: Path, hub: HubServer) -> None:
    from PIL import Image

    def grade(request: Request) -> str:
        return "Same count.\nGRADE: C"

    with OpenAIServer(fixed("1 of them: a dog.")) as model, OpenAIServer(grade) as grader:
        env = hub_env(hub, tmp_path, model) | {"VLLM_BASE_URL": grader.base_url}
        done = run_cli(
            "task=animal_or_else",
            "model=openai/gpt-4o-mini",
            "roles.grader=vllm/judge",
            "display=plain",
            cwd=tmp_path,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        sent = model.chat_requests()
        graded = grader.chat_requests()
    assert len(sent) == 2 and len(graded) == 2
    by_count = {}
    for request in sent:
        (message,) = request.messages
        text, *images = message["content"]
        assert text["type"] == "text" and "How many of them show an animal?" in text["text"]
        assert all(part["type"] == "image_url" for part in images)
        by_count[len(images)] = [part["image_url"]["url"] for part in images]
    assert sorted(by_count) == [2, 3]
    big = by_count[2][0]
    assert big.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(big.partition(",")[2]))) as image:
        assert image.size == (1024, 512)  # 2048 × 1024 scaled to 1024 px
    assert all("[Expert]: " in r.messages[0]["content"] for r in graded)
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.results is not None and log.results.scores[0].metrics["accuracy"].value == 1.0


CAPITALS_TASK = """\
name: capitals
description: Capital cities, from a team's own repo.
dataset:
  path: capitals.jsonl
solvers:
  - generate
scorers:
  - match: {location: any}
  - includes
metrics: [accuracy, stderr, bootstrap_stderr]
epochs: 2
epochs_reducer: [mean, pass_at_2]
generation:
  max_tokens: 77
roles:
  grader: vllm/task-grader
"""


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "conf" / "task" / "capitals.yaml").write_text(CAPITALS_TASK)
    (tmp_path / "tasks").mkdir()
    rows = [{"id": "fr", "input": "Capital of France?", "target": "Paris"}]
    rows.append({"id": "it", "input": "Capital of Italy?", "target": "Rome"})
    (tmp_path / "tasks" / "capitals.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_list_shows_built_in_and_user_tasks(user_repo: Path) -> None:
    done = run_cli("list", cwd=user_repo)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.partition("\n\n")[0].splitlines()  # the tasks table; components follow
    assert lines[0].split() == ["task", "source", "dataset", "description"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert {"arc_easy", "arc_challenge", "math_word_problems", "animal_or_else"} <= set(rows)
    assert "built-in" in rows["theory_of_mind"] and "Sally-Anne" in rows["theory_of_mind"]
    assert "conf/task/capitals.yaml  capitals.jsonl" in rows["capitals"]
    assert "hf://allenai/ai2_arc/ARC-Easy/test" in rows["arc_easy"]
    assert "Capital cities, from a team's own repo." in rows["capitals"]


def test_a_yaml_only_user_task_runs_with_its_own_defaults(user_repo: Path) -> None:
    def answer(request: Request) -> str:
        return "It is Paris." if "France" in request.messages[-1]["content"] else "Milan"

    with OpenAIServer(answer) as model:
        env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": model.base_url}
        done = run_cli(
            "task=capitals", "model=openai/gpt-4o-mini", "display=plain", cwd=user_repo, env=env
        )
        assert done.returncode == 0, done.stderr
        sent = model.chat_requests()
    assert len(sent) == 4  # two samples × the task's two epochs
    assert {r.body["max_completion_tokens"] for r in sent} == {77}
    log = read_eval_log(str(the_log(user_repo / "logs")))
    assert log.eval.config.epochs == 2
    assert (
        log.eval.model_roles is not None
        and log.eval.model_roles["grader"].model == "vllm/task-grader"
    )
    assert log.results is not None
    results = {(s.scorer, s.reducer): s.metrics for s in log.results.scores}
    assert set(results) == {
        ("match", "mean"),
        ("match", "pass_at_2"),
        ("includes", "mean"),
        ("includes", "pass_at_2"),
    }
    assert results[("match", "mean")]["accuracy"].value == 0.5
    assert set(results[("match", "mean")]) == {"accuracy", "stderr", "bootstrap_stderr"}


def test_the_command_line_overrides_the_task_defaults(user_repo: Path) -> None:
    with OpenAIServer(fixed("Paris")) as model:
        env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": model.base_url}
        done = run_cli(
            "task=capitals",
            "model=openai/gpt-4o-mini",
            "epochs=1",
            "epochs_reducer=max",
            "generation.max_tokens=5",
            "roles.grader=vllm/cli-grader",
            "display=plain",
            cwd=user_repo,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        sent = model.chat_requests()
    assert len(sent) == 2 and {r.body["max_completion_tokens"] for r in sent} == {5}
    log = read_eval_log(str(the_log(user_repo / "logs")))
    assert (
        log.eval.model_roles is not None
        and log.eval.model_roles["grader"].model == "vllm/cli-grader"
    )
    assert log.results is not None
    assert [(s.scorer, s.reducer) for s in log.results.scores] == [
        ("match", "max"),
        ("includes", "max"),
    ]


def test_a_bad_reducer_is_a_config_error(user_repo: Path) -> None:
    done = run_cli(
        "task=capitals", "model=openai/gpt-4o-mini", "epochs_reducer=pass_at_3", cwd=user_repo
    )
    assert done.returncode == 2
    assert (
        "epochs_reducer" in done.stderr
        and "pass_at_3 needs at least 3 epochs, got 2" in done.stderr
    )


def test_math_word_problems_match_numbers_however_written(tmp_path: Path) -> None:
    answers = {"bike": "So he has $25.00 left.\nANSWER: $25", "pencils": "ANSWER: 840.0"}
    answers |= {"Sam": "He earns 2,280 dollars.\nANSWER: 2,280", "farmer": "ANSWER: 79"}

    def responder(request: Request) -> str:
        prompt = request.messages[-1]["content"]
        assert "reason in a step-by-step manner" in prompt
        return next((reply for word, reply in answers.items() if word in prompt), "ANSWER: 0")

    with OpenAIServer(responder) as model:
        env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": model.base_url}
        done = run_cli(
            "task=math_word_problems",
            "model=openai/gpt-4o-mini",
            "sample_id=[mwp-02,mwp-03,mwp-05,mwp-10]",
            "display=plain",
            cwd=tmp_path,
            env=env,
        )
    assert done.returncode == 0, done.stderr
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.samples is not None
    scores = {s.id: s.scores["match"].value for s in log.samples if s.scores}
    assert scores == {"mwp-02": "C", "mwp-03": "C", "mwp-05": "I", "mwp-10": "C"}


def test_a_hook_beside_the_users_conf_is_found_and_nothing_outside(
    user_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.config import ConfigError, compose_config
    from engine.runner import build_plan

    (user_repo / "tasks" / "upper.py").write_text(
        "def record_to_sample(record):\n"
        "    return {'input': record['input'].upper(), 'target': record['target']}\n"
    )
    (user_repo / "elsewhere.py").write_text("def record_to_sample(record):\n    return None\n")
    monkeypatch.chdir(user_repo)
    hooked = ["task=capitals", "model=openai/m", "+task.dataset.record_to_sample=upper.py"]
    plan = build_plan(compose_config(hooked), connect=False)
    assert [s.input for s in plan.samples] == ["CAPITAL OF FRANCE?", "CAPITAL OF ITALY?"]
    escaping = ["task=capitals", "model=openai/m", "+task.dataset.record_to_sample=../elsewhere.py"]
    with pytest.raises(ConfigError, match=r"task\.dataset .*is outside the task directories"):
        build_plan(compose_config(escaping), connect=False)
