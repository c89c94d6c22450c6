"""Compose the YAML groups with Hydra, then validate the whole tree with pydantic.

Every problem is collected before anything runs: override keys are checked against the schema first
(Hydra would stop at the first), composition errors are translated, and pydantic reports the rest.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine._secrets import CREDENTIAL_NAME, secret_values
from engine.config._errors import (
    ConfigError,
    Problem,
    check_key,
    is_mapping,
    problems_from_validation,
    suggest,
)
from engine.config._schema import RunConfig
from engine.config._searchpath import (
    display_path,
    extra_config_dirs,
    find_group_file,
    group_options,
    primary_config_file,
    search_dirs,
)

GROUPS = (
    "task",
    "generation",
    "connection",
    "batch",
    "cache",
    "roles",
    "prices",
    "preset",
    "local",
    "sweep",
    "gate",
)
MODEL_ENV_VAR = "INSPECT_EVAL_MODEL"
DEFAULT_PRESET = "smollm2"
DEFAULT_LIMIT = 5


@dataclass
class Composed:
    """A validated config plus what it was made from (for the log and for error messages)."""

    config: RunConfig
    resolved: dict[str, Any]
    overrides: list[str]
    choices: dict[str, str | None]
    config_dirs: list[Path]
    notes: list[str] = field(default_factory=list)
    locate: Callable[[str], str | None] = lambda key: None
    """Where a dotted key was set (a file or a command-line override), for error messages."""
    sweep_params: dict[str, str] = field(default_factory=dict)
    """`hydra.sweeper.params` (a `sweep=NAME` file's axes), in Hydra's override syntax."""
    launcher: dict[str, Any] = field(default_factory=dict)
    """`hydra.launcher`, unresolved (it may refer to the sweep folder)."""


def load_dotenv() -> Path | None:
    """Load the nearest `.env` upward from the working directory; the environment wins."""
    from dotenv import find_dotenv
    from dotenv import load_dotenv as _load

    path = find_dotenv(usecwd=True)
    if path:
        _load(path, override=False)
        return Path(path)
    return None


class _Sources:
    """Which file (or command-line override) a dotted key came from, as far as can be told."""

    def __init__(self, overrides: Sequence[Any], choices: dict[str, str | None]) -> None:
        # A group selection (`task=x`) is not the source of the keys inside; its file is.
        self.overrides = [
            (o.key_or_group, _redacted(o)) for o in overrides if o.key_or_group not in GROUPS
        ]
        self.choices = choices

    def __call__(self, key: str) -> str | None:
        for override_key, text in reversed(self.overrides):
            if (
                key == override_key
                or key.startswith(override_key + ".")
                or (override_key.startswith(key + "."))
            ):
                return f"command line: {text}"
        preset = self.choices.get("preset")
        if preset:
            preset_file = find_group_file("preset", preset)
            if preset_file is not None and _defines(preset_file, key):
                return display_path(preset_file)
        top = key.split(".")[0]
        choice = self.choices.get(top)
        if top in GROUPS and choice:
            group_file = find_group_file(top, choice)
            if group_file is not None:
                return display_path(group_file)
        return display_path(primary_config_file())


def _redacted(override: Any) -> str:
    """An override as typed, unless its key looks like a secret (never echo one)."""
    key: str = override.key_or_group
    return (
        f"{key}=***" if CREDENTIAL_NAME.search(key.rsplit(".", 1)[-1]) else str(override.input_line)
    )


def _defines(path: Path, key: str) -> bool:
    from omegaconf import OmegaConf

    node: Any = OmegaConf.load(path)
    for part in key.split("."):
        if not isinstance(node, dict) and not hasattr(node, "keys"):
            return False
        if part not in node:
            return False
        node = node[part]
    return True


def _parse(overrides: Sequence[str]) -> tuple[list[Any], list[Problem]]:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    parsed, problems = [], []
    for text in overrides:
        try:
            parsed += parser.parse_overrides([text])
        except HydraException as error:
            problems.append(
                Problem(text.split("=")[0], f"cannot parse override: {error}", "command line")
            )
    return parsed, problems


def _check_override(override: Any) -> Problem | None:
    """Unknown keys and unknown group options, with a did-you-mean, before Hydra sees them."""
    key: str = override.key_or_group
    if key.startswith(("hydra.", "hydra/")) or key == "hydra" or override.is_delete():
        return None
    source = f"command line: {_redacted(override)}"
    if any(secret in str(override.input_line) for secret in secret_values()):
        # Hydra would save it under .hydra/ and we would echo it in errors: refuse, masked.
        return Problem(
            key,
            "holds the value of a credential from the environment; keys are read from the "
            "environment or .env, never passed on the command line",
            f"command line: {key}=***",
        )
    if key in GROUPS:
        values = (
            list(override.sweep_iterator()) if override.is_sweep_override() else [override.value()]
        )
        options = group_options(key)
        for value in values:
            if value is not None and str(value) not in options:
                return Problem(
                    key,
                    f"unknown {key} '{value}'{suggest(str(value), options)} "
                    f"(available: {', '.join(options) or 'none'})",
                    source,
                )
        return None
    reason = check_key(RunConfig, key)
    return Problem(key, reason, source) if reason else None


def _force_add_into_mapping(override: Any) -> str:
    """`model_args.location=x` means add-or-set: Hydra's `++`, since dict keys are not declared;
    so does any nested schema key (the YAML need not spell out every optional field).

    Likewise `sweep=NAME` means `+sweep=NAME` (the sweep group is not in the defaults list)."""
    from hydra.core.override_parser.types import OverrideType

    key: str = override.key_or_group
    parts = key.split(".")
    if override.type is OverrideType.CHANGE and key == "sweep":
        return "+" + override.input_line
    if (
        override.type is OverrideType.CHANGE
        and len(parts) > 1
        and parts[0] != "hydra"
        and (is_mapping(RunConfig, parts[:-1]) or not override.is_sweep_override())
    ):
        # A schema key the composed YAML leaves out (`task.dataset.limit=5` on a task that sets
        # no limit) is added rather than refused: the key was checked against the schema already.
        return "++" + override.input_line
    return str(override.input_line)


@dataclass
class _HydraParts:
    sweep_params: dict[str, str]
    launcher: dict[str, Any]


def _hydra_compose(
    overrides: list[str],
) -> tuple[dict[str, Any], dict[str, str | None], _HydraParts]:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf, open_dict

    from engine._assets import conf_dir

    if GlobalHydra.instance().is_initialized():  # inside a multirun job: Hydra is set up already
        cfg = compose("config", overrides=overrides, return_hydra_config=True)
    else:
        with initialize_config_dir(
            str(conf_dir().resolve()), version_base="1.3", job_name="inspect_run"
        ):
            cfg = compose("config", overrides=overrides, return_hydra_config=True)
    choices = dict(cfg.hydra.runtime.choices)
    params = OmegaConf.select(cfg, "hydra.sweeper.params") or {}
    launcher: dict[str, Any] = OmegaConf.to_container(cfg.hydra.launcher, resolve=False)  # type: ignore[assignment]
    parts = _HydraParts({str(k): str(v) for k, v in params.items()}, launcher)
    with open_dict(cfg):
        del cfg["hydra"]
    resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    named = {k: (None if v is None else str(v)) for k, v in choices.items()}
    return resolved, named, parts


def _translate_hydra_error(error: Exception) -> Problem:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return Problem("", f"Hydra could not compose the config: {message}")


def compose_config(
    overrides: Sequence[str] = (), config_dirs: Sequence[str | Path] = ()
) -> Composed:
    """Compose and validate; raise `ConfigError` listing every problem found."""
    import yaml
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    with extra_config_dirs(config_dirs):
        parsed, problems = _parse(overrides)
        usable = []
        for override in parsed:
            problem = _check_override(override)
            if problem is None:
                usable.append(override)
            else:
                problems.append(problem)
        texts = [_force_add_into_mapping(o) for o in usable]
        notes: list[str] = []
        try:
            resolved, choices, hydra_parts = _hydra_compose(texts)
            if resolved.get("model") is None:
                env_model = os.environ.get(MODEL_ENV_VAR)
                if env_model:
                    resolved["model"] = env_model
                    notes.append(f"model {env_model} from {MODEL_ENV_VAR}")
                elif not problems:
                    extra = [f"preset={DEFAULT_PRESET}"]
                    if resolved.get("limit") is None:
                        extra.append(f"limit={DEFAULT_LIMIT}")
                    resolved, choices, hydra_parts = _hydra_compose([*texts, *extra])
                    notes.append(
                        f"no model given: using the embedded default {resolved['model']} "
                        f"(limit {resolved['limit']}); set model=… or {MODEL_ENV_VAR}"
                    )
        except (HydraException, OmegaConfBaseException) as error:
            problems.append(_translate_hydra_error(error))
            raise ConfigError(problems) from None
        except yaml.YAMLError as error:  # safe loading refuses tags such as !!python/object
            mark = getattr(error, "problem_mark", None)
            where = f"{display_path(Path(mark.name))}:{mark.line + 1}" if mark else None
            message = " ".join(str(getattr(error, "problem", None) or error).split())
            problems.append(Problem("", f"not valid YAML: {message}", where))
            raise ConfigError(problems) from None
        locate = _Sources(usable, choices)
        try:
            config = RunConfig.model_validate(resolved)
        except ValidationError as error:
            problems += problems_from_validation(error, RunConfig, locate)
        if problems:
            raise ConfigError(problems)
        return Composed(
            config,
            resolved,
            texts,
            choices,
            search_dirs(),
            notes,
            locate,
            hydra_parts.sweep_params,
            hydra_parts.launcher,
        )


def normalize_overrides(overrides: Sequence[str]) -> list[str]:
    """Overrides as Hydra must see them (`++` into free-form mappings); syntax errors raise."""
    parsed, problems = _parse(overrides)
    if problems:
        raise ConfigError(problems)
    return [_force_add_into_mapping(o) for o in parsed]


@dataclass
class Sweep:
    """A multirun: one override list per job, and what varies between them."""

    jobs: list[list[str]]
    swept: list[str]
    """Keys that take more than one value (they name each job's folder), in order."""
    launcher: str
    """The `hydra/launcher` chosen (`basic` unless a launcher is selected)."""
    name: str | None
    """The `sweep=NAME` config, if any."""
    from_file: list[str]
    """Keys whose values come from the sweep config (not replaced on the command line)."""
    first: Composed
    """The first job, composed and validated."""

    def job_problems(self, error: ConfigError, job: Sequence[str]) -> list[Problem]:
        """A job's problems, labelled with the job; a value from the sweep file names that file."""
        sweep_file = find_group_file("sweep", self.name) if self.name else None
        label = " ".join(job)
        problems = []
        for problem in error.problems:
            source = problem.source
            typed = (source or "").removeprefix("command line: ").split("=")[0].lstrip("+~")
            if sweep_file is not None and typed in self.from_file:
                source = f"{display_path(sweep_file)}: hydra.sweeper.params"
            problems.append(Problem(problem.key, f"{problem.message} (job: {label})", source))
        return problems


def _axes(overrides: Sequence[str]) -> dict[str, list[str]]:
    """Hydra's BasicSweeper rule: one axis per key, a later override of a key replaces it.

    Keyed without `+`/`~`, so `roles.x=…` on the command line replaces a sweep file's `+roles.x`
    axis instead of becoming a second axis over the same key."""
    parsed, problems = _parse(overrides)
    if problems:
        raise ConfigError(problems)
    axes: dict[str, list[str]] = {}
    for override in parsed:
        key = override.get_key_element()
        if override.is_sweep_override():
            values = [f"{key}={value}" for value in override.sweep_string_iterator()]
        else:
            values = [f"{key}={override.get_value_element_as_str()}"]
        axes.pop(key.lstrip("+~"), None)  # the latest one goes last, as Hydra orders them
        axes[key.lstrip("+~")] = values
    return axes


def expand_sweep(overrides: Sequence[str]) -> Sweep:
    """`model=a,b task=x,y` (and a `sweep=NAME` file's `hydra.sweeper.params`) → every job.

    The order is Hydra's basic sweeper's: the sweep file's axes, then the command line's, each key
    once (the command line wins), Cartesian product with the last axis varying fastest.
    """
    command_line = _axes(overrides)
    first = compose_config([values[0] for values in command_line.values()])
    axes = _axes([f"{k}={v}" for k, v in first.sweep_params.items()])
    from_file = [key for key in axes if key not in command_line]
    for key, values in command_line.items():
        axes.pop(key, None)
        axes[key] = values
    jobs = [list(combo) for combo in itertools.product(*axes.values())]
    swept = [key for key, values in axes.items() if len(values) > 1]
    sweep = Sweep(
        jobs=jobs,
        swept=swept,
        launcher=first.choices.get("hydra/launcher") or "basic",
        name=first.choices.get("sweep"),
        from_file=from_file,
        first=first,
    )
    if first.sweep_params:
        try:
            sweep.first = compose_config(jobs[0])
        except ConfigError as error:
            raise ConfigError(sweep.job_problems(error, jobs[0])) from None
    return sweep
