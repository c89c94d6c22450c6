"""Turn a validated config into an eval plan: models, roles, solvers, scorers, metrics, samples.

Everything that can be wrong with a config without sending a request is found here and reported
together as a `ConfigError` (unknown provider, missing key, bad solver argument, missing dataset).
"""

from __future__ import annotations

import contextlib
import itertools
import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine._assets import tasks_dir
from engine._usercode import using_code_dirs
from engine.config import (
    Composed,
    ConfigError,
    GenerationConfig,
    Problem,
    RoleConfig,
    RunConfig,
)
from engine.datasets import DatasetError, DatasetFile, Sample
from engine.messages import Modality
from engine.models import Model, ModelHub
from engine.providers import NO_MODEL, ProviderError, check_provider
from engine.registry import RegistryError, is_file_reference, spec_name
from engine.runner._checks import model_problems, role_problems, sample_problems, steps
from engine.scorers import Metric, Reducer, Scorer, check_reducers, metrics, scorers
from engine.solvers import Solver, solvers


@dataclass
class Component:
    name: str
    args: dict[str, Any]
    registered: str = ""
    """The name the YAML gives (`name` is made unique when a task uses a component twice, and
    drops the file of a user's component: `keyword_overlap` for `my.py:keyword_overlap`)."""


@dataclass
class EvalPlan:
    composed: Composed
    hub: ModelHub
    model: Model | None
    roles: dict[str, Model]
    """Each bound role's model (the first, for a role bound to a list)."""
    samples: SelectedSamples
    solvers: list[tuple[Component, Solver]]
    scorers: list[tuple[Component, Scorer]]
    metrics: list[tuple[str, Metric]]
    warnings: list[str] = field(default_factory=list)
    unsupported: dict[str, list[str]] = field(default_factory=dict)
    """Generation settings each model (by name) cannot honour: warned once, logged once."""
    role_lists: dict[str, list[Model]] = field(default_factory=dict)
    """Roles bound to a list of models, with all of them."""
    reducers: list[tuple[str, Reducer]] = field(default_factory=list)
    """The epoch reducers by name (`epochs_reducer`), in order."""

    @property
    def config(self) -> RunConfig:
        return self.composed.config

    @property
    def model_name(self) -> str:
        return self.model.name if self.model is not None else NO_MODEL

    def models(self) -> list[Model]:
        found = [] if self.model is None else [self.model]
        for model in [*self.roles.values(), *itertools.chain(*self.role_lists.values())]:
            if model not in found:
                found.append(model)
        return found


def dataset_search_dirs(composed: Composed) -> list[Path]:
    """Relative dataset paths: the working directory, `tasks/` beside each config dir, built-ins."""
    dirs = [Path.cwd()]
    dirs += [d.parent / "tasks" for d in composed.config_dirs[:-1]]
    dirs += [*composed.config_dirs[:-1], tasks_dir()]
    return dirs


def identity_of(composed: Composed) -> str:
    """The run identity: the resolved config minus what does not change results, plus the
    dataset file's content (an edited dataset at the same path must not reuse old logs). A Hub
    dataset is identified by its config (repository, subset, revision), never downloaded here."""
    from engine.datasets import resolve_path
    from engine.logs import run_identity

    digest = None
    local = composed.config.task.dataset.path
    try:
        if local is None:
            raise DatasetError("a Hub dataset")
        digest = file_digest(resolve_path(local, dataset_search_dirs(composed)))
    except (DatasetError, OSError):
        pass  # planning reports a missing dataset
    code = code_digest(composed)
    if code is not None:
        digest = f"{digest}+code:{code}"
    return run_identity(composed.resolved, digest)


_shared_digests: dict[tuple[Path, int, int], str] | None = None
"""Dataset digests made inside `sharing_digests` (None outside it: every call hashes)."""


