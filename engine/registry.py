"""One typed registry per kind of component (solver, scorer, metric, epoch reducer), open to plugins.

A YAML entry names a component and, optionally, its arguments: `match` or `{match: {numeric: true}}`.
The name is looked up in three places, all checked the same way while planning:

- built-ins, registered with `Registry.register` (imported on first lookup, keeping start-up cheap);
- a user's file, `FILE.py:NAME`, relative to a task directory (see `engine._usercode`);
- an installed package's entry point in the group `inspect_run.<kind>s` (read only for a name that
  is not built in).

Arguments are checked against the factory's signature (an unknown name gets a did-you-mean) and
validated against its type annotations with pydantic (`shuffle: maybe` for a `bool` is an error,
not a truthy string), so a bad entry is a config error before any request is sent.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from engine.errors import InspectRunError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from pydantic import TypeAdapter

F = TypeVar("F", bound=Callable[..., Any])

COMPONENT_MARK = "__inspect_run_component__"
"""Set by the public decorators (`engine.scorer`, …): (kind, name) of a component factory."""

ComponentSpec = str | dict[str, dict[str, Any] | None]


class RegistryError(InspectRunError, ValueError):
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


def is_file_reference(name: str) -> bool:
    return ".py:" in name or name.endswith(".py")


@dataclass(frozen=True)
class Entry:
    """A component as `inspect-run list` shows it."""

    kind: str
    name: str
    source: str
    """`built-in`, `package NAME`, or the file it is defined in."""
    arguments: str = ""
    """The factory's parameters as written (`(location='end', ignore_case=True)`), when known."""


