"""One owner per run folder: two identical commands never both run an eval, nor lose its samples.

Real processes against a local server that counts requests; every step waits on an event (a held
request at the server's gate, a journal line, a process ending), never on a sleep.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.logs import read_log
from tests.support.cli import start_cli
from tests.support.openai_server import Gate, OpenAIServer, echo
from tests.support.processes import stop
from tests.support.zygote import ForkedProcess

N = 12
ARGS = ["task=echo", "model=openai/m", "connection.max_connections=2", "display=none"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A working directory with `conf/task/echo.yaml` on N samples the echo server gets right."""
    with (tmp_path / "echo.jsonl").open("w", encoding="utf-8") as file:
        for index in range(N):
            file.write(
                json.dumps({"id": f"e{index}", "input": f"say e{index}", "target": f"e{index}"})
            )
            file.write("\n")
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "conf" / "task" / "echo.yaml").write_text(
        "name: echo\ndataset:\n  path: echo.jsonl\nscorers: [includes]\nmetrics: [accuracy]\n",
        encoding="utf-8",
    )
    return tmp_path


def start(
    cwd: Path, server: OpenAIServer, *extra: str, sigint_ignored: bool = False
) -> ForkedProcess:
    """The run as a process; `sigint_ignored`: as a script's `inspect-run … &` starts it."""
    return start_cli(
        *ARGS,
        *extra,
        cwd=cwd,
        env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        sigint_ignored=sigint_ignored,
    )


@pytest.fixture
def processes() -> Iterator[list[ForkedProcess]]:
    started: list[ForkedProcess] = []
    yield started
    for process in started:
        stop(process)


def first_to_end(*running: ForkedProcess) -> ForkedProcess:
    """The process that ends first (an event, polled; no upper bound is asserted)."""
    while True:
        for process in running:
            if process.poll() is not None:
                return process
        time.sleep(0.01)


def sent(server: OpenAIServer) -> Counter[str]:
    return Counter(r.messages[-1]["content"] for r in server.chat_requests())


def the_log(cwd: Path) -> dict:
    (log,) = [p for p in (cwd / "logs").rglob("*.eval") if not p.name.startswith(".")]
    return read_log(log)


def journal_lines(cwd: Path) -> int:
    journals = list((cwd / "logs").rglob("*.samples.jsonl"))
    return sum(1 for _ in journals[0].open(encoding="utf-8")) if journals else 0


def assert_complete(cwd: Path, server: OpenAIServer) -> None:
    log = the_log(cwd)
    assert log["status"] == "success"
    ids = [s["id"] for s in log["samples"]]
    assert sorted(ids) == sorted(f"e{i}" for i in range(N))
    assert all(s["scores"]["includes"]["value"] == "C" for s in log["samples"])


def race(first: ForkedProcess, second: ForkedProcess) -> ForkedProcess:
    """The loser exits 75 naming the winner (pid and command); returns the winner."""
    loser = first_to_end(first, second)
    winner = second if loser is first else first
    _, err = loser.communicate()
    assert loser.returncode == 75, err
    assert f"is in use by process {winner.pid} on " in err, err
    assert "inspect-run task=echo" in err and "nothing was sent" in err
    assert "Traceback" not in err
    return winner


@pytest.mark.parametrize("stagger", [True, False], ids=["staggered", "at-once"])
def test_a_second_identical_command_exits_75_naming_the_owner_and_sends_nothing(
    project: Path, processes: list[ForkedProcess], stagger: bool
) -> None:
    gate = Gate(echo, passes=3)
    with OpenAIServer(gate) as server:
        first = start(project, server)
        processes.append(first)
        if stagger:
            gate.wait_arrived(4)  # 3 answered, one held: the first run is mid-way
        second = start(project, server)
        processes.append(second)
        winner = race(first, second)
        gate.release()
        _, err = winner.communicate()
        assert winner.returncode == 0, err
        assert_complete(project, server)
        counts = sent(server)
    assert sorted(counts) == sorted(f"say e{i}" for i in range(N))
    assert set(counts.values()) == {1}, "a sample's request was sent twice"


def test_both_resuming_one_interrupted_run_send_each_missing_request_once(
    project: Path, processes: list[ForkedProcess]
) -> None:
    gate = Gate(echo, passes=4)
    with OpenAIServer(gate) as server:
        killed = start(project, server)
        processes.append(killed)
        gate.wait_arrived(5)
        while journal_lines(project) < 4:  # the 4 answered samples are scored and on disk
            time.sleep(0.01)
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        scored_before = {
            json.loads(line)["input"]
            for line in next((project / "logs").rglob("*.samples.jsonl")).open(encoding="utf-8")
        }
        held = gate.arrived
        first = start(project, server)
        processes.append(first)
        gate.wait_arrived(held + 1)  # the resumed run is sending again (held at the gate)
        second = start(project, server)
        processes.append(second)
        winner = race(first, second)
        gate.release()
        _, err = winner.communicate()
        assert winner.returncode == 0, err
        assert "resuming the interrupted run" in err
        assert_complete(project, server)
        counts = sent(server)
    assert len(list((project / "logs").iterdir())) == 1
    for text in scored_before:
        assert counts[text] == 1, f"{text!r} was sent again after being scored"
    assert sorted(counts) == sorted(f"say e{i}" for i in range(N))
