"""Run one eval plan: samples concurrently on anyio, bounded by the providers' pools.

The number of samples in flight is the sum of the connection limits of the pools the eval uses, so
work is never queued behind a global worker count and never piles up in memory either.
"""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel

from engine._gc import sampling
from engine._secrets import redact_tree
from engine.batch import BatchJournal, batch_journal_path, running_batchers
from engine.datasets import Sample
from engine.logs import (
    EvalHeader,
    Recovered,
    RemoteLogDir,
    RoleModel,
    ScoreSummary,
    Transcript,
    config_hash,
    eval_error,
    eval_header,
    eval_reductions,
    eval_results,
    eval_sample,
    eval_stats,
    git_revision,
    log_writer,
    package_versions,
    recording,
    utc_now,
    write_run_file,
)
from engine.messages import ModelUsage
from engine.providers import (
    AuthRefused,
    GenerateError,
    sample_cache_hits,
    sample_epoch,
    sample_key,
    sample_target,
    sample_usage,
)
from engine.runner._budget import Budget, JobBudget
from engine.runner._display import Display
from engine.runner._plan import EvalPlan
from engine.runner._tally import SampleValues, ScoreTally
from engine.scorers import Metric, Reducer, Score, reduce_epochs, value_to_float
from engine.solvers import TaskState, current_state


@dataclass
class EvalResult:
    task: str
    model: str
    status: str
    log_path: Path
    samples: int
    errors: int
    metrics: dict[str, dict[str, float]]
    usage: dict[str, ModelUsage]
    duration: float
    log_location: str = ""
    """Where the log is: `log_path`, or its URL on a remote log dir (`s3://…`)."""
    error_reasons: list[str] = field(default_factory=list)
    resumed: int = 0
    """Samples already scored by an interrupted run of the same config."""

    @property
    def failed(self) -> bool:
        return self.status != "success"


