"""Run a sweep: validate every job, reuse what is done, run the rest, then compare.

In process (the default) unless a Hydra launcher is selected (`hydra/launcher=joblib`, …): API-bound
sweeps gain nothing from separate processes but start-up time and rate-limit fights.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from engine.compare import Comparison, compare, read_run
from engine.config import (
    ConfigError,
    Problem,
    Sweep,
    compose_config,
    expand_sweep,
    extra_config_dirs,
)
from engine.logs import FolderLock, read_run_file, redact, unusable_folder
from engine.models import ModelHub
from engine.runner import (
    Budget,
    EvalPlan,
    EvalResult,
    JobEstimate,
    SharedSelections,
    build_plan,
    prepare_run,
    sharing_digests,
)
from engine.sweeps._budget import budget_shares
from engine.sweeps._jobs import (
    Job,
    classify,
    job_label,
    set_aside,
    sweep_folder,
    write_manifest,
)
from engine.sweeps._launchers import check_launcher
from engine.sweeps._ray import is_ray_tasks


@dataclass
class SweepOutcome:
    folder: Path
    jobs: list[Job]
    comparison: Comparison
    results: list[EvalResult] = field(default_factory=list)
    """The jobs that ran now (reused ones are only in the comparison)."""
    failed: list[Job] = field(default_factory=list)
    """Jobs whose run did not end in success."""
    estimates: list[JobEstimate] | None = None
    """With `plan: true`: what each job would send and cost (nothing ran, no folder claimed)."""
    reused: list[str] = field(default_factory=list)
    """With `plan: true`: the labels of the jobs already complete in their folders."""


def _say(text: str) -> None:
    print(redact(f"inspect-run: {text}"), file=sys.stderr)


def plan_sweep(
    overrides: Sequence[str], owned: ExitStack | None = None
) -> tuple[Sweep, Path, list[Job], dict[int, EvalPlan]]:
    """`_plan_sweep`, its jobs hashing each dataset file once (`sharing_digests`)."""
    with sharing_digests():
        return _plan_sweep(overrides, owned)


def _plan_sweep(
    overrides: Sequence[str], owned: ExitStack | None = None
) -> tuple[Sweep, Path, list[Job], dict[int, EvalPlan]]:
    """Every job composed, classified and (unless reused) planned; all problems raised at once.

    Plans share one model hub per connection/cache setting, so jobs share connection pools (jobs
    sent through batch APIs excepted: each keeps its own batcher and journal). With `owned`, the
    sweep folder is locked (held until `owned` closes) before its jobs are classified: a second
    identical sweep gets `FolderBusy` instead of running the same jobs; not with `plan: true`
    (nothing runs). The jobs of one dataset and selection share its read (`SharedSelections`).
    """
    sweep = expand_sweep(overrides)
    if sweep.first.config.plan:
        owned = None
    root = sweep_folder(sweep)
    why = unusable_folder(root)
    if why is not None:
        explicit = any(o.lstrip("+").startswith("hydra.sweep.dir=") for o in sweep.jobs[0])
        key = "hydra.sweep.dir" if explicit else "log_dir"
        raise ConfigError([Problem(key, f"cannot hold the sweep folder {root}: {why}")])
    undo = _own(root, owned) if owned is not None else None
    jobs: list[Job] = []
    plans: dict[int, EvalPlan] = {}
    hubs: dict[str, ModelHub] = {}
    selections = SharedSelections()
    problems: list[Problem] = []
    if sweep.launcher != "basic":
        problems += check_launcher(sweep.launcher, sweep.first.launcher)
    for index, job_overrides in enumerate(sweep.jobs):
        try:
            # `expand_sweep` composed the first job already.
            composed = sweep.first if index == 0 else compose_config(job_overrides)
            job = classify(composed, root, sweep.swept, job_overrides)
            if job.state != "reuse":
                config = composed.config
                # A batcher belongs to one run (its journal): a job in batches gets its own hub.
                key = config.connection.model_dump_json() + config.cache.model_dump_json()
                if config.batch.enabled:
                    key = f"batch:{len(jobs)}"
                hub = hubs.setdefault(key, ModelHub(config.connection, config.cache, config.batch))
                plans[len(jobs)] = build_plan(composed, hub, selections=selections)
            jobs.append(job)
        except ConfigError as error:
            problems += sweep.job_problems(error, job_overrides)
    folders: dict[Path, Job] = {}
    for job in jobs:
        other = folders.setdefault(job.folder, job)
        if other is not job:
            problems.append(
                Problem(
                    "",
                    f"jobs '{other.label}' and '{job.label}' would share the folder {job.folder} "
                    "(their model names differ only in characters a folder name cannot hold)",
                )
            )
    if problems:
        if undo is not None:
            undo()
        raise ConfigError(problems)
    return sweep, root, jobs, plans


def _own(root: Path, owned: ExitStack) -> Callable[[], None]:
    """Lock the sweep folder until `owned` closes; the returned function gives it up and removes
    the folders the lock created (a sweep that fails validation leaves nothing behind)."""
    created = [folder for folder in (root, *root.parents) if not folder.exists()]
    lock = FolderLock(root).acquire()
    owned.callback(lock.release)

    def undo() -> None:
        lock.release()
        lock.path.unlink(missing_ok=True)
        for folder in created:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()

    return undo


def _announce(root: Path, jobs: list[Job]) -> None:
    states = [job.state for job in jobs]
    counts = ", ".join(
        f"{states.count(state)} {word}"
        for state, word in (
            ("reuse", "reused"),
            ("resume", "resumed"),
            ("new", "to run"),
            ("changed", "changed"),
        )
        if state in states
    )
    _say(f"sweep {root}: {len(jobs)} jobs ({counts})")
    for job in jobs:
        if job.state == "changed":
            _say(
                f"job {job.label}: its config changed since the log in {job.folder} "
                f"({'; '.join(job.changes[:5])}); running it again, the earlier logs are kept "
                "under .replaced/"
            )


def comparison_of(root: Path, jobs: list[Job], sweep: Sweep) -> Comparison:
    runs = []
    for job in jobs:
        record = read_run_file(job.folder)
        if record is not None and (job.folder / record["log"]).exists():
            run = read_run(job.folder / record["log"])
            run.label = job_label(job.composed, sweep.swept)
            runs.append(run)
    prices = {k: v.model_dump() for k, v in sweep.first.config.prices.items()}
    return compare(runs, prices)


def estimate_sweep(overrides: Sequence[str]) -> tuple[list[JobEstimate], list[str]]:
    """`plan=true` on a sweep: every job planned as a run would be (`ConfigError` as a run would
    raise it) and estimated; nothing is sent and no folder is claimed. Also the reused jobs."""
    return _estimated(*plan_sweep(overrides))


def _estimated(
    sweep: Sweep, root: Path, jobs: list[Job], plans: dict[int, EvalPlan]
) -> tuple[list[JobEstimate], list[str]]:
    from engine.runner import estimate_plans

    labelled = [(job_label(jobs[i].composed, sweep.swept), plan) for i, plan in plans.items()]
    reused = [job_label(job.composed, sweep.swept) for job in jobs if job.state == "reuse"]
    return estimate_plans(labelled), reused


def run_sweep(overrides: Sequence[str], config_dirs: Sequence[str | Path] = ()) -> SweepOutcome:
    """Validate (raising `ConfigError` before any request), run what is missing, compare.

    With `plan: true` (on the command line, in a sweep file or a preset) nothing runs: the
    outcome holds each job's `estimates` (see `estimate_sweep`)."""
    from engine.sweeps._inprocess import run_in_process

    with extra_config_dirs(config_dirs), ExitStack() as owned:
        sweep, root, jobs, plans = plan_sweep(overrides, owned)
        if sweep.first.config.plan:
            estimates, reused = _estimated(sweep, root, jobs, plans)
            return SweepOutcome(root, jobs, Comparison([]), estimates=estimates, reused=reused)
        _announce(root, jobs)
        for job in jobs:
            if job.state == "changed":
                set_aside(job, root)
        # Jobs a launcher runs apart cannot share one budget: each gets its share of the cap.
        shares = budget_shares(sweep.first.config, plans) if sweep.launcher != "basic" else {}
        write_manifest(root, sweep.swept, jobs, {jobs[i].folder: s for i, s in shares.items()})
        results: list[EvalResult] = []
        if sweep.launcher == "basic":
            budget = Budget.of(sweep.first.config)  # one cap for every job of the sweep
            prepared = []
            for index, job in enumerate(jobs):
                if index in plans:
                    prepared.append(prepare_run(plans[index], job.folder))
                    prepared[-1].budget = budget
                    owned.callback(prepared[-1].release)
            results = run_in_process(prepared, sweep.first.config.display)
        elif is_ray_tasks(sweep.first.launcher):
            from engine.sweeps._ray import RayRun, RayTasks, run_on_ray

            runs = [
                RayRun([*job.overrides, *shares.get(i, [])], job.folder)
                for i, job in enumerate(jobs)
                if i in plans
            ]
            _say(f"running {len(runs)} jobs as Ray tasks (hydra/launcher={sweep.launcher})")
            settings = RayTasks.model_validate(sweep.first.launcher)
            run_on_ray(runs, settings, config_dirs)
        else:
            from engine.sweeps._hydra import launch

            _say(f"launching {len(plans)} jobs with hydra/launcher={sweep.launcher}")
            launch(list(overrides), root)
    comparison = comparison_of(root, jobs, sweep)
    comparison.write(root)
    failed = [job for job in jobs if (read_run_file(job.folder) or {}).get("status") != "success"]
    return SweepOutcome(root, jobs, comparison, results, failed)
