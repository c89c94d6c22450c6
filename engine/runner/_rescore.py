"""`inspect-run score LOG… [SCORER…] [KEY=VALUE…]`: score existing logs again, without generating.

Each log's embedded config is the starting point; positional scorer names replace the task's
scorers, and overrides (`roles.grader=…`, `cache.enabled=false`, `log_format=json`) apply on top.
The models' replies are read back from the log and only the scorers run, so the only requests
sent are the graders'. The response cache is on unless turned off, so scoring the same log again
with the same grader sends nothing. The new log goes beside the old one under a new name (the old
log is never touched), and the old and new scores are compared per scorer.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

USAGE = (
    "usage: inspect-run score LOG… [SCORER…] [roles.grader=MODEL] [KEY=VALUE…]\n"
    "  re-scores the samples of each log (no generation) into a new log beside it"
)


@dataclass
class Agreement:
    """How a new scorer's values compare with the old log's, over the samples both scored."""

    old: str
    new: str
    old_values: list[float] = field(default_factory=list)
    new_values: list[float] = field(default_factory=list)

    @property
    def agreeing(self) -> int:
        return sum(a == b for a, b in zip(self.old_values, self.new_values, strict=True))

    def line(self) -> str:
        n = len(self.old_values)
        if n == 0:
            return f"  {self.old} → {self.new}: no sample scored by both"

        def mean(values: list[float]) -> float:
            return sum(values) / len(values)

        return (
            f"  {self.old} → {self.new}: mean {mean(self.old_values):.3f} → "
            f"{mean(self.new_values):.3f}, agreement {self.agreeing / n:.1%} ({self.agreeing}/{n})"
        )


@dataclass
class Rescored:
    source: Path
    path: Path
    samples: int
    errors: int
    agreements: list[Agreement]
    status: str


def _parse_args(args: Sequence[str]) -> tuple[list[Path], list[str], list[str]]:
    logs: list[Path] = []
    scorer_names: list[str] = []
    overrides: list[str] = []
    for arg in args:
        if "=" in arg:
            overrides.append(arg)
        elif Path(arg).suffix in (".eval", ".json") or Path(arg).exists():
            logs.append(Path(arg))
        else:
            scorer_names.append(arg)
    return logs, scorer_names, overrides


def new_log_path(source: Path, log_format: str) -> Path:
    """Beside `source`, never over an existing file: `NAME-scored.eval`, `NAME-scored-2.eval`, …"""
    stem = source.stem
    candidate = source.with_name(f"{stem}-scored.{log_format}")
    index = 2
    while candidate.exists():
        candidate = source.with_name(f"{stem}-scored-{index}.{log_format}")
        index += 1
    return candidate


def _compose(
    source: Path, header: dict[str, Any], scorer_names: list[str], overrides: list[str]
) -> Any:
    """The log's config with the new scorers and overrides, validated (`ConfigError` if not)."""
    import yaml
    from omegaconf import OmegaConf
    from pydantic import ValidationError

    from engine.config import ConfigError, Problem, RunConfig, problems_from_validation

    embedded = ((header.get("eval") or {}).get("metadata") or {}).get("inspect_run") or {}
    resolved = embedded.get("config")
    if not isinstance(resolved, dict):
        raise ConfigError([Problem("", f"{source} has no inspect-run config to score from")])
    tree = OmegaConf.create(resolved)
    OmegaConf.update(tree, "cache.enabled", True, merge=False)  # a repeated grader call is free
    OmegaConf.update(tree, "batch.enabled", False, merge=False)
    if scorer_names:
        OmegaConf.update(tree, "task.scorers", scorer_names, merge=False)
    problems = []
    for override in overrides:
        key, _, text = override.lstrip("+").partition("=")
        try:
            value = yaml.safe_load(text) if text else None
        except yaml.YAMLError as error:
            problems.append(Problem(key, f"not a valid value: {error}", "command line"))
            continue
        OmegaConf.update(tree, key, value, merge=False, force_add=True)
    if problems:
        raise ConfigError(problems)
    data = OmegaConf.to_container(tree, resolve=True)
    try:
        return RunConfig.model_validate(data), data
    except ValidationError as error:
        raise ConfigError(
            problems_from_validation(error, RunConfig, lambda key: "command line")
        ) from None


