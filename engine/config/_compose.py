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

from engine._secrets import (
    from_environment,
    is_credential_name,
    literal_url_credential,
    mentions_env_secret,
    redact_urls,
)
from engine.config._errors import (
    ConfigError,
    Problem,
    check_key,
    is_mapping,
    problems_from_validation,
    suggest,
)
from engine.config._hydra import hydra_compose, parsed_override
from engine.config._lines import is_global, yaml_error, yaml_line
from engine.config._schema import RunConfig
from engine.config._searchpath import (
    ENV_VAR,
    display_path,
    extra_config_dirs,
    find_group_file,
    group_options,
    missing_config_path,
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
    declared_roles: frozenset[str] = frozenset()
    """Role names the config files declare (`roles:` keys, null or bound, and the roles a sweep
    file binds); a role only the command line names is not declared (see `engine.runner`)."""


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
        if not key:
            return None
        parts = key.split(".")
        for depth in range(len(parts), 0, -1):  # a key not written: where its parent is
            for path, keys in self.files(parts[:depth]):
                line = yaml_line(path, keys)
                if line is not None:
                    return f"{display_path(path)}:{line}"
        top = parts[0]
        choice = self.choices.get(top)
        group_file = find_group_file(top, choice) if top in GROUPS and choice else None
        return display_path(group_file or primary_config_file())

    def files(self, parts: list[str]) -> list[tuple[Path, list[str]]]:
        """The files that may set `parts`, the one Hydra applies last first, each with the key
        as that file spells it (a group file's keys sit under the group's name)."""
        found: list[tuple[Path, list[str]]] = []
        for group in ("sweep", "local", "preset", None, parts[0]):
            if group is None:
                found.append((primary_config_file(), parts))
                continue
            choice = self.choices.get(group)
            path = find_group_file(group, choice) if group in GROUPS and choice else None
            if path is None:
                continue
            if is_global(path):
                found.append((path, parts))
            elif parts[0] == group:
                found.append((path, parts[1:]))
        return found


def _redacted(override: Any) -> str:
    """An override as typed, unless its key names a credential (never echo one); credentials in
    a URL are masked."""
    key: str = override.key_or_group
    if is_credential_name(key.rsplit(".", 1)[-1]):
        return f"{key}=***"
    return redact_urls(str(override.input_line))


_NO_CREDENTIAL_CHECK = ("prices",)
"""Subtrees whose keys are not names (model strings)."""


def literal_credentials(tree: Any, path: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(dotted key, what) for every credential written into the config as a value: a key whose
    name means a credential (a header such as `Authorization` or `x-api-key`, a `password`), or
    a URL with userinfo or a `key=`/`token=`/`sig=` parameter. `${oc.env:…}` references (also
    `Bearer ${oc.env:…}`) are fine: Hydra saves the reference, and we mask the value.
    `model_args` names are checked by the schema."""
    found: list[tuple[str, str]] = []
    items: Any = (
        tree.items()
        if isinstance(tree, dict)
        else enumerate(tree)
        if isinstance(tree, list)
        else ()
    )
    for name, value in items:
        here = (*path, str(name))
        if here[0] in _NO_CREDENTIAL_CHECK or here[0] == "hydra":
            continue
        if isinstance(value, str):
            direct_model_arg = len(path) >= 1 and path[-1] == "model_args"
            if (
                isinstance(name, str)
                and is_credential_name(name)
                and value.strip()
                and not from_environment(value)
                and not direct_model_arg
            ):
                found.append((".".join(here), f"'{name}' holds a credential"))
            elif (what := literal_url_credential(value)) is not None:
                found.append((".".join(here), f"it holds {what}"))
        else:
            found += literal_credentials(value, here)
    return found


def _credential_problem(key: str, what: str, locate: Callable[[str], str | None]) -> Problem:
    name = key.rsplit(".", 1)[-1]
    return Problem(
        key,
        f"{what} written into the config, which is saved with every run (config.yaml, the "
        "log, Hydra's outputs); keep it in an environment variable or .env and refer to it: "
        f"{name}: ${{oc.env:YOUR_VARIABLE}}",
        locate(key),
    )


def _parse(overrides: Sequence[str]) -> tuple[list[Any], list[Problem]]:
    from hydra.errors import HydraException

    parsed, problems = [], []
    for text in overrides:
        try:
            parsed.append(parsed_override(text))
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
    if mentions_env_secret(str(override.input_line)):
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


def _role_models_kept(parsed: list[Any]) -> list[Any]:
    """`roles.grader=MODEL roles.grader.generation.temperature=0`: Hydra would replace the model
    string with the mapping, so the model goes in as `roles.grader.model=MODEL` instead."""
    keys = [str(o.key_or_group).lstrip("+~") for o in parsed]
    kept = []
    for override, key in zip(parsed, keys, strict=True):
        parts = key.split(".")
        value = None if override.is_sweep_override() else override.value()
        if (
            len(parts) == 2
            and parts[0] == "roles"
            and isinstance(value, str)
            and any(other.startswith(f"{key}.") for other in keys)
        ):
            (override,) = _parse([f"++{key}.model={value}"])[0]
        kept.append(override)
    return kept


def _batch_forms(override: Any) -> tuple[list[str], list[Problem]] | None:
    """Inspect's three `batch` forms besides a group option: `batch=true` (on, or `false`),
    `batch=500` (on, with that size) and `batch=FILE.yaml` (on, with the file's settings).
    None when the override is something else (`batch=on`, `batch=nightly`, `batch.size=…`)."""
    from hydra.core.override_parser.types import OverrideType

    if (
        override.key_or_group != "batch"
        or override.type is not OverrideType.CHANGE
        or override.is_sweep_override()
    ):
        return None
    value = override.value()
    if isinstance(value, bool):
        return [f"batch={'on' if value else 'off'}"], []
    if isinstance(value, int):
        return ["batch=on", f"batch.size={value}"], []
    if not isinstance(value, str) or not value.endswith((".yaml", ".yml")):
        return None
    import json

    import yaml

    from engine.config._schema import BatchConfig

    source = f"command line: batch={value}"
    try:
        settings = yaml.safe_load(Path(value).read_text(encoding="utf-8"))
    except OSError as error:
        return [], [Problem("batch", f"cannot read batch settings file: {error.strerror}", source)]
    except yaml.YAMLError as error:
        return [], [Problem("batch", f"not valid YAML: {error}", value)]
    if not isinstance(settings, dict):
        return [], [Problem("batch", "expected a mapping of batch settings", value)]
    known = set(BatchConfig.model_fields)
    problems = [
        Problem(f"batch.{key}", f"unknown key '{key}'{suggest(str(key), known)}", value)
        for key in settings
        if key not in known
    ]
    texts = ["batch=on"] + [f"batch.{k}={json.dumps(v)}" for k, v in settings.items() if k in known]
    return texts, problems


def _translate_hydra_error(error: Exception) -> Problem:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return Problem("", f"Hydra could not compose the config: {message}")


def _not_utf8() -> list[Problem]:
    """Hydra reads config files as UTF-8 and fails without naming the file: find which."""
    found = []
    for folder in search_dirs():
        for path in sorted(folder.rglob("*.yaml")):
            data = path.read_bytes()
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as error:
                line = data[: error.start].count(b"\n") + 1
                found.append(
                    Problem(
                        "",
                        f"not UTF-8 text (byte 0x{data[error.start]:02x} at line {line}); "
                        "save the file as UTF-8",
                        f"{display_path(path)}:{line}",
                    )
                )
    return found or [Problem("", "a config file is not UTF-8 text; save it as UTF-8")]


def compose_config(
    overrides: Sequence[str] = (),
    config_dirs: Sequence[str | Path] = (),
    *,
    without: Sequence[str] = (),
) -> Composed:
    """Compose and validate; raise `ConfigError` listing every problem found.

    `without`: dotted keys left out before validating (to look past problems already found)."""
    import yaml
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    with extra_config_dirs(config_dirs):
        parsed, problems = _parse(overrides)
        problems += [
            Problem(ENV_VAR, f"no such config directory: {entry}", "environment")
            for entry in missing_config_path()
        ]
        expanded = []
        for override in parsed:
            forms = _batch_forms(override)
            if forms is None:
                expanded.append(override)
                continue
            texts, batch_problems = forms
            problems += batch_problems
            more, more_problems = _parse(texts)
            expanded += more
            problems += more_problems
        parsed = _role_models_kept(expanded)
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
            resolved, choices, hydra_parts = hydra_compose(texts)
            if resolved.get("model") is None:
                env_model = os.environ.get(MODEL_ENV_VAR)
                if env_model:
                    resolved["model"] = env_model
                    notes.append(f"model {env_model} from {MODEL_ENV_VAR}")
                elif not problems:
                    extra = [f"preset={DEFAULT_PRESET}"]
                    if resolved.get("limit") is None:
                        extra.append(f"limit={DEFAULT_LIMIT}")
                    resolved, choices, hydra_parts = hydra_compose([*texts, *extra])
                    notes.append(
                        f"no model given: using the embedded default {resolved['model']} "
                        f"(limit {resolved['limit']}); set model=… or {MODEL_ENV_VAR}"
                    )
        except (HydraException, OmegaConfBaseException) as error:
            problems.append(_translate_hydra_error(error))
            raise ConfigError(problems) from None
        except UnicodeDecodeError:
            problems += _not_utf8()
            raise ConfigError(problems) from None
        except yaml.YAMLError as error:  # safe loading refuses tags such as !!python/object
            problems.append(yaml_error(error))
            raise ConfigError(problems) from None
        locate = _Sources(usable, choices)
        problems += [
            _credential_problem(key, what, locate)
            for key, what in literal_credentials(hydra_parts.unresolved)
        ]
        for key in without:
            _drop(resolved, key)
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
            _declared_roles(usable, locate, resolved, hydra_parts.sweep_params),
        )


def _drop(tree: dict[str, Any], key: str) -> None:
    """Delete dotted `key` from `tree`; a dict key may itself hold dots (`openai/gpt-4.1`)."""
    for name in sorted(tree, key=lambda k: -len(str(k))):
        if key == name:
            del tree[name]
            return
        child = tree[name]
        if key.startswith(f"{name}.") and isinstance(child, dict):
            _drop(child, key[len(name) + 1 :])
            return


def _declared_roles(
    usable: list[Any], locate: _Sources, resolved: dict[str, Any], sweep_params: dict[str, str]
) -> frozenset[str]:
    """The `roles:` keys the YAML files give (a role only the command line adds is not among
    them), plus the roles a sweep file binds."""
    typed = {
        override.key_or_group.split(".")[1]
        for override in usable
        if override.key_or_group.startswith("roles.")
    }
    roles = resolved.get("roles")
    declared = {
        name
        for name in (roles if isinstance(roles, dict) else {})
        if name not in typed
        or any(yaml_line(path, keys) is not None for path, keys in locate.files(["roles", name]))
    }
    for key in sweep_params:
        parts = key.lstrip("+~").split(".")
        if parts[0] == "roles" and len(parts) > 1:
            declared.add(parts[1])
    return frozenset(declared)


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
        params = ["hydra", "sweeper", "params"]
        for problem in error.problems:
            source = problem.source
            typed = (source or "").removeprefix("command line: ").split("=")[0].lstrip("+~")
            if sweep_file is not None and typed in self.from_file:
                written = [k for k in self.first.sweep_params if k.lstrip("+~") == typed]
                line = yaml_line(sweep_file, [*params, *written[:1]])
                at = f":{line}" if line is not None else " (hydra.sweeper.params)"
                source = f"{display_path(sweep_file)}{at}"
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


def expand_sweep(overrides: Sequence[str], without: Sequence[str] = ()) -> Sweep:
    """`model=a,b task=x,y` (and a `sweep=NAME` file's `hydra.sweeper.params`) → every job.

    The order is Hydra's basic sweeper's: the sweep file's axes, then the command line's, each key
    once (the command line wins), Cartesian product with the last axis varying fastest.
    `without`: keys left out of the first job's validation (see `compose_config`).
    """
    command_line = _axes(overrides)
    first = compose_config([values[0] for values in command_line.values()], without=without)
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
            sweep.first = compose_config(jobs[0], without=without)
        except ConfigError as error:
            raise ConfigError(sweep.job_problems(error, jobs[0])) from None
    return sweep
