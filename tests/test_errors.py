"""The one error tree: every exception class defined in engine derives from `InspectRunError`, and
the drawing in `engine.errors`' docstring names each one under its own parent."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import engine
from engine.errors import InspectRunError


def _engine_exceptions() -> dict[str, type[BaseException]]:
    """Every exception class defined in a module of engine, by name (found by importing them all,
    so a new module or class is seen without being listed)."""
    found: dict[str, type[BaseException]] = {}
    modules = pkgutil.walk_packages(engine.__path__, "engine.")
    names = [m.name for m in modules if not m.name.endswith(".__main__")]  # that one runs the CLI
    for module_name in ["engine", *names]:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module_name
            ):
                found[value.__name__] = value
    return found


def _drawn_tree() -> dict[str, str | None]:
    """Class name → its parent's name, read from the drawing (indentation gives the depth)."""
    parents: dict[str, str | None] = {}
    path: list[tuple[int, str]] = []  # (column of the name, name) from the root down
    for line in (engine.errors.__doc__ or "").splitlines():
        match = re.match(r"^([ │├└─]*)([A-Z]\w*)(?:\s|$)", line)
        if not match or (match.group(1) == "" and match.group(2) != "InspectRunError"):
            continue
        column, name = len(match.group(1)), match.group(2)
        while path and path[-1][0] >= column:
            path.pop()
        parents[name] = path[-1][1] if path else None
        path.append((column, name))
    return parents


def test_every_engine_exception_derives_from_the_one_base() -> None:
    found = _engine_exceptions()
    assert len(found) > 20  # the walk saw the packages
    outside = sorted(name for name, cls in found.items() if not issubclass(cls, InspectRunError))
    assert outside == [], "derive these from engine.errors.InspectRunError"


def test_the_docstring_draws_each_error_under_its_parent() -> None:
    found = _engine_exceptions()
    drawn = _drawn_tree()
    assert set(drawn) == set(found), "draw each error class in engine.errors' docstring"
    for name, cls in found.items():
        if cls is InspectRunError:
            continue
        parent = next(base for base in cls.__mro__[1:] if base.__name__ in found)
        assert drawn[name] == parent.__name__, name


def test_each_error_keeps_the_builtin_base_its_callers_catch() -> None:
    """No behaviour changes: `except ValueError` / `except LookupError` still catch them."""
    from engine.config import ConfigError
    from engine.registry import RegistryError
    from engine.solvers import RoleUnboundError

    assert issubclass(ConfigError, ValueError) and issubclass(RegistryError, ValueError)
    assert issubclass(RoleUnboundError, LookupError)
    assert engine.InspectRunError is InspectRunError


def test_the_cli_takes_exit_statuses_from_the_tree() -> None:
    from engine.cli._common import EXIT_BAD_CONFIG, EXIT_BUSY, EXIT_FAILED
    from engine.config import ConfigError
    from engine.logs import FolderBusy, RemoteLogError

    assert ConfigError.exit_status == EXIT_BAD_CONFIG
    assert FolderBusy.exit_status == EXIT_BUSY
    assert RemoteLogError.exit_status == InspectRunError.exit_status == EXIT_FAILED
