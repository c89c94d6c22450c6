"""`inspect-run validate`: every problem of a config repo at once (`engine.cli._problems`)."""

from pathlib import Path

import pytest

from engine.cli._problems import validate_command, validate_dirs
from engine.config import group_options


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Validate from a clean working directory with no model or config path in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("INSPECT_EVAL_MODEL", "INSPECT_RUN_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_builtin_configs_are_valid() -> None:
    report = validate_dirs([])
    assert report.problems == []
    assert report.files >= 8 and report.composed >= len(group_options("task"))
    assert report.roots == []


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
        "temprature [team-conf/generation/mine.yaml:1]: unknown key; did you mean 'temperature'"
        in err
    )
    assert "top_k [team-conf/generation/mine.yaml:2]" in err and "integer" in err
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
    assert "qa" in group_options("task")
    out = capsys.readouterr().out
    assert "checked config roots: conf, and the built-in configs" in out
    assert "tasks, presets and sweep jobs compose and plan" in out


def test_missing_dir_is_a_problem(clean_environment: Path) -> None:
    report = validate_dirs([clean_environment / "nope"])
    assert any("no such config directory" in str(p) for p in report.problems)


def test_sweeps_and_price_tables_are_checked(
    clean_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = clean_environment / "prices-conf"
    write(prices / "prices" / "default.yaml", "openai/gpt-4o: {input: 2.5, ouput: 10}\n")
    assert validate_command([str(prices)]) == 2
    err = capsys.readouterr().err
    assert "openai/gpt-4o.ouput [prices-conf/prices/default.yaml:1]: unknown key" in err
    sweeps = clean_environment / "sweeps-conf"
    write(
        sweeps / "sweep" / "nightly.yaml",
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n      model: openai/a,openai/b\n"
        "      generation.temperatur: 0,1\n",
    )
    assert validate_command([str(sweeps)]) == 2
    err = capsys.readouterr().err
    assert "generation.temperatur [sweeps-conf/sweep/nightly.yaml:6]: unknown key" in err
    assert "did you mean 'temperature'" in err and "job: model=openai/a" in err


PLANTED = {
    # file: (text, [(line, what the problem says), …])
    "generation/mine.yaml": (
        "temprature: 1\ntop_k: many\n",
        [
            (
                1,
                "temprature [conf/generation/mine.yaml:1]: unknown key; did you mean 'temperature'",
            ),
            (2, "top_k [conf/generation/mine.yaml:2]: 'many' is not of type 'integer'"),
        ],
    ),
    "connection/slow.yaml": (
        "max_connections: lots\n",
        [(1, "max_connections [conf/connection/slow.yaml:1]: 'lots' is not of type 'integer'")],
    ),
    "roles/team.yaml": ("grader: 5\n", [(1, "grader [conf/roles/team.yaml:1]: 5 is not")]),
    "task/broken.yaml": (  # the solver typo sits behind the key typo
        "name: broken\ndataset: {path: qa.jsonl}\ntemprature: 1\nsolvers: [generat]\n",
        [
            (3, "temprature [conf/task/broken.yaml:3]: unknown key"),
            (4, "task.solvers.0 [conf/task/broken.yaml:4]: unknown solver 'generat'; did you mean"),
        ],
    ),
    "task/missing.yaml": (
        "name: missing\ndataset: {path: nowhere.jsonl}\n",
        [(2, "task.dataset [conf/task/missing.yaml:2]: dataset file 'nowhere.jsonl' not found")],
    ),
    "task/noname.yaml": (
        "dataset: {path: qa.jsonl}\n",
        [(1, "name [conf/task/noname.yaml:1]: required but not set")],
    ),
    "task/graded.yaml": (
        "name: graded\ndataset: {path: qa.jsonl}\nscorers:\n  - model_graded_fact: {role: grdaer}\n",
        [
            (
                4,
                "role [conf/task/graded.yaml:4]: role 'grdaer' is not declared by any task, solver, "
                "scorer or config; did you mean 'grader'?",
            )
        ],
    ),
    "task/tmpl.yaml": (
        "name: tmpl\ndataset: {path: qa.jsonl}\nsolvers:\n  - prompt_template:\n"
        "      template: 'Q: {promt}'\n  - generate\n",
        [(5, "template [conf/task/tmpl.yaml:5]: placeholder {promt} would be sent as written")],
    ),
    "task/mc.yaml": (
        "name: mc\ndataset: {path: qa.jsonl}\nsolvers: [multiple_choice]\nscorers: [choice]\n",
        [
            (
                3,
                "task.solvers.0 [conf/task/mc.yaml:3]: solver 'multiple_choice' needs choices, but "
                "1 of 1 samples of dataset 'qa.jsonl' have none",
            )
        ],
    ),
    "preset/bad.yaml": (
        "# @package _global_\nmodel: opneai/gpt-4o\n",
        [
            (
                2,
                "model [conf/preset/bad.yaml:2]: unknown provider 'opneai' in model 'opneai/gpt-4o'; "
                "did you mean 'openai'?",
            )
        ],
    ),
    "preset/syntax.yaml": (
        "# @package _global_\nmodel: [1, 2\n",
        [(3, "(root) [conf/preset/syntax.yaml:3]: not valid YAML")],
    ),
    "sweep/nightly.yaml": (
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n      model: openai/a,antropic/b\n"
        "limit: 0\n",
        [
            (
                5,
                "model [conf/sweep/nightly.yaml:5]: unknown provider 'antropic' in model "
                "'antropic/b'; did you mean 'anthropic'?",
            ),
            (6, "limit [conf/sweep/nightly.yaml:6]: 0 is less than the minimum of 1"),
        ],
    ),
}


def test_a_dozen_planted_errors_are_each_reported_once_with_file_and_line(
    clean_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(clean_environment / "tasks" / "qa.jsonl", '{"id": "q1", "input": "hi", "target": "x"}\n')
    for name, (text, _) in PLANTED.items():
        write(clean_environment / "conf" / name, text)
    assert validate_command([]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("  - ")]
    expected = [fragment for _, found in PLANTED.values() for _, fragment in found]
    for fragment in expected:
        assert sum(fragment in line for line in lines) == 1, (fragment, err)
    assert len(lines) == len(expected) >= 12, err
    assert "conf/config.yaml" not in err  # the built-in config is never blamed
    assert err.splitlines()[-1].startswith("checked config roots: conf, and the built-in configs")


def test_no_user_config_says_only_the_built_ins_were_checked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert validate_command([]) == 0
    assert "checked only the built-in configs" in capsys.readouterr().out


def test_a_missing_config_path_folder_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INSPECT_RUN_CONFIG_PATH", "team-conf")
    assert validate_command([]) == 2
    err = capsys.readouterr().err
    assert err.count("no such config directory: team-conf") == 1


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
    assert "roles.grader [conf/task/bad.yaml:3]" in capsys.readouterr().err
