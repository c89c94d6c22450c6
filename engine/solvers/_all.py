"""Every built-in solver, imported together when the solver registry is first used."""

from engine.solvers import _builtins, _critique, _multiple_choice

__all__ = ["_builtins", "_critique", "_multiple_choice"]
