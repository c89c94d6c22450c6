"""`workers=K`: K shard processes on this machine, merged; the provider sees at most the
configured `max_connections` in total."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from engine.cli import cli
from engine.logs import read_log, read_log_header
from engine.shards._workers import divide
from tests.shards.helpers import content, logs_under
from tests.support.openai_server import Gate, OpenAIServer, Request
from tests.support.processes import children_of, command_line
from tests.support.quiz import QUESTIONS, answer, write_quiz

ARGS = ["task=quiz", "model=openai/best", "display=none", "connection.max_connections=5"]


class InFlight:
    """Counts the requests the server holds at once (from arrival to answer)."""

    def __init__(self, gate: Gate) -> None:
        self.gate, self.now, self.peak = gate, 0, 0
        self.lock = threading.Lock()

    async def __call__(self, request: Request) -> object:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            return await self.gate(request)
        finally:
            with self.lock:
                self.now -= 1


def test_connections_are_divided_so_their_sum_is_the_total() -> None:
    assert divide(5, 2) == [3, 2] and divide(100, 3) == [34, 33, 33] and divide(2, 2) == [1, 1]


def test_two_workers_merge_into_one_log_and_keep_the_connection_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_quiz(tmp_path)
    monkeypatch.chdir(tmp_path)
    gate = Gate(answer)  # holds every request until released
    counter = InFlight(gate)
    with OpenAIServer(counter) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        codes: list[int] = []
        parent = threading.Thread(target=lambda: codes.append(cli([*ARGS, "workers=2"])))
        parent.start()
        try:
            gate.wait_arrived(5)  # both workers hold all their connections: 3 + 2
            assert counter.peak == 5
            # This process runs threads (the server's, the parent's): no fork, fresh interpreters.
            commands = children_of(os.getpid()).values()
            assert sum(command[1:3] == ["-m", "engine.cli"] for command in commands) == 2
        finally:
            gate.release()
            parent.join(timeout=300)
        assert codes == [0]
        assert counter.peak == 5  # never more than the configured total
        assert cli([*ARGS, "log_dir=whole"]) == 0

    merged = [p for p in logs_under(tmp_path / "logs") if p.parent.name.startswith("merged-")]
    shards = [p for p in logs_under(tmp_path / "logs") if p not in merged]
    assert len(merged) == 1 and len(shards) == 2
    limits = sorted(
        read_log_header(p)["eval"]["metadata"]["inspect_run"]["connection"]["max_connections"]
        for p in shards
    )
    assert limits == [2, 3]
    (whole,) = logs_under(tmp_path / "whole")
    got, want = content(merged[0]), content(whole)
    assert got["samples"] == want["samples"] and len(got["samples"]) == QUESTIONS
    assert got["metrics"]["match"] == pytest.approx(want["metrics"]["match"])
    assert got["status"] == "success"
    config = read_log(merged[0])["eval"]["metadata"]["inspect_run"]["config"]
    assert (config["workers"], config["connection"]["max_connections"]) == (2, 5)


def test_workers_are_forks_of_the_command_not_fresh_interpreters(tmp_path: Path) -> None:
    """The command has imported the run path and the SDK and composed the job once: its workers
    are forks of it (their command line is its own), not `python -m engine.cli`, which would each
    pay that start-up again."""
    import subprocess

    from tests.support.cli import INSPECT_RUN
    from tests.support.processes import stop

    write_quiz(tmp_path)
    gate = Gate(answer)
    with OpenAIServer(gate) as server:
        env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
        parent = subprocess.Popen(
            [INSPECT_RUN, *ARGS, "workers=2"], cwd=tmp_path, env={**os.environ, **env}
        )
        try:
            gate.wait_arrived(5)  # both workers are running
            own = command_line(parent.pid)
            workers = list(children_of(parent.pid).values())
            gate.release()
            code = parent.wait(timeout=300)
        finally:
            gate.release()
            stop(parent)
    assert own[-len(ARGS) - 1 :] == [*ARGS, "workers=2"]
    assert workers == [own, own]
    assert code == 0
    (merged,) = [p for p in logs_under(tmp_path / "logs") if p.parent.name.startswith("merged-")]
    assert len(content(merged)["samples"]) == QUESTIONS


def test_workers_need_a_connection_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_quiz(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9")
    assert cli(["task=quiz", "model=openai/m", "workers=3", "connection.max_connections=2"]) == 2
    assert "needs connection.max_connections >= 3" in capsys.readouterr().err


def test_the_jobs_notes_are_said_once_not_by_each_worker(tmp_path: Path) -> None:
    """Where the model came from and what the provider ignores are the job's notes: the command
    says them once; its workers add only what is their own."""
    from tests.support.cli import run_cli_forked

    write_quiz(tmp_path)
    args = [a for a in ARGS if not a.startswith("model=")]
    args += ["workers=2", "generation.top_k=5"]  # native OpenAI has no top_k
    with OpenAIServer(answer) as server:
        env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
        env["INSPECT_EVAL_MODEL"] = "openai/best"
        done = run_cli_forked(*args, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("model openai/best from INSPECT_EVAL_MODEL") == 1, done.stderr
    assert done.stderr.count("top_k") == 1, done.stderr


def test_sigterm_stops_every_worker_and_the_same_command_resumes_them(tmp_path: Path) -> None:
    import signal

    from tests.support.cli import run_cli, start_cli
    from tests.support.processes import stop

    write_quiz(tmp_path)
    args = [*ARGS, "workers=2"]
    gate = Gate(answer, passes=10)
    with OpenAIServer(gate) as server:
        env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url}
        parent = start_cli(*args, cwd=tmp_path, env=env, start_new_session=True)
        try:
            gate.wait_arrived(15)  # 10 answered, 5 held: both workers are mid-run
            parent.send_signal(signal.SIGTERM)  # to the parent alone, as a CI runner does
            assert parent.wait(timeout=120) == 130
        finally:
            stop(parent)
        shards = logs_under(tmp_path / "logs")
        assert len(shards) == 2
        assert {read_log_header(p)["status"] for p in shards} == {"cancelled"}
        gate.release()
        done = run_cli(*args, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        sent = len(server.chat_requests())
    merged = [p for p in logs_under(tmp_path / "logs") if p.parent.name.startswith("merged-")]
    assert len(merged) == 1 and len(logs_under(tmp_path / "logs")) == 3  # the same two shards
    assert content(merged[0])["status"] == "success"
    assert len(content(merged[0])["samples"]) == QUESTIONS
    assert sent <= QUESTIONS + 5  # only the held requests were asked again


def test_a_role_with_its_own_connection_limit_is_divided_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.config import compose_config
    from engine.shards._workers import role_connection_overrides

    write_quiz(tmp_path)
    monkeypatch.chdir(tmp_path)
    composed = compose_config(
        [
            "task=quiz",
            "model=openai/m",
            "roles.grader={model: openai/g, connection: {max_connections: 5}}",
            "roles.critic=openai/c",
            "workers=2",
        ]
    )
    shares = [role_connection_overrides(composed.config, i, 2) for i in range(2)]
    assert shares == [
        ["roles.grader.connection.max_connections=3"],
        ["roles.grader.connection.max_connections=2"],
    ]
    worker = compose_config(
        [
            "task=quiz",
            "model=openai/m",
            "roles.grader={model: openai/g, connection: {max_connections: 5}}",
            *shares[1],
        ]
    )
    grader = worker.config.roles["grader"]
    assert not isinstance(grader, list) and grader is not None and grader.connection is not None
    assert grader.connection.max_connections == 2
