"""The solver registry, on its own so built-ins and plugins can register without import cycles."""

from __future__ import annotations

from collections.abc import Callable

from engine.registry import Registry
from engine.solvers._state import Solver

solvers: Registry[Callable[..., Solver]] = Registry("solver", "engine.solvers._all")
"""Solver factories by name: `factory(**args)` returns the `async (state) -> state` solver."""