@contextlib.contextmanager
def sharing_digests() -> Iterator[None]:
    """Within this block, a dataset file is hashed once (by path, size and modification time):
    the jobs of a sweep over one dataset are classified together, and hashing it per job is
    needless. Outside it, each `identity_of` reads the file, so an edit is never missed."""
    global _shared_digests
    outer = _shared_digests
    _shared_digests = {} if outer is None else outer
    try:
        yield
    finally:
        _shared_digests = outer


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's content (shared inside `sharing_digests`)."""
    import hashlib

    key = None
    if _shared_digests is not None:
        state = path.stat()
        key = (path.resolve(), state.st_size, state.st_mtime_ns)
        found = _shared_digests.get(key)
        if found is not None:
            return found
    hashed = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            hashed.update(block)
    digest = hashed.hexdigest()
    if key is not None and _shared_digests is not None:
        _shared_digests[key] = digest
    return digest


def code_digest(composed: Composed) -> str | None:
    """A hash of the user's files the task names (components, `record_to_sample`): editing one
    changes results as much as editing the dataset. None when the task names none."""
    import hashlib

    task = composed.config.task
    specs = [*task.solvers, *task.scorers, *task.metrics, *composed.config.reducers]
    files = sorted(
        {spec_name(s).partition(":")[0] for s in specs if is_file_reference(spec_name(s))}
        | (
            {task.dataset.record_to_sample.partition(":")[0]}
            if task.dataset.record_to_sample
            else set()
        )
    )
    if not files:
        return None
    hashed = hashlib.sha256()
    for file in files:
        for directory in hook_dirs(composed):
            path = directory / file
            if path.is_file():
                hashed.update(file.encode() + b"\0" + path.read_bytes() + b"\0")
                break
    return hashed.hexdigest()


def hook_dirs(composed: Composed) -> list[Path]:
    """Where `record_to_sample` hooks may load from: `tasks/` beside each user config dir, then
    the built-in `tasks/`. Nowhere else, whatever a config value says."""
    return [d.parent / "tasks" for d in composed.config_dirs[:-1]] + [tasks_dir()]


_NO_KEYS: frozenset[str] = frozenset()
MAX_LOGGED_IDS = 10_000
"""The log header lists the selected sample ids up to this many (it is held for the whole run)."""


