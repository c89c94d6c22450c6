"""One typed registry behind decorators, for solvers, scorers and metrics.

A YAML entry names a component and, optionally, its arguments; the arguments are checked against the
factory's signature while planning, so a misspelt argument is a config error with a did-you-mean.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class RegistryError(ValueError):
    """An unknown component or a bad argument, found while planning."""


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option `word` was most likely meant to be, if any is close enough."""
    close = difflib.get_close_matches(word, sorted(options), n=1)
    return close[0] if close else None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the closest option, or "": the one did-you-mean of the project."""
    close = closest(word, options)
    return f"; did you mean '{close}'?" if close else ""


@dataclass(frozen=True, slots=True)
class Uses:
    """What a component takes from the run, so planning can check it before any request.

    A `role` parameter (a role name or a list of them) names the roles a component calls; when it
    defaults to None, the component calls the model under test unless a role is given.
    """

    model: bool = False
    """It calls the model under test (`generate`, `multiple_choice`, `self_critique`)."""
    choices: bool = False
    """Every sample must have choices."""
    templates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Template arguments → the fields they see besides the sample's metadata."""
    nested: str | None = None
    """An argument holding a list of further components of the same registry (`chain`)."""


class Registry(Generic[F]):
    """Named factories of one kind. `builtins` is imported on first lookup (keeps start-up cheap)."""

    def __init__(self, kind: str, builtins: str) -> None:
        self.kind = kind
        self._builtins = builtins
        self._loaded = False
        self._factories: dict[str, F] = {}
        self._uses: dict[str, Uses] = {}

    def register(self, name: str | None = None, uses: Uses | None = None) -> Callable[[F], F]:
        def decorate(factory: F) -> F:
            self._factories[name or factory.__name__] = factory
            if uses is not None:
                self._uses[name or factory.__name__] = uses
            return factory

        return decorate

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            importlib.import_module(self._builtins)

    def names(self) -> list[str]:
        self._load()
        return sorted(self._factories)

    def uses(self, name: str) -> Uses:
        """What the component `name` takes from the run (nothing declared: nothing checked)."""
        self._load()
        return self._uses.get(name, Uses())

    def get(self, name: str) -> F:
        self._load()
        factory = self._factories.get(name)
        if factory is None:
            raise RegistryError(
                f"unknown {self.kind} '{name}'{did_you_mean(name, set(self._factories))} "
                f"(known: {', '.join(sorted(self._factories))})"
            )
        return factory

    def create(
        self, spec: str | dict[str, dict[str, Any] | None]
    ) -> tuple[str, dict[str, Any], Any]:
        """Build a component from `name` or `{name: {arg: value}}`; returns (name, args, component)."""
        name, args = parse_spec(spec, self.kind)
        factory = self.get(name)
        parameters = inspect.signature(factory).parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        if not takes_any:
            for arg in args:
                if arg not in parameters:
                    raise RegistryError(
                        f"{self.kind} '{name}' has no argument '{arg}'"
                        f"{did_you_mean(arg, set(parameters))} (arguments: {', '.join(parameters)})"
                    )
        try:
            return name, args, factory(**args)
        except (TypeError, ValueError) as error:
            raise RegistryError(f"{self.kind} '{name}': {error}") from error


def parse_spec(
    spec: str | dict[str, dict[str, Any] | None], kind: str
) -> tuple[str, dict[str, Any]]:
    if isinstance(spec, str):
        return spec, {}
    if len(spec) != 1:
        raise RegistryError(
            f"a {kind} entry is a name or a one-key mapping {{name: {{args}}}}, got keys {list(spec)}"
        )
    ((name, args),) = spec.items()
    return name, dict(args or {})