def safe_name(text: str) -> str:
    """Model names carry `/` and `:`; file and folder names must not."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text).strip("-")


def new_log_name(plan: EvalPlan, created: str | None = None) -> str:
    """The log file a new run writes, named as Inspect names its logs."""
    config = plan.config
    return log_file_name(
        created or utc_now(), config.task.name, plan.model_name, task_id_of(plan), config.log_format
    )


def errors_exceed(errors: int, total: int, threshold: bool | int | float) -> bool:
    """Inspect's rule (`_should_eval_fail`), to the float: a proportion p fails the run at
    `errors >= p * total`, a count N at `errors >= N`, true at any error."""
    if errors == 0 or threshold is False:
        return False
    if threshold is True:
        return True
    if threshold < 1:
        return errors >= threshold * total
    return errors >= threshold


def log_file_name(
    created: str, task: str, model: str, task_id: str, log_format: str = "eval"
) -> str:
    """Inspect's `{created}_{task}_{model}_{id}` pattern, each part free of `_` (Inspect's
    `clean_filename_component`), so `list_eval_logs` reads task and id back from the name."""

    def part(text: str) -> str:
        return safe_name(text).replace("_", "-")

    return f"{part(created[:19])}_{part(task)}_{part(model)}_{part(task_id)}.{log_format}"


def task_id_of(plan: EvalPlan) -> str:
    """The config's hash: the same task config has the same id (hex, so it survives file names).
    The shards of one job share it: `shard`, `shards`, `workers` and the connection settings
    (which `workers=K` divides) are left out, as none of them changes an answer."""
    from engine._sharding import job_config

    return config_hash(job_config(plan.composed.resolved))


def _log_header(plan: EvalPlan, run_id: str, created: str, resumed: int) -> dict[str, Any]:
    config = plan.config
    composed = plan.composed
    task = config.task
    revision_dir = composed.config_dirs[0] if len(composed.config_dirs) > 1 else Path.cwd()
    header = EvalHeader(
        eval_id=uuid.uuid4().hex,
        run_id=run_id,
        created=created,
        task=task.name,
        task_id=task_id_of(plan),
        task_description=task.description,
        tags=config.tags,
        dataset_location=task.dataset.location,
        dataset_samples=plan.samples.dataset_size,
        sample_ids=plan.samples.ids,
        # Inspect's field: the seed the samples were shuffled with (drawn when none was given).
        sample_shuffle=plan.samples.seed,
        model=plan.model_name,
        generate_config=config.generation.model_dump(exclude_none=True),
        model_base_url=plan.model.api.base_url if plan.model else None,
        model_args=config.model_args,
        model_roles=_role_models(plan),
        limit=config.limit,
        sample_id=config.sample_id,
        epochs=config.epochs,
        epochs_reducer=[name for name, _ in plan.reducers],
        fail_on_error=config.fail_on_error,
        revision=git_revision(revision_dir),
        packages=package_versions(),
        metadata={**config.metadata, "inspect_run": _run_metadata(plan, resumed)},
        solvers=[(c.name, c.args) for c, _ in plan.solvers],
    )
    return eval_header(header)


def _role_models(plan: EvalPlan) -> dict[str, RoleModel]:
    """Inspect's `model_roles` maps a name to one model: a list's others are `grader_2`, …."""
    roles = {}
    for role, binding in plan.config.roles.items():
        if binding is None or role not in plan.roles:
            continue
        specs = binding if isinstance(binding, list) else [binding]
        models = plan.role_lists.get(role, [plan.roles[role]])
        for index, (spec, model) in enumerate(zip(specs, models, strict=True), start=1):
            roles[role if index == 1 else f"{role}_{index}"] = RoleModel(
                model.name,
                model.generation.model_dump(exclude_none=True),
                model.api.base_url,
                spec.model_args,
            )
    return roles


def _run_metadata(plan: EvalPlan, resumed: int) -> dict[str, Any]:
    """The header's `metadata.inspect_run`: the resolved config and what else reproduces the run."""
    config = plan.config
    composed = plan.composed
    return {
        "config": composed.resolved,
        "config_hash": config_hash(composed.resolved),
        "overrides": composed.overrides,
        "choices": {k: v for k, v in composed.choices.items() if not k.startswith("hydra")},
        "connection": config.connection.model_dump(),
        "resumed_samples": resumed,
        # Which slice of the job this log holds (`inspect-run merge` joins the shards).
        **_shard_metadata(plan),
        # Settings a model's provider cannot honour (warned once at the start).
        "unsupported_generation": plan.unsupported,
        # Every declared role with the model that played it (unbound → model under test).
        "roles": {
            role: [m.name for m in plan.role_lists[role]]
            if role in plan.role_lists
            else plan.roles[role].name
            if role in plan.roles
            else plan.model_name
            for role in config.roles
        },
    }


def _shard_metadata(plan: EvalPlan) -> dict[str, Any]:
    shard = plan.samples.shard
    if shard is None:
        return {}
    described = {"index": shard.index, "count": shard.count, "samples": len(plan.samples)}
    return {"shard": {**described, "job": task_id_of(plan)}}


def _error_record(error: BaseException) -> dict[str, str]:
    """A failed sample's `EvalError`: a provider's reason as it is, else the exception's trace."""
    if isinstance(error, GenerateError):
        return eval_error(error.reason)
    return eval_error(
        f"{type(error).__name__}: {error}", "".join(traceback.format_exception(error))
    )