class SelectedSamples:
    """The samples an eval runs, in Inspect's order: filter by id, shuffle with the seed, limit.

    Built with one pass over the source, which also finds every bad record before any request is
    sent. From a `DatasetFile` that pass reads `checked()` samples (images verified, not
    resized), so a dataset's images are processed only when its samples run. Without `shuffle` the
    source is read again on each iteration (each epoch), so memory does not grow with the dataset.
    Shuffling keeps the checked samples to shuffle them, then the selected ones (after `limit`),
    made once from the source on first iteration: only their images are decoded.
    """

    def __init__(
        self, source: Iterable[Sample], config: RunConfig, *, seed: int | None = None
    ) -> None:
        """`seed`: the shuffle seed an interrupted run drew (a resume must select its samples)."""
        self.source = source
        self.config = config
        wanted = config.sample_id
        self.wanted = (
            None
            if wanted is None
            else {str(w) for w in (wanted if isinstance(wanted, list) else [wanted])}
        )
        dataset = config.task.dataset
        shuffle = config.shuffle or dataset.shuffle
        if seed is None:
            seed = config.seed if config.seed is not None else dataset.seed
        self.drawn = shuffle and seed is None
        """The shuffle is unseeded: a seed was drawn here, and a resume must reuse it."""
        if self.drawn:
            seed = random.SystemRandom().randrange(2**31)
        self.seed = seed if shuffle else None
        """The seed of the shuffle (drawn or given); None without a shuffle."""
        limit = config.limit if config.limit is not None else dataset.limit
        self.start, self.stop = 0, None
        if isinstance(limit, tuple):
            self.start, self.stop = limit
        elif limit is not None:
            self.stop = limit
        from engine._sharding import config_shard

        self.shard = config_shard(config)
        """`shard=I/N`: only the selected samples at positions I, I+N, … (None: all of them)."""
        self.items: list[Sample] | None = None
        self.positions: list[int] | None = None
        """With `shuffle`: the selected samples' positions in the source, in the shuffled order."""
        self.dataset_size = 0
        self.ids: list[str | int | None] = []
        self.media: dict[Modality, str | int | None] = {}
        """Each non-text modality the selected samples carry, with the first sample carrying it."""
        self.metadata_keys: set[str] | None = None
        """Metadata keys every selected sample has (None: no sample selected)."""
        self.metadata_lacking: dict[str, str | int | None] = {}
        """Keys only some selected samples have, each with a sample that lacks it."""
        self.without_choices = 0
        """How many selected samples have no choices; `first_without_choices` is the first."""
        self.first_without_choices: str | int | None = None
        self.input_chars = 0
        """Characters of the selected samples' text input (what `plan` estimates tokens from)."""
        self._first_id: str | int | None = None
        matched: list[tuple[int, Sample]] = []
        matching = 0
        scan = source.checked() if isinstance(source, DatasetFile) else source
        position = -1
        kept, ids, note = self.wanted, self.ids, self._note
        # Without a shuffle, the matching samples at these places are selected: `limit`'s
        # range, then every Nth of it from the shard's index.
        step, first = (1, 0) if self.shard is None else (self.shard.count, self.shard.index)
        chosen = range(self.start + first, sys.maxsize if self.stop is None else self.stop, step)
        for position, sample in enumerate(scan):
            if kept is not None and str(sample.id) not in kept:
                continue
            if shuffle:
                matched.append((position, sample))
            elif matching in chosen:
                note(sample)
                if len(ids) < MAX_LOGGED_IDS:
                    ids.append(sample.id)
            matching += 1
        self.dataset_size = position + 1
        self.matching = matching
        """Samples that pass the `sample_id` filter (before `limit`)."""
        if shuffle:
            random.Random(seed).shuffle(matched)
            selected = matched[self.start : self.stop]
            if self.shard is not None:
                selected = selected[self.shard.index :: self.shard.count]
            self.positions = [position for position, _ in selected]
            self.ids = [sample.id for _, sample in selected[:MAX_LOGGED_IDS]]
            self.count = len(selected)
            for _, sample in selected:
                self._note(sample)
        else:
            end = matching if self.stop is None else min(self.stop, matching)
            self.count = max(0, end - self.start)
            if self.shard is not None:
                self.count = len(range(self.shard.index, self.count, self.shard.count))

    def reseeded(self, seed: int) -> SelectedSamples:
        """The same selection with the seed an interrupted run drew (one more pass over the data)."""
        return SelectedSamples(self.source, self.config, seed=seed)

    def _note(self, sample: Sample) -> None:
        """What planning checks of a selected sample: media, metadata keys, choices."""
        present = sample.metadata.keys() if sample.metadata else _NO_KEYS
        if self.metadata_keys is None:
            self.metadata_keys, self._first_id = set(present), sample.id
        elif present != self.metadata_keys:  # the same keys as every sample before: nothing new
            keys = set(present)
            for key in keys - self.metadata_keys - set(self.metadata_lacking):
                self.metadata_lacking[key] = self._first_id  # every sample before lacked it
            for key in self.metadata_keys - keys:
                self.metadata_lacking.setdefault(key, sample.id)
            self.metadata_keys &= keys
        if not sample.choices:
            if not self.without_choices:
                self.first_without_choices = sample.id
            self.without_choices += 1
        if isinstance(sample.input, str):
            self.input_chars += len(sample.input)
            return
        for message in sample.input:
            self.input_chars += len(message.text)
            for modality in message.modalities - {"text"}:
                self.media.setdefault(modality, sample.id)

    def _wanted(self, sample: Sample) -> bool:
        return self.wanted is None or str(sample.id) in self.wanted

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Sample]:
        if self.positions is not None and self.items is None:
            wanted = set(self.positions)
            read = (
                self.source.selected(wanted)
                if isinstance(self.source, DatasetFile)
                else ((n, s) for n, s in enumerate(self.source) if n in wanted)
            )
            made = dict(read)
            self.items = [made[n] for n in self.positions]
        if self.items is not None:
            return iter(self.items)
        selected = itertools.islice(filter(self._wanted, self.source), self.start, self.stop)
        if self.shard is None:
            return selected
        return itertools.islice(selected, self.shard.index, None, self.shard.count)


