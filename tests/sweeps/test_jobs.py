"""Planning a sweep: jobs, folders and reuse, before any request."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import ConfigError
from engine.logs import read_log, write_run_file
from engine.sweeps import plan_sweep
from engine.sweeps._jobs import job_label, set_aside


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    monkeypatch.setenv("HF_TOKEN", "k")
    return tmp_path


def duel_task(folder: Path) -> str:
    """A task whose solvers call the red_team and blue_team roles (model=none runs it)."""
    (folder / "conf" / "task").mkdir(parents=True)
    (folder / "conf" / "task" / "duel.jsonl").write_text('{"input": "Go", "target": "x"}\n')
    (folder / "conf" / "task" / "duel.yaml").write_text(
        "name: duel\ndataset: {path: conf/task/duel.jsonl}\n"
        "solvers: [{generate: {role: red_team}}, {generate: {role: blue_team}}]\n"
        "scorers: [includes]\n"
    )
    return "task=duel"


def test_a_red_team_by_blue_team_grid_is_one_job_per_pairing(environment: Path) -> None:
    sweep, root, jobs, plans = plan_sweep(
        [
            duel_task(environment),
            "model=none",
            "+roles.red_team=openai/gpt-4o-mini,anthropic/claude-haiku-4-5",
            "+roles.blue_team=openai/gpt-4o,openai/o3",
        ]
    )
    assert sweep.swept == ["roles.red_team", "roles.blue_team"]
    assert len(jobs) == len(plans) == 4 and {job.state for job in jobs} == {"new"}
    folders = sorted(job.folder.relative_to(root).as_posix() for job in jobs)
    assert folders == [
        "duel/none__roles.red_team-anthropic-claude-haiku-4-5__roles.blue_team-openai-gpt-4o",
        "duel/none__roles.red_team-anthropic-claude-haiku-4-5__roles.blue_team-openai-o3",
        "duel/none__roles.red_team-openai-gpt-4o-mini__roles.blue_team-openai-gpt-4o",
        "duel/none__roles.red_team-openai-gpt-4o-mini__roles.blue_team-openai-o3",
    ]
    assert job_label(jobs[0].composed, sweep.swept) == (
        "none [red_team=openai/gpt-4o-mini, blue_team=openai/gpt-4o]"
    )
    assert {plans[i].roles["red_team"].name for i in plans} == {
        "openai/gpt-4o-mini",
        "anthropic/claude-haiku-4-5",
    }


def test_the_same_sweep_has_the_same_folder_and_provider_names_are_safe() -> None:
    models = "model=hf-inference-providers/openai/gpt-oss-120b:groq,openai/gpt-4o"
    _, first, jobs, _ = plan_sweep([models, "limit=2"])
    _, again, _, _ = plan_sweep([models, "limit=2", "display=none", "connection.max_connections=3"])
    assert first == again and first.parent == Path("logs") and first.name.startswith("sweep-")
    assert (
        jobs[0].folder
        == first / "theory_of_mind" / "hf-inference-providers-openai-gpt-oss-120b-groq"
    )
    _, other, _, _ = plan_sweep([models, "limit=3"])
    assert other != first


def test_jobs_share_a_models_pool_and_each_model_has_its_own() -> None:
    """As Inspect scopes `max_connections` per model: two models are not one pool of 10."""
    _, _, _, plans = plan_sweep(["model=openai/a,openai/b", "roles.grader=openai/judge"])
    assert plans[0].hub is plans[1].hub
    assert plans[0].roles["grader"] is plans[1].roles["grader"]
    assert plans[0].model is not None and plans[1].model is not None
    assert plans[0].model.pool is not plans[1].model.pool
    assert plans[0].roles["grader"].pool not in (plans[0].model.pool, plans[1].model.pool)


def test_every_bad_job_is_reported_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        plan_sweep(["model=openai/a,opnai/b,antropic/c"])
    text = str(raised.value)
    assert "job: model=opnai/b" in text and "job: model=antropic/c" in text
    assert "did you mean 'openai'" in text
    assert not (tmp_path / "logs").exists()


def test_an_edited_dataset_is_a_changed_job_and_an_untouched_one_is_reused(tmp_path: Path) -> None:
    import yaml

    from engine.logs import write_run_file
    from tests.support.quiz import write_quiz

    write_quiz(tmp_path)
    sweep = ["task=quiz", "model=openai/a,openai/b"]
    _, _, jobs, _ = plan_sweep(sweep)
    for job in jobs:  # as a finished run leaves them
        job.folder.mkdir(parents=True)
        (job.folder / "config.yaml").write_text(yaml.safe_dump(job.composed.resolved))
        write_run_file(job.folder, job.identity, "log.json", "success")
    _, _, again, plans = plan_sweep(sweep)
    assert [job.state for job in again] == ["reuse", "reuse"] and plans == {}
    with (tmp_path / "quiz.jsonl").open("a") as dataset:
        dataset.write('{"id": "q41", "input": "Question 41: answer A or B.", "target": "A"}\n')
    _, _, edited, _ = plan_sweep(sweep)
    assert [job.state for job in edited] == ["changed", "changed"]
    assert edited[0].changes == ["the dataset file changed"]


def test_jobs_that_would_share_a_folder_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="would share the folder"):
        plan_sweep(["model=openai/a:b,openai/a-b"])


def test_the_python_api_runs_a_sweep_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine
    from tests.support.quiz import MODELS, quiz_env, quiz_servers, write_quiz

    write_quiz(tmp_path)
    with quiz_servers() as servers:
        for name, value in quiz_env(servers).items():
            monkeypatch.setenv(name, value)
        outcome = engine.sweep(["task=quiz", f"model={MODELS}", "limit=10"])
        again = engine.sweep(["task=quiz", f"model={MODELS}", "limit=10"])
        sent = sum(len(server.chat_requests()) for server in servers.values())
    assert sent == 3 * 10
    assert [row.label for row in outcome.comparison.rows] == MODELS.split(",")
    assert len(outcome.results) == 3 and outcome.failed == []
    assert {job.state for job in again.jobs} == {"reuse"} and again.results == []
    assert [row.score for row in again.comparison.rows] == [
        row.score for row in outcome.comparison.rows
    ]


def test_a_grader_shared_by_jobs_is_counted_per_job(monkeypatch: pytest.MonkeyPatch) -> None:

    import engine
    from tests.support.openai_server import OpenAIServer, Request

    def answer(request: Request) -> str:
        prompt = request.messages[-1]["content"]
        return "GRADE: C" if "[Expert]:" in prompt else "the basket"

    with OpenAIServer(answer) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        outcome = engine.sweep(["model=openai/a,openai/b", "roles.grader=openai/judge", "limit=3"])
    assert len(outcome.results) == 2
    for result in outcome.results:
        log = read_log(result.log_path)
        per_sample = sum(s["model_usage"]["openai/judge"]["total_tokens"] for s in log["samples"])
        assert log["stats"]["model_usage"]["openai/judge"]["total_tokens"] == per_sample > 0


def test_setting_aside_the_same_config_twice_keeps_both(environment: Path) -> None:
    # A config changed back and forth: each earlier log of the same identity is kept, none deleted.
    _, root, jobs, _ = plan_sweep(["model=openai/gpt-4o,openai/o3"])
    job = jobs[0]
    kept = []
    for attempt in ("first", "second"):
        job.folder.mkdir(parents=True)
        write_run_file(job.folder, "0123456789abcdef", "log.json", "success")
        (job.folder / "log.json").write_text(attempt)
        kept.append(set_aside(job, root))
    assert not job.folder.exists() and kept[0] != kept[1]
    assert [(folder / "log.json").read_text() for folder in kept] == ["first", "second"]


def test_the_command_line_replaces_a_sweep_files_axis_with_or_without_plus(
    monkeypatch: pytest.MonkeyPatch, environment: Path
) -> None:
    # red_blue.yaml sweeps `+roles.red_team`; `roles.red_team=…` pins it, it is not a third axis.
    monkeypatch.setenv("GOOGLE_API_KEY", "k")
    task = duel_task(environment)
    for pinned in ("roles.red_team=openai/gpt-4o", "+roles.red_team=openai/gpt-4o"):
        sweep, _, jobs, _ = plan_sweep(["+sweep=red_blue", task, "model=none", pinned])
        assert sweep.swept == ["roles.blue_team"] and len(jobs) == 2
        assert all(job.composed.config.roles["red_team"].model == "openai/gpt-4o" for job in jobs)


def counted_task(folder: Path, *names: str) -> None:
    """Tasks over one dataset whose `record_to_sample` hook notes every record it reads."""
    (folder / "conf" / "task").mkdir(parents=True)
    (folder / "tasks").mkdir()
    (folder / "tasks" / "counted.py").write_text(
        "def record_to_sample(record):\n"
        "    with open('reads.txt', 'a') as reads:\n"
        "        reads.write(str(record['id']) + '\\n')\n"
        "    return {'id': record['id'], 'input': record['q'], 'target': record['a']}\n"
    )
    (folder / "data.jsonl").write_text(
        "".join(f'{{"id": "s{n}", "q": "Question {n}?", "a": "A"}}\n' for n in range(5))
    )
    for name in names:
        (folder / "conf" / "task" / f"{name}.yaml").write_text(
            f"name: {name}\ndataset: {{path: data.jsonl, record_to_sample: counted.py}}\n"
            "scorers: [match]\n"
        )


def test_jobs_over_one_dataset_and_selection_read_it_once(environment: Path) -> None:
    counted_task(environment, "t1", "t2")
    _, _, jobs, plans = plan_sweep(["task=t1,t2", "model=openai/a,openai/b", "limit=4"])
    assert len(jobs) == len(plans) == 4
    reads = (environment / "reads.txt").read_text().split()
    assert reads == [f"s{n}" for n in range(5)]  # one pass for the four jobs
    assert len({id(plan.samples) for plan in plans.values()}) == 4  # each job its own copy
    for plan in plans.values():
        assert len(plan.samples) == 4 and plan.samples.ids == ["s0", "s1", "s2", "s3"]


def test_jobs_with_another_selection_read_the_dataset_again(environment: Path) -> None:
    counted_task(environment, "t1")
    _, _, _, plans = plan_sweep(["task=t1", "model=openai/a", "limit=2,3", "shuffle=true,false"])
    assert len((environment / "reads.txt").read_text().split()) == 4 * 5  # one pass a job
    assert sorted(len(plan.samples) for plan in plans.values()) == [2, 2, 3, 3]