async def _attempt(
    plan: EvalPlan, sample: Sample, epoch: int, scorer_names: list[str]
) -> tuple[TaskState, dict[str, Score], Exception | None, Transcript]:
    """Solve and score once, recording the transcript; on failure what happened so far is kept."""
    transcript = Transcript()
    with recording(transcript):
        state = TaskState.start(sample, epoch, plan.model, plan.roles, plan.role_lists)
        current_state.set(state)  # what `engine.get_model()` reads
        sample_target.set(sample.targets)  # what `mockllm/` answers with
        with transcript.span("init", "init"):
            transcript.add(
                "sample_init",
                sample=_sample_for_event(sample),
                state={"messages": [message.to_log() for message in state.messages]},
            )
        try:
            with transcript.span("solvers", "solvers"):
                for component, solve in plan.solvers:
                    with transcript.span(component.name, "solver"):
                        state = await solve(state)
            scores = {}
            with transcript.span("scorers", "scorers"):
                for (component, score), name in zip(plan.scorers, scorer_names, strict=True):
                    with transcript.span(name, "scorer"):
                        scores[name] = await score(state)
                        transcript.add(
                            "score",
                            score=scores[name].to_log(),
                            target=sample.target,
                            intermediate=False,
                            scorer=name,
                            scorer_args=component.args or None,
                        )
        except Exception as failure:  # a sample's failure never stops the run
            record = _error_record(failure)
            transcript.error(record["message"], record["traceback"])
            return state, {}, failure, transcript
    return state, scores, None, transcript


def _sample_for_event(sample: Sample) -> dict[str, Any]:
    """Inspect's `Sample` as `sample_init` shows it."""
    logged: dict[str, Any] = {"input": sample.input_to_log(), "target": sample.target}
    if sample.id is not None:
        logged["id"] = sample.id
    if sample.choices is not None:
        logged["choices"] = sample.choices
    if sample.metadata:
        logged["metadata"] = sample.metadata
    return logged


def _sample_record(
    plan: EvalPlan,
    sample: Sample,
    epoch: int,
    outcome: tuple[TaskState, dict[str, Score], Exception | None, Transcript],
    usage: dict[str, ModelUsage],
    retries: list[dict[str, Any]],
    timing: tuple[float, str],
) -> dict[str, Any]:
    """The log's record of one (sample, epoch): the last attempt's outcome, the failed ones before
    it in `retries`; `timing` is when it started (monotonic clock, and UTC)."""
    state, scores, error, transcript = outcome
    sample_start, started_at = timing
    return eval_sample(
        id=sample.id,
        epoch=epoch,
        input=sample.input_to_log(),
        target=sample.target,
        messages=[message.to_log() for message in state.messages],
        output=state.output.to_log() if state.output is not None else None,
        model=plan.model_name,
        metadata=state.metadata,
        model_usage={name: u.to_log() for name, u in usage.items()},
        role_usage=transcript.role_usage(),
        events=transcript.events,
        started_at=started_at,
        completed_at=utc_now(),
        total_time=time.monotonic() - sample_start,
        working_time=transcript.working_time,
        uuid=uuid.uuid4().hex,
        choices=sample.choices,
        retries=retries,
        scores={name: score.to_log() for name, score in scores.items()},
        error=None if error is None else _error_record(error),
    )


async def _attempts(
    plan: EvalPlan, sample: Sample, epoch: int, scorer_names: list[str]
) -> tuple[TaskState, dict[str, Score], Exception | None, Transcript, list[dict[str, Any]]]:
    """`_attempt`, again after a failure up to `retry_on_error` times (never after `AuthRefused`);
    the last attempt's outcome, and each failed one before it (its error and events)."""
    retries: list[dict[str, Any]] = []
    state, scores, error, transcript = await _attempt(plan, sample, epoch, scorer_names)
    while (
        error is not None
        and not isinstance(error, AuthRefused)
        and len(retries) < plan.config.retry_on_error
    ):
        retries.append({**_error_record(error), "events": transcript.events})
        state, scores, error, transcript = await _attempt(plan, sample, epoch, scorer_names)
    return state, scores, error, transcript, retries


