"""A wrong API key stops the run after `connection.auth_failures_stop` refused requests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.config import compose_config
from engine.logs import read_log
from engine.runner import Display, EvalResult, run_composed
from tests.support.openai_server import OpenAIServer, echo, error, sequence

N = 50


@pytest.fixture
def conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "many.jsonl").write_text(
        "".join(
            json.dumps({"id": f"m{n}", "input": f"say m{n}", "target": f"m{n}"}) + "\n"
            for n in range(N)
        )
    )
    (tmp_path / "conf" / "task" / "many.yaml").write_text(
        "name: many\ndataset: {path: many.jsonl}\nscorers: [includes]\n"
    )
    return tmp_path / "conf"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    monkeypatch.setenv("OPENAI_BASE_URL", "")


def run(conf: Path, server: OpenAIServer, key: str, *extra: str) -> EvalResult:
    os.environ["OPENAI_BASE_URL"] = server.base_url  # restored by `environment`
    os.environ["OPENAI_API_KEY"] = key
    composed = compose_config(
        ["task=many", "model=openai/m", "connection.max_connections=10", *extra],
        config_dirs=[conf],
    )
    return run_composed(composed, display=Display())


def test_fifty_samples_against_a_401_send_at_most_k_requests_then_resume(
    conf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with OpenAIServer(echo, api_key="right") as server:
        stopped = run(conf, server, "wrong")
        refused = len(server.chat_requests())
        assert refused <= 3
        err = capsys.readouterr().err
        assert err.count("stopped after the first 3 requests") == 1
        assert "HTTP 401" in err and "auth_failures_stop" in err
        assert stopped.status == "error"
        log = read_log(stopped.log_path)
        assert log["status"] == "error"
        assert "stopped after the first 3 requests" in log["error"]["message"]
        assert len(log["samples"]) == refused  # only those sent; the rest never ran

        server.reset()
        resumed = run(conf, server, "right")
        assert len(server.chat_requests()) == N
    assert resumed.status == "success" and resumed.log_path == stopped.log_path
    log = read_log(resumed.log_path)
    assert sorted(s["id"] for s in log["samples"]) == sorted(f"m{n}" for n in range(N))
    assert all(s["scores"]["includes"]["value"] == "C" for s in log["samples"])


def test_an_answer_that_is_not_a_refusal_disarms_it(conf: Path) -> None:
    with OpenAIServer(sequence([error(401), error(403), echo])) as server:
        result = run(conf, server, "k", "connection.max_connections=1")
        assert len(server.chat_requests()) == N
    assert result.errors == 2 and result.status == "error"  # fail_on_error: two refused samples
    assert result.samples == N


def test_zero_turns_it_off(conf: Path) -> None:
    with OpenAIServer(echo, api_key="right") as server:
        result = run(conf, server, "wrong", "connection.auth_failures_stop=0")
        assert len(server.chat_requests()) == N
    assert result.errors == N
