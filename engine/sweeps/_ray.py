"""Jobs as Ray tasks: a sweep's jobs (`hydra/launcher=ray_tasks`) or one job's parts (`shard=i/N`).

Each task runs the ordinary single-run path (`compose_config` → `run_composed`) in a Ray worker,
into a temporary folder on the worker's machine, and returns that run folder's files; the driver
writes them into the job's folder under the sweep's one `log_dir`. So nodes need no shared disk,
a sweep's manifest and comparison are the local sweep's, and a job the sweep resumes gets its
earlier files sent along (the worker resumes from them).

What crosses to the workers: the job's overrides, its folder's files, the driver's working
directory (used where it exists on the worker, else Ray's `runtime_env.working_dir`), and the
environment variables named in `env` (read from the driver's environment when the sweep starts,
sent as a task argument, never through Ray's `runtime_env`, which Ray writes into its logs).
A job's progress reaches the log_dir when its task ends: a worker lost mid-job loses that job's
unsent samples (Ray retries it per `remote.max_retries`), never another job's.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TARGET = "engine.sweeps._ray.RayTasks"
"""`_target_` of `conf/hydra/launcher/ray_tasks.yaml`: this module runs those sweeps itself
(Hydra's multirun is not involved)."""


LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Set to 0, Ray keeps every node address on the loopback interface (a one-machine Ray)."""


class RayTasks(BaseModel):
    """The `ray_tasks` launcher's settings (`hydra.launcher.*`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    target: str = Field(TARGET, alias="_target_")
    address: str = "local"
    """`local` starts a Ray on this machine for the sweep; `auto`, `HOST:PORT` or
    `ray://HEAD:10001` joins a running cluster."""
    num_cpus: float = 1
    """CPUs Ray reserves for each job."""
    env: list[str] = Field(default_factory=list)
    """Names of environment variables sent to every job (API keys, base URLs)."""
    init: dict[str, Any] = Field(default_factory=dict)
    """More `ray.init` arguments (runtime_env, namespace, …)."""
    remote: dict[str, Any] = Field(default_factory=dict)
    """More task options (max_retries, memory, resources, …)."""


def is_ray_tasks(launcher: dict[str, Any]) -> bool:
    return str(launcher.get("_target_") or "") == TARGET


@dataclass
class RayRun:
    """One task: the overrides of a single run, and the folder its files are gathered into."""

    overrides: list[str]
    folder: Path


@dataclass
class RayOutcome:
    run: RayRun
    status: str
    """The run's status (`success`, `error`, `cancelled`), or `lost` when the task itself failed."""
    error: str | None = None
    node: str = ""


def _say(text: str) -> None:
    from engine.logs import redact

    print(redact(f"inspect-run: {text}"), file=sys.stderr)


# Files of a run folder, as they cross between driver and worker.


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file of a run folder by relative path, dot-files (locks, temporaries) left out."""
    if not folder.is_dir():
        return {}
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            files[relative.as_posix()] = path.read_bytes()
    return files


def _inside(folder: Path, name: str) -> Path:
    target = folder / name
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise ValueError(f"a returned file name leaves its run folder: {name!r}")
    return target


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Make `folder` hold exactly `files` (dot-files kept): each written whole then renamed,
    files it no longer has removed, `run.state` last so it never vouches for a missing log."""
    from engine.logs import RUN_FILE

    folder.mkdir(parents=True, exist_ok=True)
    for name in sorted(files, key=lambda name: name == RUN_FILE):
        if name == RUN_FILE:
            for stale in folder_files(folder).keys() - files.keys():
                (folder / stale).unlink()
        target = _inside(folder, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_bytes(files[name])
        os.replace(temporary, target)


# The worker side.


def run_in_worker(
    overrides: list[str],
    files: dict[str, bytes],
    env: dict[str, str],
    cwd: str,
    config_dirs: list[str],
) -> dict[str, Any]:
    """The Ray task: one single run, in a temporary folder seeded with `files`; returns the folder's
    files, the run's status and, if it could not run, why. The worker's environment and working
    directory are restored afterwards (Ray reuses worker processes)."""
    import platform

    from engine.config import compose_config, extra_config_dirs
    from engine.logs import redact
    from engine.runner import Display, run_composed

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.update(env)
    if cwd and Path(cwd).is_dir():
        os.chdir(cwd)
    status, error = "lost", None
    try:
        with tempfile.TemporaryDirectory(prefix="inspect-run-ray-") as temporary:
            folder = Path(temporary) / "run"
            write_folder(folder, files)
            try:
                with extra_config_dirs(config_dirs):
                    result = run_composed(compose_config(overrides), folder, Display())
                status = result.status
                if result.error_reasons:
                    error = "; ".join(result.error_reasons[:3])
            except Exception as failure:  # the run could not start here: say why, keep the files
                status, error = "error", redact(f"{type(failure).__name__}: {failure}")
            return {
                "files": folder_files(folder),
                "status": status,
                "error": error,
                "node": platform.node(),
            }
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


# The driver side.


def missing_env(settings: RayTasks) -> list[str]:
    """Names in `env` this environment does not set (checked before anything is sent)."""
    return [name for name in settings.env if name not in os.environ]


@contextmanager
def connected(settings: RayTasks) -> Iterator[Any]:
    """`ray`, connected to the configured cluster: joined for the block and left after, or the
    connection this process already has (kept).

    A `local` Ray listens on 127.0.0.1 only: Ray would otherwise take the machine's routable
    address, and a Ray without token auth runs code for anyone who reaches it. (Ray reads this
    setting when it is first imported.)"""
    if settings.address == "local" and "ray" not in sys.modules:
        os.environ.setdefault(LOOPBACK_ONLY, "0")
    import ray

    if ray.is_initialized():
        yield ray
        return
    from engine.config import ConfigError, Problem

    arguments: dict[str, Any] = {"logging_level": logging.WARNING, **settings.init}
    try:
        _check_reachable(settings.address)
        ray.init(address=settings.address, **arguments)
    except (ConnectionError, RuntimeError, ValueError) as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else repr(error)
        message = f"cannot reach the Ray cluster at '{settings.address}': {reason}"
        raise ConfigError([Problem("hydra.launcher.address", message)]) from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _check_reachable(address: str, seconds: float = 10) -> None:
    """Refuse a `HOST:PORT` or `ray://HOST:PORT` nobody listens on at once: `ray.init` would retry
    for minutes before it gives up (`local` and `auto` have no address to try)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    import socket

    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=seconds).close()
    except OSError as error:
        raise ConnectionError(
            f"nothing answers at {host}:{port} ({error.strerror or error})"
        ) from None


def run_on_ray(
    runs: Sequence[RayRun], settings: RayTasks, config_dirs: Sequence[str | Path] = ()
) -> list[RayOutcome]:
    """Run each `RayRun` as a Ray task and gather its files into its folder as soon as it ends.

    A task that fails as a whole (its worker died, its node was lost) leaves its folder as it was
    and is reported `lost`; the other runs go on.
    """
    from engine.config import ConfigError, Problem
    from engine.logs import FolderLock

    if not runs:
        return []
    missing = missing_env(settings)
    if missing:
        message = f"not set in this environment: {', '.join(missing)}"
        raise ConfigError([Problem("hydra.launcher.env", message)])
    env = {name: os.environ[name] for name in settings.env}
    cwd = os.getcwd()
    dirs = [str(Path(d).resolve()) for d in config_dirs]
    outcomes: list[RayOutcome | None] = [None] * len(runs)
    with ExitStack() as owned:
        for run in runs:  # as a local run owns its folder: FolderBusy for another process
            owned.callback(FolderLock(run.folder).acquire().release)
        ray = owned.enter_context(connected(settings))
        options: dict[str, Any] = {"num_cpus": settings.num_cpus, **settings.remote}
        task = ray.remote(run_in_worker).options(**options)
        pending = {
            task.remote(run.overrides, folder_files(run.folder), env, cwd, dirs): index
            for index, run in enumerate(runs)
        }
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for reference in done:
                    index = pending.pop(reference)
                    outcomes[index] = _gather(ray, reference, runs[index])
        finally:
            for reference in pending:  # interrupted: stop what still runs
                ray.cancel(reference)
    return [outcome for outcome in outcomes if outcome is not None]


def _gather(ray: Any, reference: Any, run: RayRun) -> RayOutcome:
    label = " ".join(run.overrides)
    try:
        reply = ray.get(reference)
    except Exception as failure:
        reason = str(failure).strip().splitlines()[-1] if str(failure).strip() else repr(failure)
        _say(f"Ray task lost: {label}: {reason}")
        return RayOutcome(run, "lost", reason)
    write_folder(run.folder, reply["files"])
    outcome = RayOutcome(run, reply["status"], reply["error"], reply["node"])
    note = f" ({outcome.error})" if outcome.error else ""
    _say(f"{outcome.status} on {outcome.node}: {label} → {run.folder}{note}")
    return outcome


def run_parts_on_ray(
    overrides: Sequence[str],
    parts: Sequence[Sequence[str]],
    folders: Sequence[Path],
    settings: RayTasks,
    config_dirs: Sequence[str | Path] = (),
) -> list[RayOutcome]:
    """One job split into parts, each a Ray task: part `i` runs `overrides` plus `parts[i]` (for
    shards, `["shard=i/N"]`) and is gathered into `folders[i]`. Every part is composed and planned
    here first, so a bad config raises `ConfigError` before any task starts."""
    from engine.config import compose_config, extra_config_dirs
    from engine.runner import build_plan

    if len(parts) != len(folders):
        raise ValueError(f"{len(parts)} parts but {len(folders)} folders")
    runs = [
        RayRun([*overrides, *extra], Path(folder))
        for extra, folder in zip(parts, folders, strict=True)
    ]
    with extra_config_dirs(config_dirs):
        for run in runs:
            build_plan(compose_config(run.overrides))
    return run_on_ray(runs, settings, config_dirs)
