"""Plan-time checks of what the task's components take from the run: the model under test, roles,
template fields and choices. Each mistake here would otherwise fail or silently change every sample.

Where roles are declared (an unbound declared role falls back to the model under test, as in
Inspect; any other role name is a typo):
- the config's `roles:` mapping in YAML (`conf/roles/default.yaml` declares `grader` and `critic`;
  a null value declares a role without binding it), and the roles a sweep file binds;
- the task's `roles:` mapping (null allowed);
- the default of a solver's or scorer's `role` parameter (`model_graded_fact` → grader,
  `self_critique` → critic).
A role named on the command line (`roles.X=…`) or in a component's `role:` argument must be one of
those, or be bound. A bound role nothing uses whose name is close to a used but unbound role is
reported too: that binding is almost surely meant for the other one.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.config import Composed, Problem, RunConfig
from engine.providers import NO_MODEL
from engine.registry import Registry, RegistryError, Uses, closest, did_you_mean, parse_spec
from engine.scorers import scorers
from engine.solvers import placeholders, solvers

if TYPE_CHECKING:
    from engine.runner._plan import SelectedSamples


@dataclass(frozen=True)
class Step:
    """One component of the task (solvers inside a `chain` included), as written in the YAML."""

    key: str
    kind: str
    name: str
    args: dict[str, Any]
    uses: Uses
    role: inspect.Parameter | None
    """The factory's `role` parameter, if it has one."""

    @property
    def roles(self) -> list[str]:
        """The roles it calls: its `role` argument, else the parameter's default."""
        if self.role is None:
            return []
        value = self.args.get("role", self.role.default)
        if isinstance(value, str):
            return [value]
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    @property
    def calls_model(self) -> bool:
        """It calls the model under test: unless given a role, when `role` defaults to None."""
        if not self.uses.model:
            return False
        gives_role = self.args.get("role") is not None
        return not (self.role is not None and self.role.default is None and gives_role)


def steps(config: RunConfig) -> list[Step]:
    """Every solver and scorer of the task that the registries know (others are reported apart)."""
    task = config.task
    return [
        *_walk(task.solvers, solvers, "task.solvers"),
        *_walk(task.scorers, scorers, "task.scorers"),
    ]


def _walk(specs: list[Any], registry: Registry[Any], prefix: str) -> Iterator[Step]:
    for index, spec in enumerate(specs):
        key = f"{prefix}.{index}"
        try:
            name, args = parse_spec(spec, registry.kind)
            factory = registry.get(name)
        except RegistryError:
            continue
        uses = registry.uses(name)
        role = inspect.signature(factory).parameters.get("role")
        yield Step(key, registry.kind, name, args, uses, role)
        nested = args.get(uses.nested) if uses.nested else None
        if isinstance(nested, list):
            yield from _walk(nested, registry, f"{key}.{name}.{uses.nested}")


def model_problems(composed: Composed, planned: list[Step]) -> list[Problem]:
    """An empty model string, and `model=none` with a component that calls the model under test."""
    config = composed.config
    if config.model is not None and not config.model.strip():
        return [
            Problem(
                "model",
                "is empty; set model=PROVIDER/NAME, or model=none for a task that only uses roles",
                composed.locate("model"),
            )
        ]
    if config.model != NO_MODEL:
        return []
    callers = [f"{step.kind} '{step.name}' ({step.key})" for step in planned if step.calls_model]
    if not callers:
        return []
    return [
        Problem(
            "model",
            f"model=none, but {', '.join(callers)} calls the model under test; "
            "set model=PROVIDER/NAME (or give `generate` a role)",
            composed.locate("model"),
        )
    ]


def role_problems(composed: Composed, planned: list[Step]) -> list[Problem]:
    config = composed.config
    bound = {name for name, binding in config.roles.items() if binding is not None}
    defaults = {
        step.role.default
        for step in planned
        if step.role is not None and isinstance(step.role.default, str)
    }
    declared = set(composed.declared_roles) | set(config.task.roles) | defaults
    used = {name for step in planned for name in step.roles}
    problems = []
    for step in planned:
        if "role" not in step.args:
            continue
        for name in step.roles:
            if name not in declared and name not in bound:
                problems.append(
                    Problem(
                        f"{step.key}.{step.name}.role",
                        f"role '{name}' is not declared by any task, solver, scorer or config"
                        f"{did_you_mean(name, declared | bound)} (declare it in the task's or the "
                        "config's roles: to let it fall back to the model under test, or bind it)",
                        composed.locate(f"{step.key}.{step.name}.role"),
                    )
                )
    unbound_used = used - bound
    for name in sorted(bound - used):
        meant = closest(name, unbound_used)
        if meant is not None:
            message = (
                f"role '{name}' is bound but nothing uses it, while the task uses '{meant}', "
                f"which is unbound and would fall back to the model under test; "
                f"did you mean '{meant}'?"
            )
        elif name not in declared:
            message = (
                f"role '{name}' is bound, but no task, solver, scorer or config declares it"
                f"{did_you_mean(name, declared)} (declared: {', '.join(sorted(declared)) or 'none'})"
            )
        else:
            continue
        problems.append(Problem(f"roles.{name}", message, composed.locate(f"roles.{name}")))
    if config.model == NO_MODEL:
        for step in planned:
            for name in step.roles:
                if name not in bound and (name in declared or "role" not in step.args):
                    problems.append(
                        Problem(
                            f"{step.key}",
                            f"{step.kind} '{step.name}' calls role '{name}', which is not bound, "
                            f"and model=none leaves nothing to fall back to; bind it "
                            f"(roles.{name}=PROVIDER/NAME) or set a model",
                            composed.locate(step.key),
                        )
                    )
    return problems


def sample_problems(
    composed: Composed, planned: list[Step], selected: SelectedSamples
) -> list[Problem]:
    """Template placeholders the samples cannot fill, and choices that `multiple_choice` lacks."""
    problems = []
    dataset = composed.config.task.dataset.location
    common = selected.metadata_keys
    for step in planned:
        if step.uses.choices and selected.without_choices:
            problems.append(
                Problem(
                    step.key,
                    f"{step.kind} '{step.name}' needs choices, but {selected.without_choices} of "
                    f"{len(selected)} samples of dataset '{dataset}' have none (the first: "
                    f"{selected.first_without_choices!r}); map them with dataset.fields.choices "
                    "or a record_to_sample hook",
                    composed.locate(step.key),
                )
            )
        for argument, fields in step.uses.templates.items():
            template = step.args.get(argument)
            if not isinstance(template, str) or common is None:
                continue  # a default template, or no sample to check against
            key = f"{step.key}.{step.name}.{argument}"
            for name in placeholders(template):
                if name in fields or name in common:
                    continue
                if name in selected.metadata_lacking:
                    reason = (
                        f"only some samples have metadata '{name}' (sample "
                        f"{selected.metadata_lacking[name]!r} does not)"
                    )
                else:
                    offered = [*fields, *sorted(common)]
                    reason = (
                        f"it is no field this template sees ({', '.join(offered) or 'none'})"
                        f"{did_you_mean(name, offered)}"
                    )
                problems.append(
                    Problem(
                        key,
                        f"placeholder {{{name}}} would be sent as written: {reason} "
                        "(write literal braces as {{ }})",
                        composed.locate(key),
                    )
                )
    return problems
