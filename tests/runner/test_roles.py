"""Roles bound to a list of models (several graders) and roles swept as a grid."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from engine.config import compose_config
from engine.datasets import Sample
from engine.logs import read_log
from engine.runner import build_plan
from engine.solvers import TaskState
from tests.support.openai_server import OpenAIServer, Request

GRADERS = "roles.grader=[openai/judge-1,openai/judge-2,{model: openai/judge-3, generation: {temperature: 0}}]"


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    return tmp_path


def test_a_role_bound_to_a_list_gives_every_model(environment: Path) -> None:
    plan = build_plan(compose_config(["model=openai/m", GRADERS]))
    names = [model.name for model in plan.role_lists["grader"]]
    assert names == ["openai/judge-1", "openai/judge-2", "openai/judge-3"]
    assert plan.role_lists["grader"][2].generation.temperature == 0
    state = TaskState.start(Sample("hi"), 1, plan.model, plan.roles, plan.role_lists)
    assert [m.name for m in state.role_models("grader")] == names
    assert state.role("grader").name == "openai/judge-1"  # one model: the first
    assert [m.name for m in state.role_models("critic")] == [
        "openai/m"
    ]  # unbound: model under test


def test_an_empty_role_list_is_a_config_error(environment: Path) -> None:
    with pytest.raises(engine.config.ConfigError, match="empty list of models"):
        compose_config(["model=openai/m", "roles.grader=[]"])


def test_three_graders_from_a_role_list_vote_and_the_log_records_them(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def answer(request: Request) -> str:
        if "[Expert]:" not in request.messages[-1]["content"]:
            return "the basket"
        return "GRADE: C" if request.model == "judge-1" else "GRADE: I"  # outvoted two to one

    with OpenAIServer(answer) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = engine.run(["model=openai/m", GRADERS, "limit=2"])
        graded_by = sorted(r.model for r in server.chat_requests() if r.model != "m")
    assert graded_by == ["judge-1", "judge-1", "judge-2", "judge-2", "judge-3", "judge-3"]
    log = read_log(result.log_path)
    (score,) = log["samples"][0]["scores"].values()
    assert score["value"] == "I" and score["explanation"] == "majority of 3 graders: I×2, C×1"
    roles = log["eval"]["model_roles"]
    assert [roles[k]["model"] for k in ("grader", "grader_2", "grader_3")] == [
        "openai/judge-1",
        "openai/judge-2",
        "openai/judge-3",
    ]
    assert log["eval"]["metadata"]["inspect_run"]["roles"]["grader"] == [
        "openai/judge-1",
        "openai/judge-2",
        "openai/judge-3",
    ]


def test_an_unbound_role_with_settings_is_the_model_under_test_with_them(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's `roles.grader.generation.temperature=0` with no grader bound."""

    def answer(request: Request) -> str:
        return "GRADE: C" if "[Expert]:" in request.messages[-1]["content"] else "a basket"

    with OpenAIServer(answer) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        settings = ["generation.max_tokens=50", "roles.grader.generation.temperature=0"]
        result = engine.run(["model=openai/m", *settings, "limit=1"])
        grade, answered = sorted(
            server.chat_requests(), key=lambda r: "[Expert]:" not in r.messages[-1]["content"]
        )
    assert result.status == "success"
    assert (grade.model, grade.body["temperature"]) == ("m", 0)
    assert grade.body["max_completion_tokens"] == 50  # the run's settings, then the role's
    assert answered.model == "m" and "temperature" not in answered.body
    roles = read_log(result.log_path)["eval"]["model_roles"]
    assert roles["grader"]["model"] == "openai/m" and roles["grader"]["config"]["temperature"] == 0


def test_a_role_bound_on_the_command_line_keeps_its_model_when_settings_follow(
    environment: Path,
) -> None:
    args = ["model=openai/m", "roles.grader=openai/judge", "roles.grader.generation.temperature=0"]
    grader = build_plan(compose_config(args)).roles["grader"]
    assert grader.name == "openai/judge" and grader.generation.temperature == 0


def test_no_model_to_play_a_role_that_only_has_settings(environment: Path) -> None:
    with pytest.raises(engine.config.ConfigError, match="no model under test to play it"):
        build_plan(compose_config(["model=none", "roles.grader.generation.temperature=0"]))


def test_each_model_has_its_own_pool_and_a_role_its_own_connection_and_batch(
    environment: Path,
) -> None:
    """Inspect scopes `max_connections` per model; a role may set its own connection/batch."""
    grader = ["roles.grader=openai/judge", "roles.grader.connection.max_connections=2"]
    grader += ["roles.grader.batch=true", "roles.grader.connection.max_retries=1"]
    run = ["model=openai/m", "connection.max_connections=5", "+roles.critic=openai/c"]
    plan = build_plan(compose_config([*run, *grader]))
    model, grader, critic = plan.model, plan.roles["grader"], plan.roles["critic"]
    assert model is not None
    assert len({id(model.pool), id(grader.pool), id(critic.pool)}) == 3
    assert (model.pool.max_connections, critic.pool.max_connections) == (5, 5)
    assert grader.pool.max_connections == 2 and grader.pool.settings.max_retries == 1
    assert grader.batcher is not None and model.batcher is None and critic.batcher is None
    same = build_plan(compose_config(["model=openai/m", "roles.grader=openai/m"]))
    assert same.model is not None and same.roles["grader"].pool is same.model.pool
