"""Every built-in scorer, imported together when the scorer registry is first used."""

from engine.scorers import _answers, _builtins, _model_graded

__all__ = ["_answers", "_builtins", "_model_graded"]
