"""Three shards as three processes, told their shard by Slurm and Kubernetes variables, killed
with SIGKILL while provably mid-run, resumed by the same commands, merged: the merged log equals
an unsharded run of the same config, and no scored sample was asked again."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from engine.cli import cli
from engine.logs import read_log, read_log_header
from tests.shards.helpers import content, logs_under
from tests.support.cli import start_cli
from tests.support.openai_server import Gate, OpenAIServer
from tests.support.processes import stop
from tests.support.quiz import QUESTIONS, answer, write_quiz
from tests.test_cli import run_cli

ARGS = ["task=quiz", "model=openai/best", "display=none", "connection.max_connections=1"]
SCHEDULERS = [
    ({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "3"}, []),
    ({"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "3"}, []),
    ({"JOB_COMPLETION_INDEX": "2"}, ["shards=3"]),
]


@pytest.mark.slow
def test_three_shard_processes_killed_and_resumed_merge_into_the_unsharded_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_quiz(tmp_path)
    passes = 12
    gate = Gate(answer, passes=passes)
    with OpenAIServer(gate) as server:
        env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
        processes = [
            start_cli(*ARGS, *extra, cwd=tmp_path, env={**env, **scheduler})
            for scheduler, extra in SCHEDULERS
        ]
        try:
            # One connection each: three held requests are one in each process, all mid-run.
            gate.wait_arrived(passes + 3)
            for process in processes:
                process.kill()
                process.wait(timeout=30)
        finally:
            for process in processes:
                stop(process)
        killed = logs_under(tmp_path / "logs")
        assert len(killed) == 3 and {read_log_header(p)["status"] for p in killed} == {"started"}
        # Merged now, the log holds what was scored and says the job is not finished.
        assert cli(["merge", str(tmp_path / "logs"), "-o", str(tmp_path / "partial.json")]) == 1
        partial = read_log(tmp_path / "partial.json")
        assert partial["status"] == "started" and len(partial["samples"]) == passes
        assert partial["results"]["total_samples"] == QUESTIONS
        gate.release()
        for scheduler, extra in SCHEDULERS:
            done = run_cli(*ARGS, *extra, cwd=tmp_path, env={**env, **scheduler})
            assert done.returncode == 0, done.stderr
            assert "resuming the interrupted run" in done.stderr
        sent = Counter(r.messages[-1]["content"] for r in server.chat_requests())
        # Only the three held requests, never answered, were asked again.
        assert sum(sent.values()) == QUESTIONS + 3 and max(sent.values()) <= 2

        monkeypatch.chdir(tmp_path)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        shards = logs_under(tmp_path / "logs")
        assert len(shards) == 3  # each shard resumed its own folder
        assert cli([*ARGS, "log_dir=logs"]) == 0
    (whole,) = set(logs_under(tmp_path / "logs")) - set(shards)
    assert cli(["merge", *map(str, shards), "-o", str(tmp_path / "merged.eval")]) == 0
    got, want = content(tmp_path / "merged.eval"), content(whole)
    assert got["samples"] == want["samples"] and len(got["samples"]) == QUESTIONS
    assert got["metrics"]["match"] == pytest.approx(want["metrics"]["match"])
    assert (got["status"], got["task_id"], got["reductions"]) == (
        "success",
        want["task_id"],
        want["reductions"],
    )