def _state_of(logged: dict[str, Any], model: Any, roles: Any, role_lists: Any) -> Any:
    """The TaskState a solver chain left, rebuilt from a logged sample."""
    from engine.datasets import Sample
    from engine.messages import ChatMessage, ModelOutput
    from engine.solvers import TaskState

    raw_input = logged.get("input", "")
    sample_input = (
        raw_input
        if isinstance(raw_input, str)
        else [ChatMessage.from_log(message) for message in raw_input]
    )
    sample = Sample(
        sample_input,
        logged.get("target", ""),
        logged.get("id"),
        logged.get("choices"),
        logged.get("metadata"),
    )
    state = TaskState.start(sample, int(logged.get("epoch", 1)), model, roles, role_lists)
    state.messages = [ChatMessage.from_log(message) for message in logged.get("messages") or []]
    if logged.get("output"):
        state.output = ModelOutput.from_log(logged["output"])
    state.metadata = dict(logged.get("metadata") or {})
    return state


def _old_scores(source: Path) -> dict[str, dict[tuple[str, int], float]]:
    from engine.logs import iter_log_samples
    from engine.scorers import value_to_float

    scores: dict[str, dict[tuple[str, int], float]] = {}
    for logged in iter_log_samples(source):
        key = (str(logged.get("id")), int(logged.get("epoch", 1)))
        for name, score in (logged.get("scores") or {}).items():
            scores.setdefault(name, {})[key] = value_to_float(score.get("value"))
    return scores


