"""Helpers for the subprocesses tests start (servers, the CLI)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path


def stop(process: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Terminate politely, then kill: a test never leaves a server behind."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def children_of(pid: int) -> dict[int, list[str]]:
    """The live child processes of `pid`, each with its command line."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[1]) == pid:  # state, ppid
                command = (stat.parent / "cmdline").read_bytes()
                found[int(stat.parent.name)] = command.decode().split("\0")[:-1]
        except OSError:
            continue  # it ended meanwhile
    return found


def stop_session(
    leader: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float = 15
) -> None:
    """`stop` a process started with `start_new_session=True`, then kill whatever else is left in
    its session: the processes it started that outlived it (a Ray head's idle workers)."""
    stop(leader, timeout)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # it ended meanwhile
        if int(fields[3]) == leader.pid:  # state, ppid, pgrp, session
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(stat.parent.name), signal.SIGKILL)
