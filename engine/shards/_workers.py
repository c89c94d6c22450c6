"""`workers=K`: one job as K shard processes on this machine, merged into one log at the end.

Each worker is `inspect-run` itself with `shard=i/K`, so a killed job resumes shard by shard with
the same command. The connection limit is divided between the workers (the first ones get the
remainder), so the provider sees at most the configured `max_connections` in total.

On Linux a worker is forked from this process once it has imported the run path and the models'
SDKs and composed the job: a fresh interpreter would spend about a second of CPU on that, each,
while the others start on the same cores. Elsewhere (macOS forbids some system libraries after
a fork), or once this process runs threads, each worker is a fresh `python -m engine.cli`.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from engine.shards._merge import MergedLog, merge_logs


def divide(total: int, workers: int) -> list[int]:
    """`total` connections over `workers`, as evenly as possible, summing to `total`."""
    return [total // workers + (1 if i < total % workers else 0) for i in range(workers)]


def worker_overrides(overrides: list[str], index: int, workers: int, connections: int) -> list[str]:
    """A worker's command line: the job's overrides, its shard and its share of connections."""
    kept = [o for o in overrides if o.lstrip("+").split("=")[0] not in ("display", "gate")]
    return [
        *kept,
        f"shard={index}/{workers}",  # with `workers=K` kept: worker `index` of this job
        f"connection.max_connections={connections}",
        "display=none",
    ]


def role_connection_overrides(config: Any, index: int, workers: int) -> list[str]:
    """Worker `index`'s share of each role's own `connection.max_connections` (a role without
    its own limit uses the run's, already divided). A role bound to a list keeps its limits."""
    found = []
    for role, binding in config.roles.items():
        connection = getattr(binding, "connection", None)
        if connection is not None and "max_connections" in connection.model_fields_set:
            share = divide(connection.max_connections, workers)[index]
            found.append(f"roles.{role}.connection.max_connections={max(1, share)}")
    return found


class Worker(Protocol):
    """What `run_workers` needs of a worker process (`subprocess.Popen` has it)."""

    def wait(self) -> int: ...

    def poll(self) -> int | None: ...

    def terminate(self) -> None: ...


class _ForkedWorker:
    """A worker forked from this process: `entry(command)` in the child (the console script's
    `main`), its stdout discarded as a spawned worker's is."""

    def __init__(self, command: list[str], entry: Callable[[list[str]], object]) -> None:
        import multiprocessing

        for stream in (sys.stdout, sys.stderr):  # else the child would write them out again
            if stream is not None:
                stream.flush()
        self._process = multiprocessing.get_context("fork").Process(
            target=_forked_main, args=(entry, command), name="inspect-run worker"
        )
        self._process.start()

    def wait(self) -> int:
        self._process.join()
        return self.poll() or 0

    def poll(self) -> int | None:
        return self._process.exitcode

    def terminate(self) -> None:
        self._process.terminate()


def _forked_main(entry: Callable[[list[str]], object], command: list[str]) -> None:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    entry(command)


def can_fork() -> bool:
    """Whether workers may be forked from this process: Linux, and no thread but this one, a
    native one (OpenMP, CUDA) included: a thread holding a lock at the fork would leave it held
    forever in the child."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def start_worker(command: list[str], fork: Callable[[list[str]], object] | None) -> Worker:
    """Worker `command`: forked to run `fork(command)`, else a fresh `python -m engine.cli`."""
    if fork is not None:
        return _ForkedWorker(command, fork)
    return subprocess.Popen(
        [sys.executable, "-m", "engine.cli", *command], stdout=subprocess.DEVNULL
    )


def newest_run(log_dir: Path, identity: str) -> Path | None:
    """The log of the newest run of `identity` under `log_dir` (finished or not)."""
    from engine.logs import RUN_FILE, read_run_file

    for run_file in sorted(log_dir.glob(f"*/{RUN_FILE}"), reverse=True):
        record = read_run_file(run_file.parent)
        if record is not None and record.get("identity") == identity:
            return run_file.parent / str(record["log"])
    return None


def run_workers(
    composed: Any, overrides: list[str], entry: Callable[[list[str]], object]
) -> tuple[int, MergedLog | None]:
    """Run the K workers, wait for all, merge their logs: (exit status, merged log). `entry`:
    the console script's `main`, which a forked worker runs with its command line.

    A `ConfigError` (before any process starts) when the job cannot be split this way."""
    from engine.config import ConfigError, Problem, compose_config
    from engine.logs import is_remote
    from engine.runner import Display, identity_of

    config = composed.config
    workers = config.workers
    problems = []
    if config.connection.max_connections < workers:
        problems.append(
            Problem(
                "workers",
                f"workers={workers} needs connection.max_connections >= "
                f"{workers} (each worker holds at least one connection), got "
                f"{config.connection.max_connections}",
                composed.locate("workers"),
            )
        )
    if is_remote(config.log_dir):
        problems.append(
            Problem(
                "workers",
                "workers=K needs a local log_dir (the workers' logs are merged from it)",
                composed.locate("workers"),
            )
        )
    if problems:
        raise ConfigError(problems)
    from engine.runner import build_plan

    plan = build_plan(composed, fetch=False)  # a bad config fails here, not K times
    for note in [*composed.notes, *plan.warnings]:  # said once for the job, not by each worker
        Display().message(note)
    shares = divide(config.connection.max_connections, workers)
    commands = [
        worker_overrides(overrides, i, workers, shares[i])
        + role_connection_overrides(config, i, workers)
        for i in range(workers)
    ]
    if can_fork():  # imported once here, not in each worker
        for module in {name for model in plan.models() for name in model.api.sdk_modules()}:
            importlib.import_module(module)
    fork = entry if can_fork() else None  # asked again: an import may have started a thread
    # The run identity each worker's log will carry (a forked worker finds its composition
    # remembered).
    identities = [identity_of(compose_config(command)) for command in commands]
    processes = [start_worker(command, fork) for command in commands]
    try:
        codes = [process.wait() for process in processes]
    except BaseException:  # Ctrl-C or SIGTERM: every worker stops as on Ctrl-C (logs resumable)
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            process.wait()
        raise
    for index, code in enumerate(codes):
        if code not in (0, 1):
            print(f"inspect-run: worker {index}/{workers} exited with {code}", file=sys.stderr)
    logs = [newest_run(Path(config.log_dir), identity) for identity in identities]
    if any(log is None for log in logs):
        return max(codes), None
    merged = merge_logs([log for log in logs if log is not None])
    bad = [code for code in codes if code not in (0, 1)]
    return (bad[0] if bad else 0 if merged.status == "success" else 1), merged
