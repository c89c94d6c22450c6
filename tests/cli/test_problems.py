"""A run prints every problem of its config at once, compose-time and plan-time together, and
exits 2 before any request (`engine.runner.all_problems`, `engine.sweeps.sweep_problems`; `validate`
is tested in test_validate.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import cli
from tests.support.openai_server import OpenAIServer, fixed

TASK = """\
name: capitals
descripton: Capital cities.
dataset:
  path: nowhere.jsonl
solvers:
  - generat
scorers:
  - match
"""
GOOD_TASK = "name: good\ndataset: {path: nowhere.jsonl}\nsolvers: [generate]\nscorers: [match]\n"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    """A config repo with a task file holding three problems, and a server that must see nothing."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INSPECT_RUN_CONFIG_PATH", raising=False)
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "conf" / "task" / "capitals.yaml").write_text(TASK)
    (tmp_path / "conf" / "task" / "good.yaml").write_text(GOOD_TASK)
    with OpenAIServer(fixed("Paris")) as running:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        yield running


KEY_TYPO = "task.descripton [conf/task/capitals.yaml:2]: unknown key 'descripton'; did you mean"
SOLVER_TYPO = "task.solvers.0 [conf/task/capitals.yaml:6]: unknown solver 'generat'; did you mean"
NO_DATASET = "dataset file 'nowhere.jsonl' not found"
COMMAND_LINE_TYPO = "generation.temprature [command line: generation.temprature=0.2]"


@pytest.mark.parametrize("extra", [[], ["plan=true"], ["--cfg", "job"]])
def test_a_task_file_with_a_key_typo_a_solver_typo_and_no_dataset_prints_all_three(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    assert cli(["task=capitals", "model=openai/gpt-4o-mini", *extra]) == 2
    err = capsys.readouterr().err
    assert "invalid configuration (3 problems)" in err
    assert KEY_TYPO in err and SOLVER_TYPO in err and NO_DATASET in err
    assert server.requests == []


def test_a_command_line_typo_and_a_missing_dataset_file_print_together(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli(["task=good", "model=openai/gpt-4o-mini", "generation.temprature=0.2"])
    assert status == 2
    err = capsys.readouterr().err
    assert "invalid configuration (2 problems)" in err
    assert COMMAND_LINE_TYPO in err and "did you mean 'temperature'" in err
    assert "task.dataset [conf/task/good.yaml:2]: " + NO_DATASET in err
    assert server.requests == []


@pytest.mark.parametrize("extra", [[], ["plan=true"]])
def test_a_sweep_prints_the_first_jobs_typos_and_every_jobs_plan_problems(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    """The first job's composition fails (which stops the sweep's expansion): what it hid, in it
    and in the other jobs, is printed too, each with its job."""
    words = ["-m", "task=capitals,good", "model=openai/gpt-4o-mini", "generation.temprature=0.2"]
    assert cli([*words, *extra]) == 2
    err = capsys.readouterr().err
    assert "invalid configuration (5 problems)" in err
    assert COMMAND_LINE_TYPO in err and KEY_TYPO in err
    lines = err.splitlines()
    assert any(SOLVER_TYPO in line and "(job: task=capitals" in line for line in lines)
    assert any("conf/task/capitals.yaml:3" in line and NO_DATASET in line for line in lines)
    assert any("conf/task/good.yaml:2" in line and "(job: task=good" in line for line in lines)
    assert server.requests == []


def test_engine_run_and_sweep_raise_every_problem_at_once(server: OpenAIServer) -> None:
    """The Python API composes as the CLI does, so it lists the same problems."""
    import engine
    from engine.config import ConfigError

    with pytest.raises(ConfigError) as raised:
        engine.run(["task=capitals", "model=openai/gpt-4o-mini"])
    messages = [str(problem) for problem in raised.value.problems]
    assert len(messages) == 3
    assert any(KEY_TYPO in m for m in messages) and any(SOLVER_TYPO in m for m in messages)
    with pytest.raises(ConfigError) as raised:
        engine.sweep(["task=capitals,good", "model=openai/gpt-4o-mini"])
    assert len(raised.value.problems) == 4  # the key typo once, then each job's plan problems
    assert server.requests == []
