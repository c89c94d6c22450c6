"""`inspect-run score`: re-score a log with another grader or scorer, without generating again."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from inspect_ai.event import ModelEvent
from inspect_ai.log import read_eval_log

import engine
from engine.cli import cli
from tests.support.openai_server import OpenAIServer, Request

SAMPLES = 6


def respond(request: Request) -> str:
    prompt = request.messages[-1]["content"]
    if "[Expert]:" not in prompt:
        return "the basket"
    if request.model == "strict":  # the new grader fails every other story
        return "GRADE: I" if "Sally" in prompt else "GRADE: C"
    return "GRADE: C"


@pytest.fixture
def graded_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[OpenAIServer, Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("INSPECT_RUN_CACHE_DIR", str(tmp_path / "cache"))
    server = OpenAIServer(respond).start()
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    result = engine.run(["model=openai/m", "roles.grader=openai/lenient", f"limit={SAMPLES}"])
    assert result.status == "success"
    server.reset()
    yield server, result.log_path
    server.stop()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_another_grader_sends_only_grader_requests_and_writes_a_new_log(
    graded_log: tuple[OpenAIServer, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    server, source = graded_log
    before = digest(source)
    assert cli(["score", str(source), "roles.grader=openai/strict"]) == 0
    sent = server.chat_requests()
    assert [r.model for r in sent] == ["strict"] * SAMPLES
    assert all("[Expert]:" in r.messages[-1]["content"] for r in sent)
    assert digest(source) == before  # the old log is never touched

    rescored = source.with_name(f"{source.stem}-scored.eval")
    out = capsys.readouterr().out
    assert f"{source} → {rescored}" in out
    log = read_eval_log(str(rescored))
    assert log.status == "success" and log.samples is not None and len(log.samples) == SAMPLES
    new_values = [s.scores["model_graded_fact"].value for s in log.samples if s.scores]
    failed = new_values.count("I")
    assert 0 < failed < SAMPLES
    agreeing = SAMPLES - failed
    assert (
        f"model_graded_fact → model_graded_fact: mean 1.000 → {agreeing / SAMPLES:.3f}, "
        f"agreement {agreeing / SAMPLES:.1%} ({agreeing}/{SAMPLES})"
    ) in out
    assert log.eval.model_roles is not None and log.eval.model_roles["grader"].model == (
        "openai/strict"
    )
    assert log.eval.metadata["inspect_run"]["rescored_from"] == source.name
    # The replies are the old ones; the new grader's call is in the transcript under its role.
    sample = log.samples[0]
    assert sample.output.completion == "the basket"
    graders = [e for e in sample.events if isinstance(e, ModelEvent) and e.role == "grader"]
    assert [e.model for e in graders] == ["openai/lenient", "openai/strict"]
    assert graders[-1].output.usage is not None and graders[-1].output.usage.total_tokens > 0

    # Scoring again with the same grader is free (the cache), into yet another new log.
    server.reset()
    assert cli(["score", str(source), "roles.grader=openai/strict"]) == 0
    assert server.chat_requests() == []
    again = source.with_name(f"{source.stem}-scored-2.eval")
    assert read_eval_log(str(again)).results.scores[0].metrics["accuracy"].value == (
        agreeing / SAMPLES
    )


def test_another_scorer_needs_no_request_and_is_compared_with_the_old_one(
    graded_log: tuple[OpenAIServer, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    server, source = graded_log
    assert cli(["score", str(source), "includes", "log_format=json"]) == 0
    assert server.chat_requests() == []
    log = read_eval_log(str(source.with_name(f"{source.stem}-scored.json")))
    assert [s.name for s in log.results.scores] == ["includes"]
    correct = [s.scores["includes"].value for s in log.samples or [] if s.scores].count("C")
    assert (
        f"model_graded_fact → includes: mean 1.000 → {correct / SAMPLES:.3f}, "
        f"agreement {correct / SAMPLES:.1%} ({correct}/{SAMPLES})"
    ) in capsys.readouterr().out


def test_bad_input_exits_2_before_any_request(
    graded_log: tuple[OpenAIServer, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    server, source = graded_log
    assert cli(["score", str(source.with_name("missing.eval"))]) == 2
    assert "no such log" in capsys.readouterr().err
    assert cli(["score", str(source), "model_graded_fakt"]) == 2
    err = capsys.readouterr().err
    assert "task.scorers.0" in err and "model_graded_fact" in err  # did you mean
    assert cli(["score", str(source), "log_format=xml"]) == 2
    assert "log_format" in capsys.readouterr().err
    assert server.chat_requests() == []
    assert sorted(p.name for p in source.parent.glob("*scored*")) == []


def test_a_users_scorer_from_the_task_directory_rescores_a_log(
    graded_log: tuple[OpenAIServer, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`FILE.py:NAME` scorers load from `tasks/` beside `conf/`, as in a run; nothing is sent."""
    server, source = graded_log
    (tmp_path / "conf").mkdir(exist_ok=True)
    (tmp_path / "tasks").mkdir(exist_ok=True)
    (tmp_path / "tasks" / "mine.py").write_text(
        "from engine import CORRECT, INCORRECT, Score, scorer\n\n\n"
        "@scorer\ndef says_basket(word: str = 'basket'):\n"
        "    async def score(state):\n"
        "        found = word in state.output.completion\n"
        "        return Score(CORRECT if found else INCORRECT)\n\n"
        "    return score\n"
    )
    assert cli(["score", str(source), "mine.py:says_basket"]) == 0, capsys.readouterr().err
    assert server.chat_requests() == []
    log = read_eval_log(str(source.with_name(f"{source.stem}-scored.eval")))
    assert log.samples is not None
    assert [s.scores["says_basket"].value for s in log.samples if s.scores] == ["C"] * SAMPLES


def test_a_grader_given_only_settings_is_the_model_under_test_with_them(
    graded_log: tuple[OpenAIServer, Path],
) -> None:
    server, source = graded_log
    assert cli(["score", str(source), "roles.grader={generation: {temperature: 0}}"]) == 0
    sent = server.chat_requests()
    assert len(sent) == SAMPLES
    assert all(r.model == "m" and r.body["temperature"] == 0 for r in sent)
