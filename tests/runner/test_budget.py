"""`budget.cost` / `budget.tokens`: a run stops starting samples at the cap, leaves a resumable log
that says why, and the same command with a higher cap finishes it without repeating a request."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from engine.cli import cli
from engine.logs import read_log, read_run_file
from tests.support.openai_server import OpenAIServer, fixed

N = 20
# One output token costs $1 and input is free: every sample costs exactly $1 (max_tokens=1).
PRICES = "openai/a: {input: 0.0, output: 1000000.0}\nopenai/b: {input: 0.0, output: 1000000.0}\n"
RUN = ["task=many", "model=openai/a", "display=none", "generation.max_tokens=1"]


@pytest.fixture
def conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "conf" / "prices").mkdir()
    (tmp_path / "conf" / "prices" / "default.yaml").write_text(PRICES)
    (tmp_path / "many.jsonl").write_text(
        "".join(
            json.dumps({"id": f"m{n}", "input": f"say m{n}", "target": "ok"}) + "\n"
            for n in range(N)
        )
    )
    (tmp_path / "conf" / "task" / "many.yaml").write_text(
        "name: many\ndataset: {path: many.jsonl}\nscorers: [includes]\n"
    )
    return tmp_path


def serve(monkeypatch: pytest.MonkeyPatch, server: OpenAIServer) -> OpenAIServer:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test-key")
    return server


def prompts(server: OpenAIServer) -> Counter[str]:
    return Counter(str(r.messages[-1]["content"]) for r in server.chat_requests())


def only_log() -> Path:
    (log,) = Path("logs").rglob("*.eval")
    return log


def test_half_a_budget_stops_at_half_and_a_bigger_one_finishes_without_repeats(
    conf: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with OpenAIServer(fixed("ok")) as server:
        serve(monkeypatch, server)  # 4 samples at a time: the cap holds with samples in flight
        code = cli([*RUN, "connection.max_connections=4", "budget.cost=10"])
        assert code == 1
        err = capsys.readouterr().err
        assert "budget reached" in err and "budget.cost=$10" in err
        stopped = read_log(only_log())
        assert stopped["status"] == "error" and "budget reached" in stopped["error"]["message"]
        assert len(stopped["samples"]) == len(server.chat_requests()) == N // 2
        assert all(s["scores"]["includes"]["value"] == "C" for s in stopped["samples"])
        assert read_run_file(only_log().parent)["status"] == "error"  # resumable

        assert cli([*RUN, "connection.max_connections=4", "budget.cost=100"]) == 0
        assert set(prompts(server).values()) == {1} and len(prompts(server)) == N
    finished = read_log(only_log())
    assert finished["status"] == "success"
    assert sorted(s["id"] for s in finished["samples"]) == sorted(f"m{n}" for n in range(N))
    assert finished["stats"]["model_usage"]["openai/a"]["output_tokens"] == N


def test_a_sweep_budget_covers_all_its_jobs(
    conf: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with OpenAIServer(fixed("ok")) as server:
        serve(monkeypatch, server)
        sweep = ["-m", *RUN[:1], "model=openai/a,openai/b", *RUN[2:], "budget.cost=15"]
        assert cli(sweep) == 1
        assert len(server.chat_requests()) == 15
        logs = [read_log(p) for p in Path("logs").rglob("*.eval")]
        assert sum(len(log["samples"]) for log in logs) == 15
        assert "budget reached" in capsys.readouterr().err
        assert cli([*sweep[:-1], "budget.cost=40"]) == 0
        assert len(prompts(server)) == N and len(server.chat_requests()) == 2 * N
    logs = [read_log(p) for p in Path("logs").rglob("*.eval")]
    assert [len(log["samples"]) for log in logs] == [N, N]


def test_a_token_budget_stops_before_passing_the_cap(
    conf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OpenAIServer(fixed("ok")) as server:
        serve(monkeypatch, server)
        # Each sample: 2 prompt words + 1 answer word = 3 tokens, as this server counts them.
        assert cli([*RUN, "connection.max_connections=1", "budget.tokens=30"]) == 1
        sent = len(server.chat_requests())
    log = read_log(only_log())
    used = log["stats"]["model_usage"]["openai/a"]
    assert used["input_tokens"] + used["output_tokens"] <= 30
    assert 0 < sent == len(log["samples"]) < N and "budget.tokens=30" in log["error"]["message"]


def test_a_budget_without_a_price_is_a_config_error_before_any_request(
    conf: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with OpenAIServer(fixed("ok")) as server:
        serve(monkeypatch, server)
        code = cli(["task=many", "model=openai/unpriced", "display=none", "budget.cost=5"])
        assert server.requests == []
    assert code == 2
    err = capsys.readouterr().err
    assert "openai/unpriced" in err and "prices.openai/unpriced" in err and "budget.cost" in err
