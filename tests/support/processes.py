"""Helpers for the subprocesses tests start (servers, the CLI)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
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


def _processes() -> Iterator[tuple[int, list[str]]]:
    """Each live process: its pid and the fields of its `/proc/PID/stat` after the command name
    (state, ppid, pgrp, session, …)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            yield int(stat.parent.name), stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # it ended meanwhile


def command_line(pid: int) -> list[str]:
    """A process's command line, as its arguments."""
    return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode().split("\0")[:-1]


def children_of(pid: int) -> dict[int, list[str]]:
    """The live child processes of `pid`, each with its command line."""
    found = {}
    for child, fields in _processes():
        if int(fields[1]) == pid:
            with contextlib.suppress(OSError):  # it ended meanwhile
                found[child] = command_line(child)
    return found


def stop_session(
    leader: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float = 15
) -> None:
    """`stop` a process started with `start_new_session=True`, then kill whatever else is left in
    its session: the processes it started that outlived it (a Ray head's idle workers)."""
    stop(leader, timeout)
    for pid, fields in _processes():
        if int(fields[3]) == leader.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