class Registry(Generic[F]):
    """Named factories of one kind: built-ins, a user's files and installed packages."""

    def __init__(
        self,
        kind: str,
        builtins: str,
        *,
        label: str | None = None,
        alias: Callable[[str], tuple[str, dict[str, Any]] | None] | None = None,
        adapt: Callable[[Any], Any] | None = None,
    ) -> None:
        self.kind = kind
        """`solver`, `scorer`, `metric` or `reducer` (what the public decorators mark)."""
        self.label = label or kind
        """How messages name the kind (`epoch reducer`)."""
        self.group = f"inspect_run.{kind}s"
        """The entry point group installed packages register this kind in."""
        self._builtins = builtins
        self._alias = alias
        self._adapt = adapt
        self._loaded = False
        self._factories: dict[str, F] = {}
        self._uses: dict[str, Uses] = {}
        self._packages: dict[str, F] = {}

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
        """The built-in names."""
        self._load()
        return sorted(self._factories)

    def uses(self, name: str) -> Uses:
        """What the component `name` takes from the run (nothing declared: nothing checked)."""
        self._load()
        return self._uses.get(name, Uses())

    def entry_points(self) -> dict[str, EntryPoint]:
        """What installed packages register for this kind (their code is not imported)."""
        from importlib.metadata import entry_points

        return {point.name: point for point in entry_points(group=self.group)}

    def catalog(self) -> list[Entry]:
        """Built-ins, then installed packages' components (not imported) for `inspect-run list`."""
        entries = [
            Entry(self.kind, name, "built-in", _arguments(self._factories[name]))
            for name in self.names()
        ]
        for name, point in sorted(self.entry_points().items()):
            if name not in self._factories:
                entries.append(Entry(self.kind, name, f"package {_package(point)}"))
        return entries

    def get(self, name: str) -> F:
        if is_file_reference(name):
            return self._from_file(name)
        self._load()
        factory = self._factories.get(name) or self._packages.get(name)
        if factory is not None:
            return factory
        points = self.entry_points()
        if name in points:
            loaded = self._from_package(name, points[name])
            self._packages[name] = loaded
            return loaded
        known = sorted({*self._factories, *points})
        raise RegistryError(
            f"unknown {self.label} '{name}'{did_you_mean(name, known)} (known: {', '.join(known)}"
            f"; or FILE.py:NAME for one in your task directory)"
        )

    def _from_package(self, name: str, point: EntryPoint) -> F:
        where = (
            f"{self.label} '{name}' from package '{_package(point)}' (entry point {point.value})"
        )
        try:
            loaded = point.load()
        except Exception as error:
            raise RegistryError(
                f"{where} failed to load: {type(error).__name__}: {error}"
            ) from None
        return self._checked(loaded, where)

    def _from_file(self, reference: str) -> F:
        from engine._usercode import UserCodeError, load_user_module, split_reference

        what = f"{self.label} '{reference}'"
        try:
            file, attribute = split_reference(reference, self.label)
            if not attribute:
                raise UserCodeError(f"{what}: name the function, as in {file}:FUNCTION")
            module, path = load_user_module(file, what)
        except UserCodeError as error:
            raise RegistryError(str(error)) from None
        found = getattr(module, attribute, None)
        if found is None:  # a decorator may give the component another name than its function's
            found = next(
                (v for v in vars(module).values() if _mark(v) == (self.kind, attribute)), None
            )
        if found is None:
            defined = [
                key
                for key, value in vars(module).items()
                if callable(value) and getattr(value, "__module__", None) == module.__name__
            ]
            raise RegistryError(
                f"{what}: {path} has no function '{attribute}'{did_you_mean(attribute, defined)}"
            )
        return self._checked(found, what)

    def _checked(self, found: Any, where: str) -> F:
        mark = _mark(found)
        if mark is not None and mark[0] != self.kind:
            raise RegistryError(f"{where} is a {mark[0]}, not a {self.label}")
        if not callable(found):
            raise RegistryError(f"{where} is a {type(found).__name__}, not a {self.label} factory")
        if inspect.iscoroutinefunction(found):
            raise RegistryError(
                f"{where} is an async function: give a factory that returns it "
                f"(decorate the factory with @engine.{self.kind})"
            )
        factory: F = found
        return factory

    def display_name(self, name: str) -> str:
        """The name a component goes by in logs: a file's component by its own name."""
        if not is_file_reference(name):
            return name
        mark = _mark(self.get(name))
        return mark[1] if mark is not None else name.rpartition(":")[2]

    def create(self, spec: ComponentSpec) -> tuple[str, dict[str, Any], Any]:
        """Build a component from `name` or `{name: {arg: value}}`; returns (name, args, component).

        `name` is the one it goes by in logs (a file's component without its file)."""
        name, args = parse_spec(spec, self.label)
        called, call_args = name, args
        if self._alias is not None and name not in self._factories:
            aliased = self._alias(name)
            if aliased is not None:
                called, extra = aliased
                call_args = {**extra, **args}
        factory = self.get(called)
        what = f"{self.label} '{name}'"
        validated = check_arguments(factory, call_args, what)
        try:
            component = factory(**validated)
        except RegistryError:
            raise
        except (TypeError, ValueError) as error:
            raise RegistryError(f"{what}: {error}") from error
        except Exception as error:  # a user's or a package's factory: still a config problem
            raise RegistryError(f"{what} failed: {type(error).__name__}: {error}") from error
        if not callable(component):
            raise RegistryError(
                f"{what} returned a {type(component).__name__}, not a {self.label} "
                f"(a factory returns the {self.label} function)"
            )
        if self._adapt is not None:
            component = self._adapt(component)
        return self.display_name(name), args, component


def _mark(value: Any) -> tuple[str, str] | None:
    mark = getattr(value, COMPONENT_MARK, None)
    return mark if isinstance(mark, tuple) else None


def _package(point: EntryPoint) -> str:
    return point.dist.name if point.dist is not None else point.module


