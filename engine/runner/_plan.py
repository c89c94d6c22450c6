"""Turn a validated config into an eval plan: models, roles, solvers, scorers, metrics, samples.

Everything that can be wrong with a config without sending a request is found here and reported
together as a `ConfigError` (unknown provider, missing key, bad solver argument, missing dataset).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine._assets import tasks_dir
from engine.config import RunConfig
from engine.config._compose import Composed
from engine.config._errors import ConfigError, Problem
from engine.datasets import DatasetError, Sample, read_samples
from engine.providers import NO_MODEL, Model, ModelHub, ProviderError
from engine.registry import RegistryError
from engine.scorers import Metric, Scorer, metrics, scorers
from engine.solvers import Solver, solvers


@dataclass
class Component:
    name: str
    args: dict[str, Any]


@dataclass
class EvalPlan:
    composed: Composed
    hub: ModelHub
    model: Model | None
    roles: dict[str, Model]
    samples: list[Sample]
    dataset_size: int
    solvers: list[tuple[Component, Solver]]
    scorers: list[tuple[Component, Scorer]]
    metrics: list[tuple[str, Metric]]
    warnings: list[str] = field(default_factory=list)

    @property
    def config(self) -> RunConfig:
        return self.composed.config

    @property
    def model_name(self) -> str:
        return self.model.name if self.model is not None else NO_MODEL

    def models(self) -> list[Model]:
        found = [] if self.model is None else [self.model]
        return found + [m for m in self.roles.values() if m not in found]


def dataset_search_dirs(composed: Composed) -> list[Path]:
    """Relative dataset paths: the working directory, `tasks/` beside each config dir, built-ins."""
    dirs = [Path.cwd()]
    dirs += [d.parent / "tasks" for d in composed.config_dirs[:-1]]
    dirs += [*composed.config_dirs[:-1], tasks_dir()]
    return dirs


def select_samples(samples: list[Sample], config: RunConfig) -> list[Sample]:
    """Inspect's order: filter by id, shuffle with the seed, then limit."""
    if config.sample_id is not None:
        wanted = config.sample_id if isinstance(config.sample_id, list) else [config.sample_id]
        keys = {str(w) for w in wanted}
        samples = [s for s in samples if str(s.id) in keys]
    if config.shuffle:
        samples = list(samples)
        random.Random(config.seed).shuffle(samples)
    if isinstance(config.limit, tuple):
        samples = samples[config.limit[0] : config.limit[1]]
    elif config.limit is not None:
        samples = samples[: config.limit]
    return samples


def build_plan(composed: Composed) -> EvalPlan:
    config = composed.config
    problems: list[Problem] = []

    def problem(key: str, error: Exception) -> None:
        problems.append(Problem(key, str(error), composed.locate(key)))

    hub = ModelHub(config.connection, config.cache)

    model: Model | None = None
    if config.model and config.model != NO_MODEL:
        try:
            model = hub.get(
                config.model, config.generation, config.model_args, config.model_base_url
            )
        except ProviderError as error:
            problem("model", error)

    roles: dict[str, Model] = {}
    for role, spec in config.roles.items():
        if spec is None:
            continue
        try:
            roles[role] = hub.get(spec.model, spec.generation, spec.model_args, spec.base_url)
        except ProviderError as error:
            problem(f"roles.{role}", error)

    def components(kind: str, specs: list[Any], registry: Any) -> list[tuple[Component, Any]]:
        built: list[tuple[Component, Any]] = []
        for index, spec in enumerate(specs):
            try:
                name, args, component = registry.create(spec)
                taken = {c.name for c, _ in built}
                unique = name if name not in taken else f"{name}_{index}"  # two `match`es
                built.append((Component(unique, args), component))
            except RegistryError as error:
                problem(f"task.{kind}.{index}", error)
        return built

    planned_solvers = components("solvers", config.task.solvers, solvers)
    planned_scorers = components("scorers", config.task.scorers, scorers)
    planned_metrics = [(c.name, m) for c, m in components("metrics", config.task.metrics, metrics)]

    samples: list[Sample] = []
    try:
        samples = read_samples(config.task.dataset, dataset_search_dirs(composed))
    except DatasetError as error:
        problem("task.dataset", error)

    if problems:
        raise ConfigError(problems)

    warnings = []
    for planned in [model, *roles.values()]:
        if planned is None:
            continue
        unsupported = planned.api.unsupported(planned.generation)
        if unsupported:
            warnings.append(f"{planned.name} ignores generation settings: {', '.join(unsupported)}")
    selected = select_samples(samples, config)
    return EvalPlan(
        composed,
        hub,
        model,
        roles,
        selected,
        len(samples),
        planned_solvers,
        planned_scorers,
        planned_metrics,
        warnings,
    )
