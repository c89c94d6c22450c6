"""From a composed config to a finished eval: plan (errors before any request), run, close."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import anyio

from engine._gc import startup
from engine.config import Composed, ConfigError, Problem
from engine.logs import (
    RESUMABLE,
    FolderLock,
    Redactor,
    RemoteLogDir,
    RemoteLogError,
    find_resumable,
    is_remote,
    read_run_file,
    write_run_file,
)
from engine.runner._budget import Budget
from engine.runner._display import Display, make_display
from engine.runner._interrupt import run_interruptible
from engine.runner._plan import EvalPlan, build_plan, identity_of
from engine.runner._run import EvalResult, new_log_name, run_plan, safe_name


def default_run_dir(plan: EvalPlan, log_root: Path | None = None) -> Path:
    """One tidy folder per run under `log_dir` (or `log_root`, a remote log dir's staging
    mirror): `<time>_<task>_<model>`."""
    stamp = datetime.now().strftime("%Y-%m-%dT%H-%M-%S-%f")[:-3]
    name = f"{stamp}_{safe_name(plan.config.task.name)}_{safe_name(plan.model_name)}"
    return (log_root or Path(plan.config.log_dir)) / name


def _unused(folder: Path) -> Path:
    """`folder`, or `folder-2`, … if another run took that name in the same millisecond."""
    candidate, copy = folder, 1
    while candidate.exists():
        copy += 1
        candidate = folder.with_name(f"{folder.name}-{copy}")
    return candidate


def _save_config(composed: Composed, run_dir: Path) -> None:
    """The resolved, validated config beside the log, credentials masked (a header read from
    `${oc.env:…}` is resolved here, so its value is masked by its name)."""
    import yaml

    from engine._secrets import redact_tree

    redact = Redactor()
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(
        redact(yaml.safe_dump(redact_tree(composed.resolved), sort_keys=False, allow_unicode=True)),
        encoding="utf-8",
    )
    (run_dir / "overrides.yaml").write_text(
        redact(yaml.safe_dump(composed.overrides, allow_unicode=True)), encoding="utf-8"
    )


@dataclass
class PreparedRun:
    """A planned eval with its folder (owned by this process until `release`), and the log to
    resume in that folder (if any)."""

    plan: EvalPlan
    folder: Path
    identity: str
    resume_log: str | None
    notes: list[str]
    lock: FolderLock | None = None
    log_name: str | None = None
    """The log file this run writes (the resumed one, or a new name)."""
    remote: RemoteLogDir | None = None
    """A remote log dir (`s3://…`): `folder` is in its staging mirror, uploaded as it runs."""
    budget: Budget | None = None
    """The run's `budget` caps (a sweep's jobs share one)."""

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()


def prepare_run(plan: EvalPlan, run_dir: Path | None = None) -> PreparedRun:
    """Find where a planned eval writes, or the interrupted run it resumes; own that folder (a
    `FolderBusy` if a live process owns it); save its config.

    Without `run_dir`, an interrupted run of the same identity anywhere under `log_dir` is resumed;
    with one, only an interrupted run in that folder is. Finding and claiming the folder happen
    under `log_dir`'s claim lock, so two identical commands never both start the same run.
    """
    for model in plan.models():
        model.api.connect()  # the SDK clients, made before the event loop as at planning
    composed = plan.composed
    config = composed.config
    identity = identity_of(composed)
    # The process that runs `workers=K` said the job's notes once, not each of its workers.
    notes = [] if config.is_worker else [*composed.notes, *plan.warnings]
    remote = None
    log_root = Path(config.log_dir)
    if is_remote(config.log_dir) and run_dir is None:
        remote = RemoteLogDir(config.log_dir)
        try:
            remote.pull_unfinished()  # so the same command resumes here too
        except RemoteLogError as error:
            raise ConfigError(
                [Problem("log_dir", str(error), composed.locate("log_dir"))]
            ) from None
        log_root = remote.staging
    claim = FolderLock(log_root, None, wait=True) if run_dir is None else None
    with claim or contextlib.nullcontext():
        resumable = None
        if config.resume and run_dir is None:
            resumable = find_resumable(log_root, identity)
        elif config.resume and run_dir is not None:
            record = read_run_file(run_dir)
            if record and record.get("identity") == identity and record.get("status") in RESUMABLE:
                resumable = run_dir, record
        if resumable is not None:
            folder, record = resumable
            resume_log = log_name = str(record["log"])
            drawn = record.get("shuffle_seed")
            if plan.samples.drawn and isinstance(drawn, int) and drawn != plan.samples.seed:
                plan.samples = plan.samples.reseeded(drawn)  # the samples the interrupted run drew
        else:
            folder, resume_log = run_dir or _unused(default_run_dir(plan, log_root)), None
            log_name = new_log_name(plan)
        lock = FolderLock(folder).acquire()
        try:
            if resumable is not None:
                notes.append(
                    f"resuming the interrupted run in {folder} (resume=false starts afresh)"
                )
            else:  # claimed before the first request: an identical command now finds this run
                write_run_file(folder, identity, log_name, "started", plan.samples.seed)
            if remote is not None:
                notes.append(f"writing to {remote.url_of(folder)} (staged in {folder})")
            _save_config(composed, folder)
        except BaseException:
            lock.release()
            raise
    budget = Budget.of(config)
    return PreparedRun(plan, folder, identity, resume_log, notes, lock, log_name, remote, budget)


async def execute(prepared: PreparedRun, display: Display) -> EvalResult:
    """Run a prepared eval (its hub stays open: the caller owns it)."""
    for note in prepared.notes:
        display.message(note)
    return await run_plan(
        prepared.plan,
        prepared.folder,
        display,
        identity=prepared.identity,
        resume_log=prepared.resume_log,
        log_name=prepared.log_name,
        remote=prepared.remote,
        budget=prepared.budget,
    )


async def _run_and_close(prepared: PreparedRun, display: Display) -> EvalResult:
    try:
        return await execute(prepared, display)
    finally:
        with anyio.CancelScope(shield=True):
            await prepared.plan.hub.aclose()


def run_composed(
    composed: Composed, run_dir: Path | None = None, display: Display | None = None
) -> EvalResult:
    """Plan (raising `ConfigError` before any request) and run one task × model."""
    with startup():  # the SDK's import and clients, the collector paused (see engine._gc)
        prepared = prepare_run(build_plan(composed), run_dir)
    try:
        display = display or make_display(composed.config.display)
        return run_interruptible(_run_and_close, prepared, display)
    finally:
        prepared.release()