async def run_plan(
    plan: EvalPlan,
    run_dir: Path,
    display: Display,
    *,
    identity: str,
    resume_log: str | None = None,
    log_name: str | None = None,
    remote: RemoteLogDir | None = None,
    budget: Budget | None = None,
) -> EvalResult:
    """Run every (sample, epoch) not already scored in `run_dir/resume_log` (when resuming).

    `budget`: no sample starts once it would pass the budget's cap (shared by a sweep's jobs)."""
    config = plan.config
    for model in plan.models():
        model.api.connect()  # made by `prepare_run` already; else now, before the clock starts
    created = utc_now()
    run_id = uuid.uuid4().hex[:12]
    log_name = resume_log or log_name or new_log_name(plan, created)
    log_path = run_dir / log_name
    ids = plan.samples.ids
    selected = {str(i) for i in ids} if len(ids) == len(plan.samples) else None
    writer = log_writer(log_path, {})
    recovered = writer.recover(selected) if resume_log else Recovered()
    writer.header = redact_tree(_log_header(plan, run_id, created, resumed=len(recovered.done)))
    writer.start()
    shuffle_seed = plan.samples.seed
    write_run_file(run_dir, identity, log_name, "started", shuffle_seed)
    if remote is not None:
        remote.push(run_dir)

    total = len(plan.samples) * config.epochs
    scorer_names = [component.name for component, _ in plan.scorers]
    tally = ScoreTally(scorer_names, config.epochs)
    for name, values in recovered.scores.items():
        for sample_id, epoch, value in values:
            tally.add_earlier(name, sample_id, epoch, value_to_float(value))
    recovered.scores = {}  # in the tally now
    work = _work(plan, tally, recovered.done)
    job_usage = {model.name: ModelUsage() for model in plan.models()}
    """Summed per sample: a model shared with other evals (in a sweep) counts theirs too."""
    job_hits: dict[str, int] = {}
    started = time.monotonic()
    pools = {model.pool.key: model.pool for model in plan.models() if model.batcher is None}
    in_flight = max(1, sum(pool.max_connections for pool in pools.values()))
    batchers = [model.batcher for model in plan.models() if model.batcher is not None]
    if batchers:  # a batch fills only if that many samples wait on it at once
        in_flight += config.batch.size * config.batch.max_batches
    display.start(plan, total, done=len(recovered.done), usage=job_usage, cache_hits=job_hits)
    job_budget = None
    if budget is not None:
        job_budget = await _job_budget(plan, budget, recovered.usage)

    stop = anyio.CancelScope()
    """Cancelled when the run must stop early (every request refused: `AuthRefused`)."""
    stopped: list[str] = []

    async def run_one(place: int, sample: Sample, epoch: int) -> None:
        usage: dict[str, ModelUsage] = {}
        hits: dict[str, int] = {}
        token = sample_usage.set(usage)
        hits_token = sample_cache_hits.set(hits)
        sample_epoch.set(epoch)
        sample_key.set(str(sample.id))
        timing = (time.monotonic(), utc_now())
        try:
            state, scores, error, transcript, retries = await _attempts(
                plan, sample, epoch, scorer_names
            )
        finally:
            sample_usage.reset(token)
            sample_cache_hits.reset(hits_token)
        if isinstance(error, AuthRefused):
            if not stopped:
                stopped.append(error.reason)
                display.message(f"inspect-run: {error.reason}")
                stop.cancel()
            if error.attempts == 0:
                return  # nothing was sent for it: it is not a failed sample, only an unrun one
        for name, used in usage.items():
            job_usage.setdefault(name, ModelUsage()).add(used)
        if job_budget is not None:
            job_budget.finished(usage)
        for name, count in hits.items():
            job_hits[name] = job_hits.get(name, 0) + count
        if error is None:
            tally.add(place, epoch, {name: value.as_float() for name, value in scores.items()})
        record = _sample_record(
            plan, sample, epoch, (state, scores, error, transcript), usage, retries, timing
        )
        if error is not None:
            tally.errors += 1
            if len(tally.error_reasons) < 20:
                tally.error_reasons.append(writer.redact(record["error"]["message"]))
        writer.write_sample(record)
        display.sample_done(error is not None)
        if remote is not None and remote.due():  # the journal so far, off the event loop
            await anyio.to_thread.run_sync(remote.push, run_dir)

    async def worker() -> None:
        # Each sample starts on a new turn of the event loop. A sample that never waits (an
        # in-process model such as mockllm/model, a solver that calls no model) would otherwise
        # let one worker run the whole job in one step, holding off the other workers, signals
        # (SIGTERM, Ctrl-C) and timers, whose cancelled handles keep each finished sample's
        # context alive until the step ends.
        for place, sample, epoch in work:  # workers share one iterator: each runs once
            await anyio.lowlevel.checkpoint()
            if job_budget is None:
                await run_one(place, sample, epoch)
                continue
            cost, tokens = job_budget.expected()
            left = total - len(recovered.done) - job_budget.done
            if not job_budget.budget.admit(cost, tokens, left):
                if not stopped and job_budget.budget.reason is not None:
                    stopped.append(job_budget.budget.reason)
                    display.message(f"inspect-run: {job_budget.budget.reason}")
                return
            try:
                await run_one(place, sample, epoch)
            finally:
                job_budget.budget.release(cost, tokens)

    status = "success"
    journal = BatchJournal(batch_journal_path(log_path))
    try:
        async with running_batchers(batchers, journal, recovered.done, display.batches_changed):
            with stop, sampling():  # the collector's young threshold raised (engine._gc)
                async with anyio.create_task_group() as group:
                    for _ in range(min(in_flight, total - len(recovered.done))):
                        group.start_soon(worker)
    except BaseException:
        status = "cancelled"
        raise
    finally:
        duration = time.monotonic() - started
        usage_total = job_usage
        for name, earlier in recovered.usage.items():
            usage_total.setdefault(name, ModelUsage()).add(ModelUsage.from_log(earlier))
        if status == "success" and (
            stopped or errors_exceed(tally.errors, total, config.fail_on_error)
        ):
            status = "error"
        results, stats, failure, reductions = _closing_records(
            plan, tally, total, status, stopped, (created, usage_total, job_hits)
        )
        # synchronous: cancellation cannot cut it
        writer.finish(status, results, stats, failure, reductions)
        write_run_file(run_dir, identity, log_name, status, shuffle_seed)
        display.finish()
        if remote is not None:
            remote.push(run_dir)  # the finished log, then run.state
    return EvalResult(
        task=config.task.name,
        model=plan.model_name,
        status=status,
        log_path=log_path,
        log_location=remote.url_of(log_path) if remote is not None else str(log_path),
        samples=total,
        errors=tally.errors,
        metrics={
            score["name"]: {n: m["value"] for n, m in score["metrics"].items()}
            for score in results["scores"]
        },
        usage=usage_total,
        duration=duration,
        error_reasons=tally.error_reasons,
        resumed=len(recovered.done),
    )


