"""An interrupted run keeps every scored sample and the same command resumes from there."""

from __future__ import annotations

import json
import signal
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from engine.logs import LOG_SUFFIXES, read_log_header
from tests.support.cli import run_cli, start_cli
from tests.support.openai_server import (
    Gate,
    OpenAIServer,
    Request,
    error,
    refuse_every_other_prompt,
)
from tests.support.processes import stop

ARGS = ["model=openai/m", "limit=30", "connection.max_connections=3", "display=none"]


def answer(request: Request) -> str:
    prompt = request.messages[-1]["content"]
    return "GRADE: C" if "[Expert]:" in prompt else "the basket"


def generate_inputs(server: OpenAIServer) -> Counter[str]:
    """How often each sample's input was sent to be answered (grading requests excluded)."""
    return Counter(
        r.messages[-1]["content"]
        for r in server.chat_requests()
        if "[Expert]:" not in r.messages[-1]["content"]
    )


def journal_lines(cwd: Path) -> int:
    journals = list(cwd.rglob("*.samples.jsonl"))
    return len(journals[0].read_text().splitlines()) if journals else 0


def interrupt_midway(cwd: Path, server: OpenAIServer, gate: Gate, how: signal.Signals) -> None:
    """Signal the run once 6 samples are journaled. The server answers only the first 20 requests
    (at least 8 samples' answer and grade) and holds the rest, so however slow or fast the machine,
    the run is still going when the signal arrives; the gate opens afterwards for the resume."""
    env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
    process = start_cli(*ARGS, cwd=cwd, env=env)
    try:
        deadline = time.monotonic() + 120  # a failure timeout, not a pace
        while journal_lines(cwd) < 6 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert journal_lines(cwd) >= 6 and process.poll() is None, "the run never got midway"
        process.send_signal(how)
        process.wait(timeout=300)  # a failure timeout: the run writes its log first
    finally:
        stop(process)
        gate.release()


def final_log(cwd: Path) -> Path:
    (log,) = [p for p in cwd.rglob("*") if p.suffix in LOG_SUFFIXES and not p.name.startswith(".")]
    return log


def test_resume_after_kill_9_runs_only_what_was_not_scored(tmp_path: Path) -> None:
    gate = Gate(answer, passes=20)
    with OpenAIServer(gate) as server:
        interrupt_midway(tmp_path, server, gate, signal.SIGKILL)
        scored_before = {
            json.loads(line)["id"] for line in next(tmp_path.rglob("*.samples.jsonl")).open()
        }
        assert 6 <= len(scored_before) < 30

        done = run_cli(
            *ARGS, cwd=tmp_path, env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
        )
        assert done.returncode == 0, done.stderr
        assert "resuming the interrupted run" in done.stderr
        sent = generate_inputs(server)

    log = read_eval_log(str(final_log(tmp_path)))
    assert log.status == "success"
    assert log.samples is not None
    ids = [sample.id for sample in log.samples]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert all(
        sample.scores and sample.scores["model_graded_fact"].value == "C" for sample in log.samples
    )
    assert log.results is not None and log.results.scores[0].metrics["accuracy"].value == 1.0
    by_id = {sample.id: sample for sample in log.samples}
    for sample_id in scored_before:
        assert sent[str(by_id[sample_id].input)] == 1, (
            f"{sample_id} was sent again after being scored"
        )
    assert len(list(tmp_path.glob("logs/*"))) == 1  # the same run folder, not a new one
    assert not list(tmp_path.rglob("*.samples.jsonl"))  # the journal goes once the run succeeds


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_leaves_a_readable_cancelled_log_that_resumes(
    tmp_path: Path, how: signal.Signals
) -> None:
    gate = Gate(answer, passes=20)
    with OpenAIServer(gate) as server:
        interrupt_midway(tmp_path, server, gate, how)
        cancelled = read_eval_log(str(final_log(tmp_path)))
        assert cancelled.status == "cancelled"
        assert cancelled.samples is not None and 6 <= len(cancelled.samples) < 30

        done = run_cli(
            *ARGS, cwd=tmp_path, env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
        )
        assert done.returncode == 0, done.stderr

    log = read_eval_log(str(final_log(tmp_path)))
    assert log.status == "success"
    assert log.samples is not None and len({s.id for s in log.samples}) == len(log.samples) == 30


def test_samples_that_failed_in_a_scorer_run_again_and_only_they(tmp_path: Path) -> None:
    grader_down = {"on": True}

    def flaky_grader(request: Request) -> str | object:
        prompt = request.messages[-1]["content"]
        if "[Expert]:" not in prompt:
            return "the basket"
        if grader_down["on"] and "Sally" in prompt:
            return error(400, "grader refused")
        return "GRADE: C"

    env_args = ["model=openai/m", "limit=12", "display=none"]
    with OpenAIServer(flaky_grader) as server:
        env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
        first = run_cli(*env_args, cwd=tmp_path, env=env)
        assert first.returncode == 1
        failed = read_eval_log(str(final_log(tmp_path)))
        assert failed.status == "error" and failed.samples is not None
        failed_inputs = {str(s.input) for s in failed.samples if s.error is not None}
        assert 0 < len(failed_inputs) < 12
        # A sample that failed in its scorer keeps the transcript it had: the model's answer.
        assert all(
            s.output.completion == "the basket" for s in failed.samples if s.error is not None
        )

        grader_down["on"] = False
        before = generate_inputs(server)
        second = run_cli(*env_args, cwd=tmp_path, env=env)
        assert second.returncode == 0, second.stderr
        rerun = generate_inputs(server) - before

    assert set(rerun) == failed_inputs
    log = read_eval_log(str(final_log(tmp_path)))
    assert log.status == "success" and log.samples is not None and len(log.samples) == 12
    assert all(s.error is None for s in log.samples)


