"""Sample identity: a repeated id is a config error, or (by option) numbered, and resume keys on it."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from engine.cli import cli
from tests.runner.test_ownership import journal_lines, start, the_log
from tests.support.openai_server import Gate, OpenAIServer, echo

IDS = ["x1", "x1", "x2", "x2", "x3", "x3"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    with (tmp_path / "dup.jsonl").open("w", encoding="utf-8") as file:
        for index, sample_id in enumerate(IDS):
            record = {"id": sample_id, "input": f"say n{index}", "target": f"n{index}"}
            file.write(json.dumps(record) + "\n")
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "conf" / "task" / "echo.yaml").write_text(
        "name: echo\ndataset:\n  path: dup.jsonl\nscorers: [includes]\nmetrics: [accuracy]\n",
        encoding="utf-8",
    )
    return tmp_path


def test_duplicate_ids_exit_2_naming_both_lines_before_any_request(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    with OpenAIServer(echo) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        code = cli(["task=echo", "model=openai/m", "display=none"])
        assert server.chat_requests() == []
    err = capsys.readouterr().err
    assert code == 2
    assert "task.dataset" in err
    assert (
        f"duplicate sample id 'x1': {project / 'dup.jsonl'}:1 and {project / 'dup.jsonl'}:2" in err
    )
    assert not (project / "logs").exists()


def test_suffixed_ids_survive_kill_9_and_resume_with_every_sample(project: Path) -> None:
    gate = Gate(echo, passes=3)
    option = ["task.dataset.duplicate_ids=suffix", "connection.max_connections=1"]
    with OpenAIServer(gate) as server:
        killed = start(project, server, *option)
        try:
            gate.wait_arrived(4)
            while journal_lines(project) < 3:  # the 3 answered samples are on disk
                time.sleep(0.01)
        finally:
            killed.send_signal(signal.SIGKILL)
            killed.wait()
        gate.release()
        resumed = start(project, server, *option)
        _, err = resumed.communicate()
        assert resumed.returncode == 0, err
    log = the_log(project)
    assert log["status"] == "success"
    assert sorted(s["id"] for s in log["samples"]) == ["x1", "x1#2", "x2", "x2#2", "x3", "x3#2"]
    assert log["results"]["completed_samples"] == 6
    assert all(s["scores"]["includes"]["value"] == "C" for s in log["samples"])
