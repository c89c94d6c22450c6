"""Typos that would silently change results are exit 2 with a did-you-mean, before any request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import cli
from tests.support.openai_server import OpenAIServer, Request

QA = [
    {"id": "q1", "input": "Capital of France?", "target": "Paris", "metadata": {"topic": "geo"}},
    {"id": "q2", "input": "Capital of Italy?", "target": "Rome", "metadata": {"topic": "geo"}},
]


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    """A user repo (./conf, ./tasks) in the working directory and a counting local server."""
    monkeypatch.chdir(tmp_path)
    for name in ("INSPECT_EVAL_MODEL", "INSPECT_RUN_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in QA))
    with OpenAIServer(answer) as running:
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        yield running


def answer(request: Request) -> str:
    return "GRADE: C" if "GRADE" in request.messages[-1]["content"] else "Paris"


def task(name: str, body: str) -> str:
    folder = Path("conf/task")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(f"name: {name}\ndataset: {{path: qa.jsonl}}\n{body}")
    return f"task={name}"


def refused(capsys: pytest.CaptureFixture[str], server: OpenAIServer, *args: str) -> str:
    """Run the CLI in process; it must exit 2 without a request. Returns what it printed."""
    assert cli([*args, "display=none"]) == 2
    assert server.requests == []
    assert not Path("logs").exists()
    return capsys.readouterr().err


GRADED = "solvers: [generate]\nscorers: [model_graded_fact]\n"


def test_a_misspelt_role_on_the_command_line(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(capsys, server, task("qa", GRADED), "model=openai/m", "roles.grdaer=openai/g")
    assert "roles.grdaer [command line: roles.grdaer=openai/g]" in err
    assert "did you mean 'grader'?" in err and "fall back to the model under test" in err
    # A role nothing declares, with nothing close: still refused, with the declared ones listed.
    err = refused(capsys, server, task("qa", GRADED), "model=openai/m", "+roles.zzz=openai/g")
    assert "role 'zzz' is bound, but no task, solver, scorer or config declares it" in err
    assert "(declared: critic, grader)" in err


def test_a_misspelt_role_in_a_task_yaml(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = task("qa", "scorers: [{model_graded_fact: {role: grdaer}}]\n")
    err = refused(capsys, server, bad, "model=openai/m")
    assert "task.scorers.0.model_graded_fact.role [conf/task/qa.yaml:3]" in err
    assert "role 'grdaer' is not declared" in err and "did you mean 'grader'?" in err


def test_a_misspelt_role_bound_in_yaml_while_the_used_one_falls_back(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("conf/preset").mkdir(parents=True)
    Path("conf/preset/team.yaml").write_text(
        "# @package _global_\nmodel: openai/m\nroles:\n  grdaer: openai/g\n"
    )
    err = refused(capsys, server, task("qa", GRADED), "preset=team")
    assert "roles.grdaer [conf/preset/team.yaml:4]" in err and "did you mean 'grader'?" in err


def test_a_declared_unbound_role_falls_back_to_the_model_under_test(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "roles: {judge: null}\nscorers: [{model_graded_fact: {role: judge}}]\n"
    assert cli([task("qa", body), "model=openai/m", "display=none"]) == 0
    assert {r.model for r in server.chat_requests()} == {"m"}
    assert len(server.chat_requests()) == 4  # two answers, two gradings, all by the model


def test_a_misspelt_template_placeholder(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = task("qa", "solvers:\n  - prompt_template: {template: 'Q: {promt}'}\n  - generate\n")
    err = refused(capsys, server, bad, "model=openai/m")
    assert "task.solvers.0.prompt_template.template [conf/task/qa.yaml:4]" in err
    assert "placeholder {promt} would be sent as written" in err
    assert "did you mean 'prompt'?" in err
    # Metadata every sample has is a field too; literal JSON braces are text.
    good = (
        "solvers:\n  - prompt_template: {template: '{topic}: {prompt} {\"a\": 1}'}\n  - generate\n"
    )
    assert cli([task("qa", good), "model=openai/m", "display=none"]) == 0
    assert server.chat_requests()[0].messages[-1]["content"] == 'geo: Capital of France? {"a": 1}'


def test_a_placeholder_only_some_samples_fill(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{**QA[0], "metadata": {"topic": "geo", "hint": "big city"}}, QA[1]]
    Path("tasks/qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    bad = task("qa", "solvers: [{system_message: {template: 'Hint: {hint}'}}, generate]\n")
    err = refused(capsys, server, bad, "model=openai/m")
    assert "only some samples have metadata 'hint' (sample 'q2' does not)" in err


def test_model_none_with_a_solver_that_generates(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(capsys, server, task("qa", "scorers: [match]\n"), "model=none")
    assert "model [command line: model=none]" in err
    assert "solver 'generate' (task.solvers.0) calls the model under test" in err
    # A scorer's role with nothing bound and no model to fall back to.
    roles_only = "solvers: [{generate: {role: grader}}]\nscorers: [model_graded_fact]\n"
    err = refused(capsys, server, task("qa", roles_only), "model=none")
    assert "calls role 'grader', which is not bound, and model=none" in err


def test_multiple_choice_without_choices_names_the_dataset(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(capsys, server, task("qa", "solvers: [multiple_choice]\n"), "model=openai/m")
    assert "solver 'multiple_choice' needs choices" in err
    assert "2 of 2 samples of dataset 'qa.jsonl' have none (the first: 'q1')" in err


def test_an_empty_model(server: OpenAIServer, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(capsys, server, task("qa", GRADED), "model=")
    assert "model [command line: model=]: is empty" in err


def test_a_key_typo_and_a_solver_typo_print_together(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = task("qa", "temprature: 1\nsolvers: [generat]\n")
    err = refused(capsys, server, bad, "model=openai/m", "generation.max_tokns=5")
    assert "task.temprature [conf/task/qa.yaml:3]: unknown key" in err
    assert "task.solvers.0 [conf/task/qa.yaml:4]: unknown solver 'generat'" in err
    assert "did you mean 'max_tokens'?" in err
    assert "3 problems" in err


def test_a_missing_config_path_folder_is_refused(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSPECT_RUN_CONFIG_PATH", "team-conf")
    err = refused(capsys, server, "model=openai/m")
    assert "INSPECT_RUN_CONFIG_PATH [environment]: no such config directory: team-conf" in err


def test_an_unknown_command_gets_a_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["valdate"]) == 2
    assert "unknown command 'valdate'; did you mean 'validate'?" in capsys.readouterr().err