def _work(
    plan: EvalPlan, tally: ScoreTally, done: set[tuple[str, int]]
) -> Iterator[tuple[int, Sample, int]]:
    """(place, sample, epoch) of each sample and epoch to run, epoch by epoch; the first epoch
    places every sample in `tally`, and an interrupted run's values (`done`) go into place as
    they are passed. Only the samples being run are held: the dataset is read as they are
    taken."""
    for epoch in range(1, plan.config.epochs + 1):
        for place, sample in enumerate(plan.samples):
            sample_id = str(sample.id)
            if epoch == 1:
                tally.place(sample_id)
            if (sample_id, epoch) in done:
                tally.take_earlier(place, sample_id, epoch)
            else:
                yield place, sample, epoch


def _closing_records(
    plan: EvalPlan,
    tally: ScoreTally,
    total: int,
    status: str,
    stopped: list[str],
    spent: tuple[str, dict[str, ModelUsage], dict[str, int]],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str] | None, list[dict[str, Any]]]:
    """What `finish` writes: results, stats, the run's error (with status `error`) and the
    reductions. `spent`: when the run started, the usage (with an interrupted run's) and cache
    hits."""
    created, usage_total, cache_hits = spent
    named = [(c.name, c.args) for c, _ in plan.scorers]
    values = tally.scores()
    results = results_record(
        named,
        values,
        plan.reducers,
        plan.metrics,
        total,
        tally.errors,
        metadata=_results_metadata(plan, cache_hits),
    )
    usage_log = {name: u.to_log() for name, u in usage_total.items()}
    stats = eval_stats(created, utc_now(), usage_log, _limit_history(plan))
    failure = None
    if status == "error":
        failure = eval_error(
            stopped[0]
            if stopped
            else f"{tally.errors} of {total} samples failed "
            f"(fail_on_error={plan.config.fail_on_error})"
        )
    reductions = reductions_record([name for name, _ in named], values, plan.reducers)
    return results, stats, failure, reductions


