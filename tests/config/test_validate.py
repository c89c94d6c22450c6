from pathlib import Path

import pytest

from engine.config._searchpath import group_options
from engine.config._validate import validate_command, validate_dirs


def test_builtin_configs_are_valid() -> None:
    problems, files, tasks = validate_dirs([])
    assert problems == []
    assert files >= 8 and tasks >= 1


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_user_repo_problems_name_file_key_and_fix(
    clean_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = clean_environment / "team-conf"
    write(conf / "generation" / "mine.yaml", "temprature: 1\ntop_k: many\n")
    write(
        conf / "task" / "mine.yaml",
        "name: mine\ndataset: {path: nowhere.jsonl}\nsolvers: [generat]\n",
    )
    write(conf / "preset" / "broken.yaml", "model: [1, 2\n")
    assert validate_command([str(conf)]) == 2
    err = capsys.readouterr().err
    assert (
        "temprature [team-conf/generation/mine.yaml]: unknown key; did you mean 'temperature'"
        in err
    )
    assert "top_k [team-conf/generation/mine.yaml]" in err and "integer" in err
    assert "team-conf/preset/broken.yaml" in err and "not valid YAML" in err
    assert "unknown solver 'generat'; did you mean 'generate'" in err
    assert "dataset file 'nowhere.jsonl' not found" in err


def test_valid_user_repo_passes(
    clean_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = clean_environment / "conf"
    write(clean_environment / "tasks" / "qa.jsonl", '{"input": "2+2?", "target": "4"}\n')
    write(conf / "task" / "qa.yaml", "name: qa\ndataset: {path: qa.jsonl}\nscorers: [match]\n")
    assert validate_command([]) == 0
    tasks = len(group_options("task"))  # the built-in tasks and qa
    assert "qa" in group_options("task")
    assert f"{tasks} tasks compose and plan" in capsys.readouterr().out


def test_missing_dir_is_a_problem(clean_environment: Path) -> None:
    problems, _, _ = validate_dirs([clean_environment / "nope"])
    assert any("no such config directory" in str(p) for p in problems)


def test_sweeps_and_price_tables_are_checked(
    clean_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = clean_environment / "prices-conf"
    write(prices / "prices" / "default.yaml", "openai/gpt-4o: {input: 2.5, ouput: 10}\n")
    assert validate_command([str(prices)]) == 2
    err = capsys.readouterr().err
    assert "openai/gpt-4o.ouput [prices-conf/prices/default.yaml]: unknown key" in err
    sweeps = clean_environment / "sweeps-conf"
    write(
        sweeps / "sweep" / "nightly.yaml",
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n      model: openai/a,openai/b\n"
        "      generation.temperatur: 0,1\n",
    )
    assert validate_command([str(sweeps)]) == 2
    err = capsys.readouterr().err
    assert (
        "generation.temperatur [sweeps-conf/sweep/nightly.yaml: hydra.sweeper.params]: unknown key"
        in err
    )
    assert "did you mean 'temperature'" in err and "job: model=openai/a" in err


def test_validate_and_a_run_accept_the_same_task_roles(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's `roles: {grader: MODEL}` in a task YAML; CI validates without API keys."""
    from engine.config import compose_config
    from engine.runner import build_plan

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    conf = clean_environment / "conf"
    write(clean_environment / "tasks" / "qa.jsonl", '{"input": "2+2?", "target": "4"}\n')
    write(
        conf / "task" / "qa.yaml",
        "name: qa\ndataset: {path: qa.jsonl}\nscorers: [model_graded_fact]\n"
        "roles: {grader: openai/gpt-4o-mini, critic: {model: openai/gpt-4o, "
        "generation: {temperature: 0}}}\n",
    )
    assert validate_command([]) == 0, capsys.readouterr().err
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    plan = build_plan(compose_config(["task=qa", "model=openai/m"]))
    assert plan.roles["grader"].name == "openai/gpt-4o-mini"
    assert plan.roles["critic"].generation.temperature == 0
    write(conf / "task" / "bad.yaml", "name: bad\ndataset: {path: qa.jsonl}\nroles: {grader: 3}\n")
    assert validate_command([]) == 2
    assert "roles.grader [conf/task/bad.yaml]" in capsys.readouterr().err
