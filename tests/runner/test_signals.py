"""SIGTERM ends a run exactly as Ctrl-C does: exit 130, one line, no traceback, log resumable."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.runner.test_ownership import N, assert_complete, processes, project, start, the_log
from tests.support.openai_server import Gate, OpenAIServer, Request, echo

__all__ = ["processes", "project"]  # fixtures


@pytest.mark.slow
def test_sigterm_mid_run_ten_times_then_resume(project: Path) -> None:
    gates = [Gate(echo, passes=1)]

    async def current(request: Request) -> str:
        return await gates[-1](request)

    with OpenAIServer(current) as server:
        for round in range(10):
            how = signal.SIGTERM if round < 8 else signal.SIGINT
            gate = Gate(echo, passes=1)
            gates.append(gate)
            process = start(project, server)
            try:
                gate.wait_arrived(2)  # one answered, one held: mid-run, a request in flight
            finally:
                process.send_signal(how)
                _, err = process.communicate()
            assert process.returncode == 130, err
            assert "Traceback" not in err and "Error" not in err, err
            assert "interrupted; scored samples are in the log" in err
            log = the_log(project)
            assert log["status"] == "cancelled"
            ids = [s["id"] for s in log["samples"]]
            assert len(ids) == len(set(ids))
        gates.append(Gate(echo, passes=N))
        done = start(project, server)
        _, err = done.communicate()
        assert done.returncode == 0, err
        assert_complete(project, server)


def test_sigterm_stops_a_run_started_with_sigint_ignored_as_ctrl_c_would(project: Path) -> None:
    """A script's `inspect-run … &` starts with SIGINT ignored, so asyncio installs no Ctrl-C
    handler of its own; SIGTERM must still cancel the run cleanly, not raise in some task."""
    gate = Gate(echo, passes=1)
    with OpenAIServer(gate) as server:
        process = start(project, server, sigint_ignored=True)
        try:
            gate.wait_arrived(2)  # one answered, one held: mid-run, a request in flight
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate()
        gate.release()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "Error" not in err, err
    assert "interrupted; scored samples are in the log" in err
    assert the_log(project)["status"] == "cancelled"