async def rescore(source: Path, scorer_names: list[str], overrides: list[str]) -> Rescored:
    """Score `source`'s samples again into a new log beside it."""
    import anyio

    from engine._assets import tasks_dir
    from engine._usercode import using_code_dirs
    from engine.config import ConfigError, Problem, user_config_dirs
    from engine.logs import (
        Transcript,
        eval_stats,
        iter_log_samples,
        log_writer,
        read_log_header,
        recording,
        rescored_header,
    )
    from engine.messages import ModelUsage
    from engine.models import ModelHub
    from engine.providers import ProviderError, sample_epoch, sample_key
    from engine.providers import sample_usage as usage_var
    from engine.registry import RegistryError
    from engine.runner._plan import Component, role_player
    from engine.runner._run import _error_record, errors_exceed, results_record
    from engine.scorers import check_reducers, metrics, scorers

    header = read_log_header(source)
    config, resolved = _compose(source, header, scorer_names, overrides)
    problems: list[Problem] = []
    hub = ModelHub(config.connection, config.cache, None)
    model = None
    try:
        if config.model and config.model != "none":
            model = hub.get(
                config.model, config.generation, config.model_args, config.model_base_url
            )
        roles = {}
        role_lists = {}
        for role, binding in config.roles.items():
            if binding is None:
                continue
            specs = binding if isinstance(binding, list) else [binding]
            bound = []
            for spec in specs:
                played = role_player(config, spec)
                if played is None:
                    raise ProviderError(
                        f"role '{role}' names no model, and there is none to play it"
                    )
                bound.append(hub.get(*played, connection=spec.connection))
            roles[role] = bound[0]
            if isinstance(binding, list):
                role_lists[role] = bound
    except ProviderError as error:
        problems.append(Problem("model", str(error), "command line"))
    # A user's scorers, metrics and reducers (`FILE.py:NAME`) load from the task directories
    # beside the config dirs of where the command runs, as a run's do.
    code_dirs = [d.parent / "tasks" for d in user_config_dirs()] + [tasks_dir()]
    with using_code_dirs(code_dirs):
        planned: list[tuple[Component, Any]] = []
        for index, spec in enumerate(config.task.scorers):
            try:
                name, args, scorer = scorers.create(spec)
            except RegistryError as error:
                problems.append(Problem(f"task.scorers.{index}", str(error), "command line"))
                continue
            unique = name if name not in {c.name for c, _ in planned} else f"{name}_{index}"
            planned.append((Component(unique, args, name), scorer))
        metric_fns = []
        for index, spec in enumerate(config.task.metrics):
            try:
                name, _, metric = metrics.create(spec)
                metric_fns.append((name, metric))
            except RegistryError as error:
                problems.append(Problem(f"task.metrics.{index}", str(error), "command line"))
        reducers: list[tuple[str, Any]] = []
        try:
            reducers = check_reducers(config.reducers, config.epochs)
        except (RegistryError, ValueError) as error:
            problems.append(Problem("epochs_reducer", str(error), "command line"))
    if problems:
        await hub.aclose()
        raise ConfigError(problems)

    old = _old_scores(source)
    primary = next(iter(old), None)
    agreements = {
        component.name: Agreement(
            component.name if component.name in old else primary or "-", component.name
        )
        for component, _ in planned
    }
    values: dict[str, dict[str, list[float]]] = {c.name: {} for c, _ in planned}
    errors = 0
    total = 0
    usage_total: dict[str, ModelUsage] = {}

    target = new_log_path(source, config.log_format)
    inspect_run = dict((header["eval"].get("metadata") or {}).get("inspect_run") or {})
    inspect_run.update(config=resolved, rescored_from=source.name, rescore_overrides=overrides)
    new_header = rescored_header(
        header,
        eval_id=uuid.uuid4().hex,
        created=_now(),
        inspect_run=inspect_run,
        model_roles={
            role: (bound.name, bound.generation.model_dump(exclude_none=True))
            for role, bound in roles.items()
        },
    )
    writer = log_writer(target, new_header)
    writer.start()
    created = _now()

    async def score_one(logged: dict[str, Any]) -> None:
        nonlocal errors, total
        total += 1
        if logged.get("error"):  # nothing to score: kept as it was
            errors += 1
            writer.write_sample(logged)
            return
        key = (str(logged.get("id")), int(logged.get("epoch", 1)))
        usage: dict[str, ModelUsage] = {}
        token = usage_var.set(usage)
        sample_epoch.set(key[1])
        sample_key.set(key[0])
        transcript = Transcript()
        scores: dict[str, Any] = {}
        failure = None
        try:
            with recording(transcript), transcript.span("scorers", "scorers"):
                state = _state_of(logged, model, roles, role_lists)
                for component, scorer in planned:
                    with transcript.span(component.name, "scorer"):
                        scores[component.name] = await scorer(state)
                        transcript.add(
                            "score",
                            score=scores[component.name].to_log(),
                            target=logged.get("target"),
                            intermediate=False,
                            scorer=component.name,
                            scorer_args=component.args or None,
                        )
        except Exception as error:  # one sample's failure never stops the others
            failure = _error_record(error)
            transcript.error(failure["message"], failure["traceback"])
        finally:
            usage_var.reset(token)
        merged_usage = {
            name: ModelUsage.from_log(u) for name, u in (logged.get("model_usage") or {}).items()
        }
        for name, used in usage.items():
            merged_usage.setdefault(name, ModelUsage()).add(used)
            usage_total.setdefault(name, ModelUsage()).add(used)
        record = {
            **logged,
            "events": [*(logged.get("events") or []), *transcript.events],
            "model_usage": {name: u.to_log() for name, u in merged_usage.items()},
            "uuid": uuid.uuid4().hex,
        }
        record.pop("scores", None)
        if failure is not None:
            errors += 1
            record["error"] = failure
        else:
            record["scores"] = {name: score.to_log() for name, score in scores.items()}
            for name, score in scores.items():
                value = score.as_float()
                values[name].setdefault(key[0], []).append(value)
                agreement = agreements[name]
                old_value = old.get(agreement.old, {}).get(key)
                if old_value is not None:
                    agreement.old_values.append(old_value)
                    agreement.new_values.append(value)
        writer.write_sample(record)

    samples: Iterator[dict[str, Any]] = iter_log_samples(source)

    async def worker() -> None:
        for logged in samples:  # workers share one iterator: each sample is scored once
            await score_one(logged)

    status = "success"
    try:
        async with anyio.create_task_group() as group:
            for _ in range(max(1, sum(p.max_connections for p in hub.pools.values()))):
                group.start_soon(worker)
    except BaseException:
        status = "cancelled"
        raise
    finally:
        if status == "success" and errors_exceed(errors, total, config.fail_on_error):
            status = "error"
        named = [(c.name, c.args) for c, _ in planned]
        results = results_record(named, values, reducers, metric_fns, total, errors)
        usage_log = {name: u.to_log() for name, u in usage_total.items()}
        stats = eval_stats(created, _now(), usage_log)
        writer.finish(status, results, stats, None, None)
        with anyio.CancelScope(shield=True):
            await hub.aclose()
    return Rescored(source, target, total, errors, list(agreements.values()), status)


def _now() -> str:
    from engine.logs import utc_now

    return utc_now()


def score_command(args: Sequence[str]) -> int:
    from engine.config import ConfigError
    from engine.logs import redact
    from engine.runner._interrupt import run_interruptible

    logs, scorer_names, overrides = _parse_args(args)
    missing = [path for path in logs if not path.is_file()]
    if not logs or missing:
        reason = f"no such log: {missing[0]}" if missing else "no LOG given"
        print(f"inspect-run: {reason}\n{USAGE}", file=sys.stderr)
        return 2
    failed = False
    for source in logs:
        started = time.monotonic()
        try:
            done = run_interruptible(rescore, source, scorer_names, overrides)
        except ConfigError as error:
            print(redact(f"inspect-run: {source}: {error}"), file=sys.stderr)
            return 2
        failed = failed or done.status != "success"
        print(f"{done.source} → {done.path}")
        print(
            f"  {done.samples} samples, {done.errors} not scored, "
            f"{time.monotonic() - started:.1f}s, status {done.status}"
        )
        for agreement in done.agreements:
            print(agreement.line())
    return 1 if failed else 0
