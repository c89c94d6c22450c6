"""Run `inspect-run ARGS` for a test, in one of three ways:
- `run_cli`: in this process through `engine.cli.cli` (fast; most tests);
- `start_cli` / `run_cli_forked`: as a process of its own, forked from one that has imported the
  engine (`tests.support.zygote`), for tests about processes (signals, kills, two at once);
- `run_cli_process`: as a subprocess of the installed console script, for tests about a fresh
  interpreter (what it imports, `PYTHONPATH`, the command line).

All see the same environment: this process's, without the provider keys, base URLs and default
model a developer may have set, plus `env`.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tests.support.zygote import ForkedProcess

INSPECT_RUN = str(Path(sys.executable).parent / "inspect-run")


def _is_isolated(name: str) -> bool:
    """A variable a developer's shell may hold that would change what a test run does."""
    return name.endswith(("_API_KEY", "_BASE_URL")) or name in ("INSPECT_EVAL_MODEL", "HF_TOKEN")


def cli_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a test's `inspect-run` sees."""
    environment = {k: v for k, v in os.environ.items() if not _is_isolated(k)}
    environment.update(env or {})
    return environment


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """`os.environ` is `env` inside, and exactly what it was afterwards (a run may load `.env`)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:  # contextlib.chdir needs Python 3.11
    saved = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(saved)


def run_cli(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`inspect-run ARGS` in this process, in `cwd`: its exit status and what it printed."""
    from engine.cli import cli

    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        _environment(cli_environment(env)),
        _chdir(cwd),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        status = cli(list(args))
    return subprocess.CompletedProcess(
        ["inspect-run", *args], status, stdout.getvalue(), stderr.getvalue()
    )


def run_cli_process(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`inspect-run ARGS` as a subprocess of the console script (`timeout`: a failure timeout)."""
    return subprocess.run(
        [INSPECT_RUN, *args],
        cwd=cwd,
        env=cli_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_cli(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, **options: Any
) -> ForkedProcess:
    """`inspect-run ARGS` as a running process, forked from one that has imported the engine
    (`tests.support.zygote`). `options`: `ForkedProcess`'s (`stdout`, `stderr` and `text` as for
    `subprocess.Popen`; `sigint_ignored`, `start_new_session`)."""
    return ForkedProcess(list(args), cwd=cwd, env=cli_environment(env), **options)


def run_cli_forked(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`inspect-run ARGS` run to its end as a forked process (`start_cli`), for tests whose
    command must be a process of its own but need no fresh interpreter (`timeout`: a failure
    timeout)."""
    process = start_cli(
        *args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(process.args, process.wait(), stdout, stderr)
