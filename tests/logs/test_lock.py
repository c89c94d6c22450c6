"""Folder locks: one owner at a time, named in the refusal, gone when the owner's process is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import cli
from engine.logs import FolderBusy, FolderLock
from tests.support.quiz import MODELS, quiz_env, quiz_servers, write_quiz


def test_a_second_lock_is_refused_naming_the_owner(tmp_path: Path) -> None:
    with FolderLock(tmp_path / "run"), pytest.raises(FolderBusy) as busy:
        FolderLock(tmp_path / "run").acquire()
    message = str(busy.value)
    assert f"process {os.getpid()} on " in message and "nothing was sent" in message
    FolderLock(tmp_path / "run").acquire().release()  # free again once released


def test_a_killed_owner_holds_nothing(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from engine.logs import FolderLock; "
            f"FolderLock(Path({str(tmp_path)!r})).acquire(); print('held', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(FolderBusy, match=f"process {holder.pid} on "):
            FolderLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    FolderLock(tmp_path).acquire().release()


def test_a_sweep_whose_folder_is_owned_exits_75_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_quiz(tmp_path)
    monkeypatch.chdir(tmp_path)
    with quiz_servers() as servers:
        for name, value in quiz_env(servers).items():
            monkeypatch.setenv(name, value)
        sweep = ["-m", "task=quiz", f"model={MODELS}", "display=none", "hydra.sweep.dir=logs/s"]
        with FolderLock(tmp_path / "logs" / "s"):
            assert cli(sweep) == 75
        assert sum(len(server.requests) for server in servers.values()) == 0
    err = capsys.readouterr().err
    assert "logs/s is in use by process" in err and "nothing was sent" in err