def _results_metadata(plan: EvalPlan, cache_hits: dict[str, int]) -> dict[str, Any]:
    """`results.metadata`: response-cache hits and every batch this run created, by model (the
    batch journal has them too)."""
    metadata: dict[str, Any] = {}
    if cache_hits:
        metadata["cache_hits"] = cache_hits
    batch_ids = {
        model.name: model.batcher.batch_ids
        for model in plan.models()
        if model.batcher is not None and model.batcher.batch_ids
    }
    if batch_ids:
        metadata["batches"] = batch_ids
    return metadata


def _limit_history(plan: EvalPlan) -> list[dict[str, Any]]:
    """How each adaptive connection limit moved during the run."""
    adaptive_pools = {m.pool.key: m for m in plan.models() if m.pool.adaptive}
    return [
        change
        for model in adaptive_pools.values()
        for change in model.pool.limit_history(model.name)
    ]


async def _job_budget(plan: EvalPlan, budget: Budget, earlier: dict[str, Any]) -> JobBudget:
    """This job's share of `budget`: what an interrupted run already spent is spent, and a sample
    is expected to cost what the plan estimates until this job's first samples are done."""
    from engine.runner._estimate import estimate_job

    batched = {model.name for model in plan.models() if model.batcher is not None}
    budget.spend({name: ModelUsage.from_log(used) for name, used in earlier.items()}, batched)
    cost, tokens = (await estimate_job(plan, lookup=False)).per_sample()
    return JobBudget(budget, batched, cost, tokens)


def results_record(
    scorers: Sequence[tuple[str, dict[str, Any]]],
    values: Mapping[str, SampleValues],
    reducers: Sequence[tuple[str, Reducer]],
    metrics: Sequence[tuple[str, Metric]],
    total: int,
    errors: int,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Inspect's `results`: one score entry per scorer (name, args) and per reducer, when several.
    `values`: per scorer, each sample's values across epochs; the epochs of each sample are reduced
    to one value first, then the metrics run over the samples."""
    scores = []
    for name, args in scorers:
        per_sample = values.get(name, {})
        scored = sum(len(epochs) for epochs in per_sample.values())
        for reducer, reduce in reducers:
            reduced = reduce_epochs(reduce, per_sample.values())
            scores.append(
                ScoreSummary(
                    name=name if len(reducers) == 1 else f"{name}_{reducer}",
                    scorer=name,
                    reducer=reducer,
                    params=args,
                    scored_samples=scored,
                    unscored_samples=total - scored,
                    metrics={
                        metric: compute(reduced) if reduced else 0.0 for metric, compute in metrics
                    },
                )
            )
    return eval_results(total, errors, scores, metadata)


def reductions_record(
    scorers: Sequence[str],
    values: Mapping[str, SampleValues],
    reducers: Sequence[tuple[str, Reducer]],
) -> list[dict[str, Any]]:
    """Inspect's `reductions`: each sample's score after its epochs are reduced, per scorer and
    reducer (viewers show these for multi-epoch runs). A sample the reducer leaves unscored
    (fewer epochs than its K) is left out. Each record's samples are reduced as the log writer
    reads them (see `eval_reductions`)."""
    return eval_reductions(
        [
            (name, reducer, _reduced(values.get(name, {}), reduce))
            for name in scorers
            for reducer, reduce in reducers
        ]
    )


def _reduced(values: SampleValues, reduce: Reducer) -> Iterator[tuple[Any, float]]:
    for sample_id, epochs in values.items():
        reduced = reduce_epochs(reduce, [epochs])
        if reduced:
            yield sample_id, reduced[0]
