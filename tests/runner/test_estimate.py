"""`inspect-run plan`: per job and role, the requests, tokens and cost a run then really spends,
found without sending anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import cli
from engine.logs import read_log
from engine.runner._estimate import TOKEN_ERROR
from tests.support.openai_server import OpenAIServer, Reply, Request
from tests.support.tokens import counting_tokens

N = 12
PRICES = (
    "openai/a: {input: 2.0, output: 8.0}\n"
    "openai/b: {input: 1.0, output: 4.0, batch_input: 0.5, batch_output: 2.0}\n"
    "openai/g: {input: 3.0, output: 6.0}\n"
)
SWEEP = ["-m", "task=quiz", "model=openai/a,openai/b", "display=none", "generation.max_tokens=2"]


def answer(request: Request) -> Reply:
    """Exactly `max_tokens` (2) words; prompt tokens counted by a real BPE tokenizer."""
    return counting_tokens("GRADE: C" if request.model == "g" else "the answer")(request)


@pytest.fixture
def conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "conf" / "prices").mkdir()
    (tmp_path / "conf" / "prices" / "default.yaml").write_text(PRICES)
    lines = [
        json.dumps({"id": f"q{n}", "input": f"What is item {n} of the list here?", "target": "x"})
        for n in range(N)
    ]
    (tmp_path / "quiz.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "conf" / "task" / "quiz.yaml").write_text(
        "name: quiz\ndataset: {path: quiz.jsonl}\nsolvers: [generate]\n"
        "scorers: [model_graded_qa]\n"
        "roles:\n  grader: {model: openai/g, generation: {max_tokens: 2}}\n"
    )
    return tmp_path


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> OpenAIServer:
    with OpenAIServer(answer) as running:
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test-key")
        monkeypatch.setenv("INSPECT_RUN_CACHE_DIR", str(Path.cwd() / "cache"))
        yield running


def planned(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    capsys.readouterr()
    assert cli(["plan", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_sweep_plan_matches_what_the_server_then_counts(
    conf: Path, server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = planned(capsys, *SWEEP)
    assert server.requests == []  # planning sent nothing, not even a model list
    assert not Path("logs").exists()  # and claimed no folder
    jobs = {job["model"]: job for job in plan["jobs"]}
    assert sorted(jobs) == ["openai/a", "openai/b"]
    for job in jobs.values():
        roles = {c["role"]: c for c in job["calls"]}
        assert set(roles) == {"model", "grader"}
        assert roles["model"]["requests"] == roles["grader"]["requests"] == N
        assert roles["grader"]["model"] == "openai/g"
        assert job["samples"] == N and job["epochs"] == 1 and job["estimated"]

    assert cli(SWEEP) == 0
    sent = [r.model for r in server.chat_requests()]
    assert sent.count("a") == sent.count("b") == N and sent.count("g") == 2 * N

    from engine.compare import find_price, usage_cost

    prices = {
        "openai/a": {"input": 2.0, "output": 8.0},
        "openai/b": {"input": 1.0, "output": 4.0},
        "openai/g": {"input": 3.0, "output": 6.0},
    }
    for log_path in Path("logs").rglob("*.eval"):
        log = read_log(log_path)
        job = jobs[log["eval"]["model"]]
        usage = log["stats"]["model_usage"]
        for calls in job["calls"]:
            used = usage[calls["model"]]  # this job's share of the grader shared by both
            assert calls["output_tokens"] == used["output_tokens"]  # max_tokens was used in full
            error = abs(calls["input_tokens"] - used["input_tokens"]) / used["input_tokens"]
            assert error <= TOKEN_ERROR, (calls, used)
        cost = sum(
            usage_cost(usage[c["model"]], find_price(prices, c["model"]) or {})
            for c in job["calls"]
        )
        assert abs(job["cost"] - cost) <= TOKEN_ERROR * cost


def test_plan_counts_cached_answers_and_batch_prices_and_sends_nothing(
    conf: Path, server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["task=quiz", "model=openai/a", "display=none", "cache=on", "limit=5"]) == 0
    server.reset()
    plan = planned(capsys, "task=quiz", "model=openai/a", "cache=on", "limit=8")
    (job,) = plan["jobs"]
    roles = {c["role"]: c for c in job["calls"]}
    assert roles["model"]["requests"] == 8 and roles["model"]["cached"] == 5
    assert roles["grader"]["cached"] == 0  # the grader saw the real answers, not a placeholder
    assert plan["total"]["cached"] == 5
    batched = planned(capsys, "task=quiz", "model=openai/b", "batch=on")["jobs"][0]
    model = next(c for c in batched["calls"] if c["role"] == "model")
    assert model["batched"] is True
    full = (model["input_tokens"] * 1.0 + model["output_tokens"] * 4.0) / 1e6
    assert model["cost"] == pytest.approx(full / 2)
    assert server.requests == []


def test_plan_text_names_roles_and_says_it_estimates(
    conf: Path, server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli(["task=quiz", "model=openai/a", "plan=true"]) == 0
    out = capsys.readouterr().out
    assert "grader" in out and "openai/g" in out and "nothing was sent" in out
    assert "characters / 4" in out
    assert server.requests == []


def test_plan_true_in_a_sweep_file_plans_the_sweep(
    conf: Path, server: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    (conf / "conf" / "sweep").mkdir()
    (conf / "conf" / "sweep" / "costs.yaml").write_text(
        "# @package _global_\nplan: true\n"
        "hydra:\n  sweeper:\n    params:\n      model: openai/a,openai/b\n"
    )
    capsys.readouterr()
    assert cli(["+sweep=costs", "task=quiz", "display=none", "--json"]) == 0
    jobs = json.loads(capsys.readouterr().out)["jobs"]
    assert len(jobs) == 2
    assert server.requests == [] and not Path("logs").exists()
