"""`batch=on` end to end from the CLI: the model and the grader go through batch APIs."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

from inspect_ai.log import read_eval_log

from engine.compare import read_run
from tests.support.batch_servers import AnthropicBatchServer, OpenAIBatchServer
from tests.support.cli import start_cli
from tests.support.openai_server import Request, fixed
from tests.support.processes import stop
from tests.test_cli import run_cli, the_log

# max_size=size: batches of exactly `size` (unset, a batch takes up to the provider's limit, as Inspect)
FAST_BATCHES = [
    "batch=on",
    "batch.size=2",
    "batch.max_size=2",
    "batch.send_delay=0.3",
    "batch.tick=0.05",
]


def answer(request: Request) -> str:
    prompt = request.messages[-1]["content"]
    return "GRADE: C" if "[Expert]:" in prompt else "the basket"


def batches_by_model(server: OpenAIBatchServer) -> Counter[str]:
    return Counter(batch.lines[0]["body"]["model"] for batch in server.batches.values())


def grade_c(request: Request) -> str:
    return "The submission names the same container.\nGRADE: C"


def test_model_and_grader_run_in_batches_sized_by_size_and_send_delay(tmp_path: Path) -> None:
    with (
        OpenAIBatchServer(fixed("the basket"), batch_delay=0.1) as model_server,
        AnthropicBatchServer(grade_c, batch_delay=0.1) as grader_server,
    ):
        env = {
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": model_server.base_url,
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "ANTHROPIC_BASE_URL": grader_server.base_url,
        }
        done = run_cli(
            "task=theory_of_mind",
            "model=openai/gpt-4o-mini",
            "roles.grader=anthropic/claude-3-5-haiku-latest",
            "limit=5",
            "display=plain",
            *FAST_BATCHES,
            cwd=tmp_path,
            env=env,
        )
    assert done.returncode == 0, done.stderr
    assert "accuracy=1.000" in done.stdout
    progress = r"batches \d+ pending, \d+ in flight, \d+ done; requests \d+ queued, \d+ in batches"
    assert re.search(progress, done.stderr)  # the plain display's first batch line
    assert not model_server.chat_requests() and not grader_server.message_requests()
    # 5 requests each, size 2: two full batches at once, the fifth alone after send_delay.
    for server in (model_server, grader_server):
        assert sorted(len(b.lines) for b in server.batches.values()) == [1, 2, 2]
    graded = [line["params"] for b in grader_server.batches.values() for line in b.lines]
    assert all("the basket" in p["messages"][-1]["content"] for p in graded)

    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.status == "success" and log.samples is not None and len(log.samples) == 5
    assert all(
        s.output.metadata and s.output.metadata["batch"] in model_server.batches
        for s in log.samples
    )
    assert log.results is not None and log.results.metadata is not None
    logged = log.results.metadata["batches"]
    assert sorted(logged["openai/gpt-4o-mini"]) == sorted(model_server.batches)
    assert sorted(logged["anthropic/claude-3-5-haiku-latest"]) == sorted(grader_server.batches)
    # The comparison prices both models at their batch prices.
    run = read_run(the_log(tmp_path / "logs"))
    assert run.batched == {"openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"}


def test_a_killed_batch_run_reattaches_to_its_batches_instead_of_paying_twice(
    tmp_path: Path,
) -> None:
    """Killed while the grader's batches run (the model's have ended, their samples unscored)."""
    args = ["model=openai/gpt-4o-mini", "roles.grader=anthropic/claude-3-5-haiku-latest"]
    args += ["limit=4", "display=none", *FAST_BATCHES]
    with (
        OpenAIBatchServer(fixed("the basket"), batch_delay=0.1) as model_server,
        AnthropicBatchServer(grade_c, batch_delay=60) as grader_server,
    ):
        env = {
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": model_server.base_url,
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "ANTHROPIC_BASE_URL": grader_server.base_url,
        }
        process = start_cli(*args, cwd=tmp_path, env=env)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and journaled_batches(tmp_path) < 4:
                time.sleep(0.02)
            process.kill()
            process.wait(timeout=30)
        finally:
            stop(process)
        models_first, graders_first = set(model_server.batches), set(grader_server.batches)
        assert (len(models_first), len(graders_first)) == (2, 2)
        assert journal_lines(tmp_path) == 0  # no sample was scored: all four are resumed

        grader_server.batch_delay = 0.1  # the provider finishes them while nobody is watching
        done = run_cli(*args, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        assert "resuming the interrupted run" in done.stderr

    # Nothing was created twice: the model's ended batches were read again, the grader's polled.
    assert set(model_server.batches) == models_first
    assert set(grader_server.batches) == graders_first
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.status == "success" and log.samples is not None and len(log.samples) == 4
    assert {s.output.metadata["batch"] for s in log.samples if s.output.metadata} == models_first
    # Each model event names the batch that answered it, under its role.
    calls = [e for s in log.samples for e in s.events if e.event == "model"]
    assert {e.metadata["batch"] for e in calls if e.role is None} == models_first
    assert {e.metadata["batch"] for e in calls if e.role == "grader"} == graders_first
    assert all(s.scores and s.scores["model_graded_fact"].value == "C" for s in log.samples)


def journaled_batches(cwd: Path) -> int:
    journals = list(cwd.rglob("*.batches.jsonl"))
    return journals[0].read_text().count('"created"') if journals else 0


def journal_lines(cwd: Path) -> int:
    journals = list(cwd.rglob("*.samples.jsonl"))
    return len(journals[0].read_text().splitlines()) if journals else 0


def test_a_provider_without_a_batch_api_runs_normally_and_the_run_says_so_once(
    tmp_path: Path,
) -> None:
    with OpenAIBatchServer(answer) as server:
        done = run_cli(
            "model=vllm/local",
            "roles.grader=vllm/judge",
            "limit=3",
            "display=none",
            "batch=on",
            cwd=tmp_path,
            env={"VLLM_BASE_URL": server.base_url},
        )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("vllm has no batch API") == 1
    assert len(server.chat_requests()) == 6 and not server.batches