def test_retry_on_error_reruns_a_failed_sample_and_records_the_failure(tmp_path: Path) -> None:
    calls = Counter[str]()

    def once_broken(request: Request) -> str | object:
        prompt = request.messages[-1]["content"]
        calls[prompt] += 1
        if "[Expert]:" in prompt:
            return "GRADE: C"
        return error(400, "transient nonsense") if calls[prompt] == 1 else "the basket"

    with OpenAIServer(once_broken) as server:
        env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
        done = run_cli(
            "model=openai/m", "limit=3", "retry_on_error=1", "display=none", cwd=tmp_path, env=env
        )
    assert done.returncode == 0, done.stderr
    log = read_eval_log(str(final_log(tmp_path)))
    assert log.samples is not None and all(s.error is None for s in log.samples)
    for sample in log.samples:
        assert sample.error_retries is not None and len(sample.error_retries) == 1
        assert "transient nonsense" in sample.error_retries[0].message


def test_a_finished_run_or_resume_false_or_another_config_starts_afresh(tmp_path: Path) -> None:
    with OpenAIServer(answer) as server:
        env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
        assert run_cli("model=openai/m", "limit=2", cwd=tmp_path, env=env).returncode == 0
        assert run_cli("model=openai/m", "limit=2", cwd=tmp_path, env=env).returncode == 0
        assert len(list((tmp_path / "logs").iterdir())) == 2
        # An unfinished run of another config is not resumed by this one.
        state = next((tmp_path / "logs").glob("*/run.state"))
        state.write_text(state.read_text().replace('"success"', '"cancelled"'))
        assert run_cli("model=openai/m", "limit=3", cwd=tmp_path, env=env).returncode == 0
        assert (
            run_cli("model=openai/m", "limit=2", "resume=false", cwd=tmp_path, env=env).returncode
            == 0
        )
        assert len(list((tmp_path / "logs").iterdir())) == 4


def test_an_unseeded_shuffle_resumes_with_the_samples_it_drew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`shuffle=true` without a seed draws one; a resume reuses it, so the sample set never grows."""
    from engine.config import compose_config
    from engine.runner import run_composed
    from engine.runner._display import Display

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    args = ["model=openai/m", "limit=8", "shuffle=true", "connection.max_connections=2"]

    with OpenAIServer(refuse_every_other_prompt()) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        first = run_composed(compose_config(args), display=Display())
    assert first.status == "error" and 0 < first.errors < 8
    header = read_log_header(first.log_path)["eval"]
    drawn = header["config"]["sample_shuffle"]
    assert isinstance(drawn, int) and header["dataset"]["shuffled"] is True
    assert json.loads((first.log_path.parent / "run.state").read_text())["shuffle_seed"] == drawn

    with OpenAIServer(answer) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        second = run_composed(compose_config(args), display=Display())
        sent = generate_inputs(server)
    assert second.status == "success" and second.log_path == first.log_path
    assert second.resumed == 8 - first.errors and sum(sent.values()) == first.errors
    log = read_eval_log(str(second.log_path))
    assert log.samples is not None and log.results is not None
    assert sorted(str(s.id) for s in log.samples) == sorted(
        map(str, header["dataset"]["sample_ids"])
    )
    assert log.results.total_samples == 8 and log.results.scores[0].scored_samples == 8
    assert log.eval.config.sample_shuffle == drawn


@pytest.mark.parametrize("log_format", ["eval", "json"])
def test_kill_9_mid_run_then_the_same_command_gives_exactly_n_samples(
    tmp_path: Path, log_format: str
) -> None:
    """One connection, so samples run one after another: when the 9th request (sample 5's
    answer) is held, samples 1-4 (an answer and a grade each) are scored and journaled."""
    args = ["model=openai/m", "limit=12", "connection.max_connections=1", "display=none"]
    args.append(f"log_format={log_format}")
    gate = Gate(answer, passes=8)
    with OpenAIServer(gate) as server:
        env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
        process = start_cli(*args, cwd=tmp_path, env=env)
        try:
            gate.wait_arrived(9)  # the 9th request is held: samples 1-4 are scored
            process.kill()
            process.wait(timeout=30)
        finally:
            stop(process)
        killed = final_log(tmp_path)
        assert killed.suffix == f".{log_format}"
        assert read_eval_log(str(killed)).status == "started"
        gate.release()
        done = run_cli(*args, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        sent = generate_inputs(server)

    log = read_eval_log(str(final_log(tmp_path)))
    assert log.status == "success" and log.samples is not None
    assert len(log.samples) == 12 and len({s.id for s in log.samples}) == 12
    assert all(s.scores and s.scores["model_graded_fact"].value == "C" for s in log.samples)
    repeated = [text for text, times in sent.items() if times > 1]
    assert len(repeated) == 1  # only sample 5, whose answer never came, was asked again
    assert sum(sent.values()) == 13
    if log_format == "eval":
        assert not list(tmp_path.rglob(".*.part"))
        assert zipfile.ZipFile(final_log(tmp_path)).testzip() is None


def test_an_interrupted_run_resumes_in_the_format_it_began_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine

    grader_down = {"on": True}

    def respond(request: Request) -> str | object:
        if "[Expert]:" in request.messages[-1]["content"] and grader_down["on"]:
            return error(400, "grader refused")
        return answer(request)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    with OpenAIServer(respond) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        first = engine.run(["model=openai/m", "limit=3", "log_format=json"])
        assert first.status == "error" and first.log_path.suffix == ".json"
        grader_down["on"] = False
        second = engine.run(["model=openai/m", "limit=3"])  # the default format is eval
    assert second.status == "success" and second.log_path == first.log_path
    assert len(read_eval_log(str(second.log_path)).samples or []) == 3