class SharedSelections:
    """The selected samples of a sweep's plans, made once per dataset and selection: jobs that
    read the same dataset file with the same `sample_id`, `shuffle`, `seed`, `limit` and `shard`
    share one read-and-check pass (a 3 tasks × 3 models sweep over one dataset reads it once, not
    nine times). Each plan gets its own copy (its own shuffled items once iterated). An unseeded
    shuffle draws a seed per job, so it is never shared; a dataset error is remembered too."""

    def __init__(self) -> None:
        self._made: dict[str, SelectedSamples | DatasetError] = {}

    def select(self, composed: Composed, fetch: bool) -> SelectedSamples:
        import copy
        import json

        config = composed.config
        dataset = config.task.dataset
        key = json.dumps(
            [
                dataset.model_dump(mode="json"),
                [str(d) for d in dataset_search_dirs(composed)],
                [str(d) for d in hook_dirs(composed)],
                fetch,
                config.sample_id,
                config.shuffle,
                config.seed,
                config.limit,
                config.shard,
            ],
            default=str,
        )
        made = self._made.get(key)
        if made is None:
            try:
                made = select_samples(composed, fetch)
            except DatasetError as error:
                made = error
            if not (isinstance(made, SelectedSamples) and made.drawn):
                self._made[key] = made
        if isinstance(made, DatasetError):
            raise DatasetError(str(made))
        shared = copy.copy(made)
        shared.config, shared.items = config, None
        return shared


def select_samples(composed: Composed, fetch: bool = True) -> SelectedSamples:
    """The samples a config selects, read and checked once (`DatasetError` if one is bad)."""
    dataset = DatasetFile(
        composed.config.task.dataset,
        dataset_search_dirs(composed),
        hook_dirs(composed),
        fetch=fetch,
    )
    return SelectedSamples(dataset, composed.config)


def unusable_outputs(config: RunConfig) -> list[tuple[str, str]]:
    """(key, why) for each output folder that cannot be used: `log_dir`, and the response cache's
    folder when the cache is on (set by an environment variable, named as the key)."""
    from engine.logs import unusable_folder

    found = []
    why = unusable_folder(Path(config.log_dir))
    if why is not None:
        found.append(("log_dir", f"cannot hold the logs: {why}"))
    if config.cache.enabled:
        from engine.cache import cache_dir, cache_dir_source

        why = unusable_folder(cache_dir())
        if why is not None:
            source = cache_dir_source()
            found.append(
                (
                    f"${source}",
                    f"the response cache folder {cache_dir()} cannot be used: {why} (set "
                    f"${source} to a usable folder, or cache=off)",
                )
            )
    return found


def nothing_selected(selected: SelectedSamples, config: RunConfig) -> tuple[str, str]:
    """Why an eval selects no sample, and the key to blame: an eval of nothing is an error, not
    a green run with accuracy 0."""
    dataset = config.task.dataset
    if selected.dataset_size == 0:
        return "task.dataset", f"the dataset {dataset.location} has no samples"
    if selected.matching == 0 and selected.wanted:
        from engine.registry import did_you_mean

        asked = sorted(selected.wanted)
        wanted = ", ".join(asked)
        hint = did_you_mean(asked[0], (str(i) for i in _all_ids(selected)))
        return "sample_id", (
            f"sample_id={wanted} matches none of the {selected.dataset_size} samples of "
            f"{dataset.location}{hint}"
        )
    unsharded = len(
        range(selected.start, min(selected.stop or selected.matching, selected.matching))
    )
    if selected.shard is not None and unsharded:
        return "shard", (
            f"shard={selected.shard} selects none of the {unsharded} selected samples: "
            f"use at most {unsharded} shards"
        )
    limit = config.limit if config.limit is not None else dataset.limit
    key = "limit" if config.limit is not None else "task.dataset.limit"
    return key, (
        f"limit={list(limit) if isinstance(limit, tuple) else limit} selects none of the "
        f"{selected.dataset_size} samples{' that match sample_id' if selected.wanted else ''}"
    )


