"""Samples that never wait still take turns on the event loop.

An in-process model (`mockllm/model`) answers without waiting on anything, and taking a free
connection slot gives no turn either. Without a turn before each sample, one worker ran the whole
job in a single step of the loop: the other workers, SIGTERM and Ctrl-C (which the loop handles)
and the timers all waited until every sample was done.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from engine.logs import read_log
from tests.support.cli import start_cli

N = 400
CONNECTIONS = 4

COMPONENTS = '''\
import os
import signal

from engine import solver


@solver
def terminate_at(sample_id: str):
    """Sends this process SIGTERM while the sample `sample_id` runs (as `kill` would)."""

    async def solve(state, generate):
        if state.sample.id == sample_id:
            os.kill(os.getpid(), signal.SIGTERM)
        return await generate(state)

    return solve
'''


def test_sigterm_stops_a_run_whose_samples_never_wait(tmp_path: Path) -> None:
    rows = (json.dumps({"id": f"s{i}", "input": f"q{i}", "target": "A"}) for i in range(N))
    (tmp_path / "data.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "conf" / "task" / "still.yaml").write_text(
        "name: still\ndataset: {path: data.jsonl}\n"
        "solvers: [{still/components.py:terminate_at: {sample_id: s5}}]\n"
        "scorers: [match]\nmetrics: [accuracy]\n",
        encoding="utf-8",
    )
    (tmp_path / "tasks" / "still").mkdir(parents=True)
    (tmp_path / "tasks" / "still" / "components.py").write_text(COMPONENTS, encoding="utf-8")

    process = start_cli(
        "task=still",
        "model=mockllm/model",
        f"connection.max_connections={CONNECTIONS}",
        "display=none",
        f"log_dir={tmp_path / 'logs'}",
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, err = process.communicate(timeout=120)

    assert process.returncode == 130, err
    assert "interrupted; scored samples are in the log" in err
    (log_path,) = [p for p in (tmp_path / "logs").rglob("*.eval") if not p.name.startswith(".")]
    log = read_log(log_path)
    assert log["status"] == "cancelled"
    ids = [sample["id"] for sample in log["samples"]]
    assert {f"s{i}" for i in range(5)} <= set(ids)  # those that ran before the signal are kept
    # Stopped within a few turns of the loop (each turn runs one sample per worker), not after
    # every sample had run.
    assert len(ids) < N // 4, f"{len(ids)} of {N} samples ran after SIGTERM"
