"""Sweeps end to end: three local servers play three models whose right answers are known."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from inspect_ai.log import read_eval_log

from tests.support.cli import start_cli
from tests.support.openai_server import Gate
from tests.support.processes import stop
from tests.support.quiz import MODELS, QUESTIONS, quiz_env, quiz_servers, write_quiz
from tests.test_cli import run_cli

SWEEP = ["-m", "task=quiz", f"model={MODELS}", "display=none"]


def rows(folder: Path) -> dict[str, dict[str, object]]:
    table = json.loads((folder / "comparison.json").read_text())
    return {str(row["model"]).split("/")[-1]: row for row in table}


def the_sweep(tmp_path: Path) -> Path:
    (folder,) = [p for p in (tmp_path / "logs").iterdir() if p.name.startswith("sweep-")]
    return folder


def test_the_table_flags_the_real_gap_and_not_the_noise(tmp_path: Path) -> None:
    write_quiz(tmp_path)
    (tmp_path / "conf" / "prices").mkdir()
    (tmp_path / "conf" / "prices" / "default.yaml").write_text(
        '"openai-api/fast/*": {input: 1.0, output: 2.0}\nopenai-api: {input: 0.5, output: 0.5}\n'
    )
    with quiz_servers() as servers:
        done = run_cli(*SWEEP, cwd=tmp_path, env=quiz_env(servers))
        sent = {name: len(server.chat_requests()) for name, server in servers.items()}
    assert done.returncode == 0, done.stderr
    assert sent == {"best": QUESTIONS, "close": QUESTIONS, "weak": QUESTIONS}
    folder = the_sweep(tmp_path)
    table = rows(folder)
    assert [row["label"] for row in json.loads((folder / "comparison.json").read_text())] == [
        "openai-api/fast/best",
        "openai-api/mid/close",
        "openai-api/slow/weak",
    ]
    best, close, weak = table["best"], table["close"], table["weak"]
    assert (best["score"], close["score"], weak["score"]) == (0.9, 0.875, 0.5)
    assert best["best"] and best["low"] < 0.9 < best["high"]
    # close: 3 questions lost and 2 won against best → McNemar p = 1, not a real gap.
    assert close["test"] == "mcnemar" and close["p_value"] == 1.0 and close["significant"] is False
    # weak: 16 lost and none won → p = 2 / 2**16, a real gap even after Holm's correction.
    assert weak["p_value"] == 2 / 2**16 and weak["significant"] is True
    assert weak["shared"] == QUESTIONS and weak["errors"] == 0 and weak["samples"] == QUESTIONS
    # Usage counts words: 6 per question, 1 per answer. Glob price for best, provider for others.
    assert best["tokens"] == 7 * QUESTIONS
    assert best["cost"] == (6 * QUESTIONS * 1.0 + QUESTIONS * 2.0) / 1e6
    assert close["cost"] == (7 * QUESTIONS * 0.5) / 1e6
    assert best["latency_p50"] > 0 and best["throughput"] > 0
    assert "worse (p=6.1e-05, n=40)" in done.stdout and "not sig. (p=1, n=40)" in done.stdout
    markdown = (folder / "comparison.md").read_text()
    assert markdown.startswith("| task | model | score | 95% CI |")
    assert "openai-api/slow/weak" in (folder / "comparison.csv").read_text()
    # Safe folder names: one per task × model, no `/` or `:` nesting.
    logs = sorted(p.relative_to(folder).parent.as_posix() for p in folder.glob("quiz/*/*.eval"))
    assert logs == [
        "quiz/openai-api-fast-best",
        "quiz/openai-api-mid-close",
        "quiz/openai-api-slow-weak",
    ]
    assert (
        read_eval_log(str(next(folder.glob("quiz/openai-api-slow-weak/*.eval")))).status
        == "success"
    )


def journal_lines(folder: Path) -> int:
    return sum(len(j.read_text().splitlines()) for j in folder.glob("*.samples.jsonl"))


def succeeded(folder: Path) -> bool:
    state = folder / "run.state"
    return state.exists() and json.loads(state.read_text())["status"] == "success"


def test_an_interrupted_sweep_reruns_only_what_is_missing(tmp_path: Path) -> None:
    write_quiz(tmp_path)
    args = [*SWEEP, "connection.max_connections=2"]
    with quiz_servers() as servers:
        gate = Gate(servers["weak"].responder, passes=10)  # the weak job never finishes this run
        servers["weak"].responder = gate
        env = quiz_env(servers)
        process = start_cli(*args, cwd=tmp_path, env=env)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                root = tmp_path / "logs"
                sweeps = list(root.glob("sweep-*/quiz")) if root.exists() else []
                if (
                    sweeps
                    and all(
                        succeeded(sweeps[0] / f"openai-api-{n}") for n in ("fast-best", "mid-close")
                    )
                    and journal_lines(sweeps[0] / "openai-api-slow-weak") >= 6
                ):
                    break
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            stop(process)
            gate.release()
        folder = the_sweep(tmp_path)
        scored_before = journal_lines(folder / "quiz" / "openai-api-slow-weak")
        assert 6 <= scored_before < QUESTIONS
        before = {name: len(server.chat_requests()) for name, server in servers.items()}

        done = run_cli(*args, cwd=tmp_path, env=quiz_env(servers))
        after = {name: len(server.chat_requests()) for name, server in servers.items()}

    assert done.returncode == 0, done.stderr
    assert "3 jobs (2 reused, 1 resumed)" in done.stderr
    assert after["best"] == before["best"] == QUESTIONS
    assert after["close"] == before["close"] == QUESTIONS
    assert after["weak"] - before["weak"] == QUESTIONS - scored_before
    table = rows(folder)
    assert {name: row["samples"] for name, row in table.items()} == dict.fromkeys(table, QUESTIONS)
    assert table["weak"]["score"] == 0.5


def test_a_changed_config_is_reported_and_the_old_logs_kept(tmp_path: Path) -> None:
    write_quiz(tmp_path)
    pinned = [*SWEEP, "hydra.sweep.dir=logs/nightly"]
    with quiz_servers() as servers:
        first = run_cli(*pinned, "limit=4", cwd=tmp_path, env=quiz_env(servers))
        assert first.returncode == 0, first.stderr
        again = run_cli(
            *pinned, "limit=4", "connection.max_connections=3", cwd=tmp_path, env=quiz_env(servers)
        )
        requests_before = {name: len(s.chat_requests()) for name, s in servers.items()}
        changed = run_cli(*pinned, "limit=6", cwd=tmp_path, env=quiz_env(servers))
        requests_after = {name: len(s.chat_requests()) for name, s in servers.items()}
    assert "3 jobs (3 reused)" in again.stderr  # connection settings are not part of the identity
    assert requests_before == dict.fromkeys(servers, 4)
    assert changed.returncode == 0, changed.stderr
    assert "3 jobs (3 changed)" in changed.stderr
    assert "its config changed since the log" in changed.stderr and "limit: 4 → 6" in changed.stderr
    assert requests_after == dict.fromkeys(servers, 4 + 6)
    kept = list((tmp_path / "logs" / "nightly" / ".replaced" / "quiz").glob("*/*.eval"))
    assert len(kept) == 3
    assert {row["samples"] for row in rows(tmp_path / "logs" / "nightly").values()} == {6}


def test_a_sweep_kept_in_config(tmp_path: Path) -> None:
    write_quiz(tmp_path)
    (tmp_path / "conf" / "sweep").mkdir()
    (tmp_path / "conf" / "sweep" / "trio.yaml").write_text(
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n      task: quiz\n"
        f"      model: {MODELS}\nlimit: 3\ndisplay: none\n"
    )
    with quiz_servers() as servers:
        done = run_cli(
            "+sweep=trio",
            "model=openai-api/fast/best,openai-api/slow/weak",
            cwd=tmp_path,
            env=quiz_env(servers),
        )
        sent = {name: len(server.chat_requests()) for name, server in servers.items()}
    assert done.returncode == 0, done.stderr
    # The command line's model axis replaces the file's (Hydra's rule); the file's limit applies.
    assert sent == {"best": 3, "close": 0, "weak": 3}
    assert set(rows(tmp_path / "logs" / "sweep-trio")) == {"best", "weak"}


def test_a_failing_job_fails_the_sweep_not_the_other_jobs(tmp_path: Path) -> None:
    from tests.support.openai_server import error

    write_quiz(tmp_path)
    with quiz_servers() as servers:
        servers["weak"].responder = lambda request: error(400, "model weak is retired")
        done = run_cli(*SWEEP, "limit=5", cwd=tmp_path, env=quiz_env(servers))
    assert done.returncode == 1
    assert "job did not succeed: task=quiz model=openai-api/slow/weak" in done.stderr
    table = rows(the_sweep(tmp_path))
    assert table["weak"]["errors"] == 5 and table["weak"]["score"] is None
    assert table["best"]["errors"] == 0 and table["best"]["samples"] == 5
    weak_line = next(line for line in done.stdout.splitlines() if "slow/weak" in line)
    assert " -  " in weak_line and "nan" not in done.stdout


def test_progress_counts_each_jobs_own_tokens(tmp_path: Path) -> None:
    # Two jobs on one model (so one shared client): each job's last progress line shows the tokens
    # its own log records, not the model's total across both jobs.
    write_quiz(tmp_path)
    with quiz_servers() as servers:
        done = run_cli(
            "-m", "task=quiz", "model=openai-api/fast/best", "seed=1,2", "limit=5",
            "display=plain", cwd=tmp_path, env=quiz_env(servers),
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = [line for line in done.stderr.splitlines() if "5/5 done" in line]
    assert len(last) == 2
    for log in the_sweep(tmp_path).rglob("*.eval"):
        if log.name[:4].isdigit():
            tokens = read_eval_log(str(log)).stats.model_usage["openai-api/fast/best"].total_tokens
            assert all(f" {tokens} tokens" in line for line in last), (tokens, last)