def _all_ids(selected: SelectedSamples) -> Iterator[str | int | None]:
    source = selected.source
    scan = source.checked() if isinstance(source, DatasetFile) else source
    return (sample.id for sample in scan)


def role_player(
    config: RunConfig, spec: RoleConfig
) -> tuple[str, GenerationConfig, dict[str, Any], str | None] | None:
    """(model, generation, model_args, base_url) of the model playing a role: its own, or with
    only settings given, the model under test with them (None when there is none)."""
    if spec.model is not None:
        return spec.model, spec.generation, spec.model_args, spec.base_url
    if config.model and config.model != NO_MODEL:
        generation = config.generation.merged(spec.generation)
        base_url = spec.base_url or config.model_base_url
        return config.model, generation, {**config.model_args, **spec.model_args}, base_url
    return None


def build_plan(
    composed: Composed,
    hub: ModelHub | None = None,
    *,
    fetch: bool = True,
    connect: bool = True,
    selections: SharedSelections | None = None,
) -> EvalPlan:
    """Everything checked before any request; without `fetch`, Hub datasets are not downloaded.

    `hub`: share connection pools with other plans (an in-process sweep); else a new one.
    Without `connect` (for `validate`), models are checked by name only: no client is made and
    no API key is needed, and the plan has no models (it is not for running). A user's
    components and mock-model reply functions load from the task directories (`hook_dirs`).
    `selections`: share the selected samples with other plans of a sweep (read once)."""
    with using_code_dirs(hook_dirs(composed)):
        return _build_plan(composed, hub, fetch, connect, selections)


