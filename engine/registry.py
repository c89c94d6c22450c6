"""One typed registry behind decorators, for solvers, scorers and metrics.

A YAML entry names a component and, optionally, its arguments; the arguments are checked against the
factory's signature while planning, so a misspelt argument is a config error with a did-you-mean.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class RegistryError(ValueError):
    """An unknown component or a bad argument, found while planning."""


def did_you_mean(word: str, options: list[str] | set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


class Registry(Generic[F]):
    """Named factories of one kind. `builtins` is imported on first lookup (keeps start-up cheap)."""

    def __init__(self, kind: str, builtins: str) -> None:
        self.kind = kind
        self._builtins = builtins
        self._loaded = False
        self._factories: dict[str, F] = {}

    def register(self, name: str | None = None) -> Callable[[F], F]:
        def decorate(factory: F) -> F:
            self._factories[name or factory.__name__] = factory
            return factory

        return decorate

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            importlib.import_module(self._builtins)

    def names(self) -> list[str]:
        self._load()
        return sorted(self._factories)

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