def _arguments(factory: Callable[..., Any]) -> str:
    """`(location: Location = 'end', numeric: bool = False)`, long defaults cut short."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return ""
    shown = []
    for parameter in parameters:
        text = f"**{parameter.name}" if parameter.kind is parameter.VAR_KEYWORD else parameter.name
        if parameter.annotation is not inspect.Parameter.empty:
            annotation = parameter.annotation
            text += f": {annotation if isinstance(annotation, str) else _type_text(annotation)}"
        if parameter.default is not inspect.Parameter.empty:
            default = repr(parameter.default)
            text += f" = {default if len(default) <= 24 else default[:20] + '…' + default[-1]}"
        shown.append(text)
    return f"({', '.join(shown)})"


def check_arguments(factory: Callable[..., Any], args: dict[str, Any], what: str) -> dict[str, Any]:
    """`args` checked against `factory`'s signature and type annotations; returns them validated
    (`"yes"` for a `bool` becomes True), or raises a `RegistryError` naming each bad argument."""
    from pydantic import ValidationError

    parameters = inspect.signature(factory).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    named = [
        p
        for p in parameters.values()
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if not takes_any:
        for arg in args:
            if arg not in parameters:
                listed = ", ".join(p.name for p in named) or "none"
                raise RegistryError(
                    f"{what} has no argument '{arg}'"
                    f"{did_you_mean(arg, {p.name for p in named})} (arguments: {listed})"
                )
    missing = [p.name for p in named if p.default is inspect.Parameter.empty and p.name not in args]
    if missing:
        needs = ", ".join(f"'{m}' ({_type_text(_annotation(factory, m))})" for m in missing)
        raise RegistryError(
            f"{what} is missing required argument{'s' if len(missing) > 1 else ''} {needs}"
        )
    adapter = _adapter(factory)
    if adapter is None:
        return dict(args)
    try:
        validated: dict[str, Any] = adapter.validate_python(args)
    except ValidationError as error:
        by_argument: dict[str, list[Any]] = {}
        for item in error.errors():
            by_argument.setdefault(str(item["loc"][0]) if item["loc"] else "?", []).append(item)
        problems = []
        for arg, items in by_argument.items():
            annotation = _annotation(factory, arg)
            given = args.get(arg, items[0]["input"])
            if typing.get_origin(annotation) is typing.Literal:
                allowed = ", ".join(str(a) for a in typing.get_args(annotation))
                problems.append(f"{arg} must be one of {allowed}, got {given!r}")
                continue
            reasons = " / ".join(dict.fromkeys(str(item["msg"]) for item in items))
            problems.append(
                f"argument '{arg}' expects {_type_text(annotation)}, got {given!r} ({reasons})"
            )
        raise RegistryError(f"{what}: {'; '.join(problems)}") from None
    return validated


def _annotation(factory: Callable[..., Any], name: str) -> Any:
    """The parameter's annotation, resolved in the factory's module (`Any` when it cannot be)."""
    parameter = inspect.signature(factory).parameters.get(name)
    if parameter is None or parameter.annotation is inspect.Parameter.empty:
        return Any
    annotation = parameter.annotation
    if isinstance(annotation, str):
        try:
            annotation = eval(annotation, getattr(factory, "__globals__", {}), {})
        except Exception:
            return Any
    return annotation


def _type_text(annotation: Any) -> str:
    if annotation is Any:
        return "any value"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


@functools.cache
def _adapter(factory: Callable[..., Any]) -> TypeAdapter[Any] | None:
    """A pydantic adapter for the factory's keyword arguments (a TypedDict of its parameters);
    None when an annotation is beyond pydantic (the names are still checked)."""
    from pydantic import ConfigDict, PydanticSchemaGenerationError, TypeAdapter
    from typing_extensions import NotRequired, TypedDict

    parameters = inspect.signature(factory).parameters.values()
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
    fields: dict[str, Any] = {
        p.name: NotRequired[_annotation(factory, p.name)]
        for p in parameters
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    }
    title = f"{getattr(factory, '__name__', 'factory')}_arguments"
    arguments = TypedDict(title, fields)  # type: ignore[misc]
    arguments.__pydantic_config__ = ConfigDict(  # type: ignore[attr-defined]
        arbitrary_types_allowed=True, extra="allow" if takes_any else "forbid"
    )
    try:
        return TypeAdapter(arguments)
    except (PydanticSchemaGenerationError, TypeError, NameError):
        return None


def parse_spec(spec: ComponentSpec, kind: str) -> tuple[str, dict[str, Any]]:
    if isinstance(spec, str):
        return spec, {}
    if len(spec) != 1:
        raise RegistryError(
            f"a {kind} entry is a name or a one-key mapping {{name: {{args}}}}, got keys {list(spec)}"
        )
    ((name, args),) = spec.items()
    return name, dict(args or {})


def spec_name(spec: ComponentSpec) -> str:
    """The name a YAML entry gives (`match` for `{match: {…}}`)."""
    return spec if isinstance(spec, str) else next(iter(spec), "")