def _build_plan(
    composed: Composed,
    hub: ModelHub | None,
    fetch: bool,
    connect: bool,
    selections: SharedSelections | None = None,
) -> EvalPlan:
    config = composed.config
    problems: list[Problem] = []

    def problem(key: str, error: Exception) -> None:
        problems.append(Problem(key, str(error), composed.locate(key)))

    hub = hub or ModelHub(config.connection, config.cache, config.batch)
    for key, message in unusable_outputs(config):
        problems.append(Problem(key, message, composed.locate(key) if key == "log_dir" else None))

    def get(
        key: str,
        name: str,
        generation: GenerationConfig,
        args: dict[str, Any],
        url: str | None,
        **role_settings: Any,
    ) -> Model | None:
        try:
            if connect:
                return hub.get(name, generation, args, url, **role_settings)
            check_provider(name)
        except ProviderError as error:
            problem(key, error)
        return None

    model: Model | None = None
    if config.model and config.model.strip() and config.model != NO_MODEL:
        model = get(
            "model", config.model, config.generation, config.model_args, config.model_base_url
        )

    roles: dict[str, Model] = {}
    role_lists: dict[str, list[Model]] = {}
    for role, binding in config.roles.items():
        if binding is None:
            continue
        specs = binding if isinstance(binding, list) else [binding]
        bound = []
        for index, spec in enumerate(specs):
            key = f"roles.{role}.{index}" if isinstance(binding, list) else f"roles.{role}"
            played = role_player(config, spec)
            if played is None:
                problems.append(
                    Problem(
                        key,
                        f"role '{role}' sets {', '.join(sorted(spec.model_fields_set))} but no "
                        "model, and there is no model under test to play it: set "
                        f"roles.{role}.model (or roles.{role}=PROVIDER/NAME)",
                        composed.locate(key),
                    )
                )
                continue
            made = get(key, *played, connection=spec.connection, batch=spec.batch)
            if made is not None:
                bound.append(made)
        if bound:
            roles[role] = bound[0]
        if isinstance(binding, list) and bound:
            role_lists[role] = bound

    def components(kind: str, specs: list[Any], registry: Any) -> list[tuple[Component, Any]]:
        built: list[tuple[Component, Any]] = []
        for index, spec in enumerate(specs):
            try:
                name, args, component = registry.create(spec)
                taken = {c.name for c, _ in built}
                unique = name if name not in taken else f"{name}_{index}"  # two `match`es
                built.append((Component(unique, args, spec_name(spec)), component))
            except RegistryError as error:
                problem(f"task.{kind}.{index}", error)
        return built

    planned_solvers = components("solvers", config.task.solvers, solvers)
    planned_scorers = components("scorers", config.task.scorers, scorers)
    planned_metrics = [(c.name, m) for c, m in components("metrics", config.task.metrics, metrics)]
    planned_reducers: list[tuple[str, Reducer]] = []
    try:
        planned_reducers = check_reducers(config.reducers, config.epochs)
    except RegistryError as error:
        problem("epochs_reducer", error)

    selected: SelectedSamples | None = None
    try:
        selected = (
            selections.select(composed, fetch)
            if selections is not None
            else select_samples(composed, fetch)
        )
    except DatasetError as error:
        problem("task.dataset", error)

    if selected is not None and len(selected) == 0 and (fetch or config.task.dataset.hub is None):
        key, why = nothing_selected(selected, config)
        problems.append(Problem(key, why, composed.locate(key)))

    planned = steps(config)
    problems += model_problems(composed, planned) + role_problems(composed, planned)
    if selected is not None:
        problems += sample_problems(composed, planned, selected)
        # Who reads the samples' input: the model under test and roles that `generate` calls.
        readers = {"model": model} if model is not None else {}
        for component, _ in planned_solvers:
            called = component.args.get("role")
            if isinstance(called, str) and called in roles:
                readers[f"roles.{called}"] = roles[called]
        for key, reader in readers.items():
            for modality, sample_id in sorted(selected.media.items()):
                if modality not in reader.api.modalities:
                    takes = ", ".join(sorted(reader.api.modalities))
                    problem(
                        key,
                        ProviderError(
                            f"{reader.name} cannot take {modality} input, which the samples "
                            f"carry (first in sample {sample_id!r}); it takes: {takes}"
                        ),
                    )

    if config.budget.cost is not None:
        from engine.runner._budget import price_problems

        named = [
            m.name for m in [model, *roles.values(), *itertools.chain(*role_lists.values())] if m
        ]
        if not connect:
            named = [config.model] if config.model and config.model != NO_MODEL else []
            for binding in config.roles.values():
                for role_spec in binding if isinstance(binding, list) else [binding]:
                    if role_spec is not None and role_spec.model is not None:
                        named.append(role_spec.model)
        problems += price_problems(config, named, composed.locate)

    if problems or selected is None:
        raise ConfigError(problems)

    unsupported = unsupported_settings(model, roles, planned_solvers)
    warnings = list(hub.notes) + [
        f"{name} ignores generation settings: {', '.join(fields)}"
        for name, fields in unsupported.items()
    ]
    return EvalPlan(
        composed,
        hub,
        model,
        roles,
        selected,
        planned_solvers,
        planned_scorers,
        planned_metrics,
        warnings,
        unsupported,
        role_lists,
        planned_reducers,
    )


def unsupported_settings(
    model: Model | None, roles: dict[str, Model], planned_solvers: list[tuple[Component, Solver]]
) -> dict[str, list[str]]:
    """Each model's generation settings its provider cannot honour, once per (model, field).

    Covers the model under test, every role with its own settings, and `generate` steps that
    override settings for the model they call.
    """
    calls: list[tuple[Model, GenerationConfig]] = [
        (planned, planned.generation) for planned in [model, *roles.values()] if planned is not None
    ]
    for component, _ in planned_solvers:
        overrides = {k: v for k, v in component.args.items() if k != "role"}
        if component.registered != "generate" or not overrides:
            continue
        role = component.args.get("role")
        target = roles.get(role, model) if isinstance(role, str) else model  # unbound: under test
        if target is not None:
            calls.append((target, target.generation.merged(GenerationConfig(**overrides))))
    found: dict[str, list[str]] = {}
    for planned, settings in calls:
        fields = found.setdefault(planned.name, [])
        fields += [f for f in planned.api.unsupported(settings) if f not in fields]
    return {name: fields for name, fields in found.items() if fields}
