"""The comparison reads `.eval` and JSON logs alike, finished or still running."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from engine.compare import find_logs, read_run
from engine.logs import EvalLogWriter
from tests.logs.test_eval_zip import HEADER
from tests.logs.test_writer import sample
from tests.support.openai_server import OpenAIServer, fixed


def test_eval_and_json_logs_of_the_same_run_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    with OpenAIServer(fixed("the basket")) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        for log_format in ("eval", "json"):
            args = ["model=openai/m", "roles.grader=openai/m", "limit=3", "resume=false"]
            engine.run([*args, f"log_format={log_format}"])
    logs = find_logs([tmp_path / "logs"])
    assert sorted(path.suffix for path in logs) == [".eval", ".json"]
    eval_run, json_run = sorted((read_run(path) for path in logs), key=lambda r: r.path.suffix)
    assert eval_run.scores == json_run.scores and len(eval_run.scores) == 3
    assert eval_run.answers == json_run.answers
    assert eval_run.usage == json_run.usage


def test_an_unfinished_eval_log_shows_what_it_scored_so_far(tmp_path: Path) -> None:
    writer = EvalLogWriter(tmp_path / "2026-01-01T00-00-00_t_m.eval", HEADER)
    writer.start()
    writer.write_sample(sample(0))
    writer.write_sample(sample(1))
    run = read_run(writer.path)  # killed here: no header, the samples are in the part file
    assert run.status == "started"
    assert sorted(run.scores) == [("0", 1), ("1", 1)]
