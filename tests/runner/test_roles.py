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
        if "[Expert answer]" not in request.messages[-1]["content"]:
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
