"""Run `inspect-run ARGS` for a test: in this process through `engine.cli.cli` (fast), or as a
subprocess of the installed console script when the test is about processes (signals, kills,
two processes at once, what a child process prints).

Both return a `subprocess.CompletedProcess` and see the same environment: this process's, without
the provider keys, base URLs and default model a developer may have set, plus `env`.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

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
