"""`inspect-run` end to end (in process, and as a process where that is the point), against local
OpenAI-protocol servers."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from engine.logs import LOG_SUFFIXES, read_log_header
from tests.support.cli import run_cli, start_cli
from tests.support.files import found_in
from tests.support.openai_server import Gate, OpenAIServer, Request, error, fixed

SECRET = "sk-test-NEVER-WRITE-ME-4242"


def the_log(log_dir: Path) -> Path:
    (log,) = [
        p for p in log_dir.rglob("*") if p.suffix in LOG_SUFFIXES and not p.name.startswith(".")
    ]
    return log


def grade_c(request: Request) -> str:
    return "The submission names the same container.\nGRADE: C"


@pytest.fixture
def model_server() -> Iterator[OpenAIServer]:
    with OpenAIServer(fixed("the basket")) as server:
        yield server


@pytest.fixture
def grader_server() -> Iterator[OpenAIServer]:
    with OpenAIServer(grade_c) as server:
        yield server


def server_env(model: OpenAIServer, grader: OpenAIServer | None = None) -> dict[str, str]:
    env = {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": model.base_url}
    if grader is not None:
        env |= {"VLLM_BASE_URL": grader.base_url}
    return env


def test_help_is_fast_and_lists_groups(tmp_path: Path) -> None:
    done = run_cli("--help", cwd=tmp_path)
    assert done.returncode == 0
    (tasks,) = [line for line in done.stdout.splitlines() if line.startswith("  task: ")]
    assert "theory_of_mind" in tasks and "arc_easy" in tasks
    assert "preset:" in done.stdout and "smollm2" in done.stdout


def test_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    """`inspect-run list | head -1`: the reader leaves early; no traceback."""
    process = start_cli("list", cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the child has written a byte
    errors = process.stderr.read().decode()
    assert process.wait(timeout=300) == 141
    assert "Traceback" not in errors and "BrokenPipeError" not in errors


def test_graded_task_end_to_end(
    tmp_path: Path, model_server: OpenAIServer, grader_server: OpenAIServer
) -> None:
    done = run_cli(
        "task=theory_of_mind",
        "model=openai/gpt-4o-mini",
        "roles.grader=vllm/judge",
        "limit=4",
        "generation.temperature=0",
        "display=plain",
        cwd=tmp_path,
        env=server_env(model_server, grader_server),
    )
    assert done.returncode == 0, done.stderr
    assert "accuracy=1.000" in done.stdout

    sent = model_server.chat_requests()
    assert len(sent) == 4
    assert {r.body["model"] for r in sent} == {"gpt-4o-mini"}
    assert all(r.body["temperature"] == 0 for r in sent)
    assert all(r.headers["authorization"] == f"Bearer {SECRET}" for r in sent)
    graded = grader_server.chat_requests()
    assert len(graded) == 4
    assert all("the basket" in r.messages[-1]["content"] for r in graded)
    assert {r.body["model"] for r in graded} == {"judge"}

    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.status == "success"
    assert log.eval.model == "openai/gpt-4o-mini"
    assert log.eval.model_roles is not None and log.eval.model_roles["grader"].model == "vllm/judge"
    assert log.results is not None and log.results.scores[0].metrics["accuracy"].value == 1.0
    assert log.samples is not None and len(log.samples) == 4
    for sample in log.samples:
        assert sample.scores is not None and sample.scores["model_graded_fact"].value == "C"
        assert sample.output.completion == "the basket"
        assert set(sample.model_usage) == {"openai/gpt-4o-mini", "vllm/judge"}
    assert set(log.stats.model_usage) == {"openai/gpt-4o-mini", "vllm/judge"}
    assert log.stats.model_usage["openai/gpt-4o-mini"].total_tokens > 0
    metadata = log.eval.metadata["inspect_run"]  # type: ignore[index]
    assert metadata["config"]["model"] == "openai/gpt-4o-mini"
    assert len(metadata["config_hash"]) == 16
    assert log.eval.packages["inspect-run"]
    assert not (tmp_path / "outputs").exists()
    run_folders = list((tmp_path / "logs").iterdir())
    assert len(run_folders) == 1
    assert {p.name for p in run_folders[0].iterdir()} >= {"config.yaml", "overrides.yaml"}


def test_no_secret_lands_in_any_file(
    tmp_path: Path, model_server: OpenAIServer, grader_server: OpenAIServer
) -> None:
    env = server_env(model_server, grader_server) | {"VLLM_API_KEY": SECRET + "-vllm"}
    run_cli("model=openai/gpt-4o-mini", "roles.grader=vllm/judge", "limit=2", cwd=tmp_path, env=env)
    failing = {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    run_cli(
        "model=openai/gpt-4o-mini", "limit=1", "connection.max_retries=0", cwd=tmp_path, env=failing
    )
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) >= 4
    assert found_in(SECRET, files) == []


def test_failed_samples_are_recorded_and_set_the_exit_status(tmp_path: Path) -> None:
    with OpenAIServer(lambda r: error(400, "this model does not exist")) as server:
        env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
        strict = run_cli("model=openai/nope", "limit=3", "display=none", cwd=tmp_path, env=env)
        assert strict.returncode == 1
        assert "this model does not exist" in strict.stderr
        assert len(server.chat_requests()) == 3  # 400 is not retried
        log = read_eval_log(str(the_log(tmp_path / "logs")))
        assert log.status == "error"
        assert log.samples is not None and len(log.samples) == 3
        assert all(s.error and "HTTP 400" in s.error.message for s in log.samples)

        lenient = run_cli(
            "model=openai/nope",
            "limit=3",
            "fail_on_error=false",
            "log_dir=lenient",
            cwd=tmp_path,
            env=env,
        )
        assert lenient.returncode == 0
        assert "3 failed" in lenient.stdout


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["generation.temprature=0.2"], {}, "did you mean 'temperature'"),
        (["epochs=many"], {}, "epochs [command line: epochs=many]"),
        (["task=theory_of_mnd"], {}, "did you mean 'theory_of_mind'"),
        (
            ["model=opnai/gpt-4o"],
            {},
            "unknown provider 'opnai' in model 'opnai/gpt-4o'; did you mean 'openai'?",
        ),
        (
            ["model=openai/gpt-4o"],
            {"OPENAI_API_KEY": ""},
            "needs the environment variable OPENAI_API_KEY",
        ),
        (["model=openai-api/acme/m"], {}, "ACME_BASE_URL"),
        (["--frobnicate"], {}, "unknown option --frobnicate"),
    ],
)
def test_config_errors_exit_2_before_any_request(
    tmp_path: Path, model_server: OpenAIServer, args: list[str], env: dict[str, str], expected: str
) -> None:
    done = run_cli(
        "model=openai/gpt-4o-mini",
        *args,
        cwd=tmp_path,
        env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": model_server.base_url} | env,
    )
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert model_server.requests == []
    assert not (tmp_path / "logs").exists()


def test_every_config_problem_at_once(tmp_path: Path) -> None:
    done = run_cli("modle=x", "generation.top_k=zero", "task=nope", cwd=tmp_path)
    assert done.returncode == 2
    assert "3 problems" in done.stderr


def test_multirun_sweeps_models_into_one_sweep_folder(
    tmp_path: Path, model_server: OpenAIServer, grader_server: OpenAIServer
) -> None:
    done = run_cli(
        "-m",
        "model=openai/gpt-4o-mini,openai/gpt-4o",
        "roles.grader=vllm/judge",
        "limit=2",
        "display=none",
        cwd=tmp_path,
        env=server_env(model_server, grader_server),
    )
    assert done.returncode == 0, done.stderr
    (sweep,) = (tmp_path / "logs").iterdir()
    assert sweep.name.startswith("sweep-")
    logs = sorted(p for p in sweep.rglob("20*") if p.suffix in LOG_SUFFIXES)
    assert len(logs) == 2
    assert {read_eval_log(str(p)).eval.model for p in logs} == {
        "openai/gpt-4o-mini",
        "openai/gpt-4o",
    }
    assert {r.body["model"] for r in model_server.chat_requests()} == {"gpt-4o-mini", "gpt-4o"}
    assert not (tmp_path / "multirun").exists() and not (tmp_path / "outputs").exists()


def test_multirun_validates_every_job_first(tmp_path: Path, model_server: OpenAIServer) -> None:
    done = run_cli(
        "-m",
        "model=openai/gpt-4o-mini,opnai/gpt-4o",
        cwd=tmp_path,
        env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": model_server.base_url},
    )
    assert done.returncode == 2
    assert "did you mean 'openai'" in done.stderr and "job: model=opnai/gpt-4o" in done.stderr
    assert model_server.requests == []


def test_model_from_dotenv_and_model_args(tmp_path: Path, model_server: OpenAIServer) -> None:
    (tmp_path / ".env").write_text(
        f"INSPECT_EVAL_MODEL=openai/from-dotenv\nOPENAI_API_KEY={SECRET}\n"
        f"OPENAI_BASE_URL={model_server.base_url}\n"
    )
    done = run_cli(
        "limit=1",
        "roles.grader=openai/judge",
        "model_args.organization=org-123",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    first = model_server.chat_requests()[0]
    assert first.body["model"] == "from-dotenv"
    assert first.headers["openai-organization"] == "org-123"


def test_a_users_task_with_model_none_uses_roles_only(
    tmp_path: Path, model_server: OpenAIServer
) -> None:
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "where.csv").write_text("question,answer\nWhere?,basket\nAnd now?,box\n")
    (tmp_path / "conf" / "task" / "where.yaml").write_text(
        "name: where\n"
        "dataset: {path: where.csv, fields: {input: question, target: answer, id: null}}\n"
        "solvers: [{generate: {role: target}}]\n"
        "scorers: [includes]\n"
    )
    done = run_cli(
        "task=where",
        "model=none",
        "+roles.target=vllm/subject",
        "display=none",
        cwd=tmp_path,
        env={"VLLM_BASE_URL": model_server.base_url},
    )
    assert done.returncode == 0, done.stderr
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.eval.model == "none"
    assert log.results is not None and log.results.scores[0].metrics["accuracy"].value == 0.5
    assert {r.body["model"] for r in model_server.chat_requests()} == {"subject"}


def test_python_api_runs_the_same_path(
    tmp_path: Path,
    model_server: OpenAIServer,
    grader_server: OpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import engine

    monkeypatch.chdir(tmp_path)
    for name, value in server_env(model_server, grader_server).items():
        monkeypatch.setenv(name, value)
    result = engine.run(["model=openai/gpt-4o-mini", "roles.grader=vllm/judge", "limit=3"])
    assert result.status == "success" and result.samples == 3
    assert result.metrics["model_graded_fact"]["accuracy"] == 1.0
    assert read_log_header(result.log_path)["status"] == "success"


def test_a_killed_run_keeps_what_it_scored(tmp_path: Path) -> None:
    gate = Gate(fixed("the basket"), passes=40)  # half the run's 80 requests: it cannot finish
    with OpenAIServer(gate) as server:
        env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
        process = start_cli(
            "model=openai/m",
            "roles.grader=openai/m",
            "limit=40",
            "connection.max_connections=2",
            "display=none",
            cwd=tmp_path,
            env=env,
        )
        journal = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            journals = list(tmp_path.rglob("*.samples.jsonl"))
            if journals and len(journals[0].read_text().splitlines()) >= 3:
                journal = journals[0]
                break
            time.sleep(0.05)
        process.kill()
        process.wait()
        gate.release()
    assert journal is not None
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert len(records) >= 3
    assert all(record["scores"]["model_graded_fact"]["value"] in ("C", "I") for record in records)
    started = read_log_header(the_log(tmp_path / "logs"))
    assert started["status"] == "started"
