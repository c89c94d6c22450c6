"""Locate the built-in `conf/`, `tasks/` and `schemas/` both in a checkout and in an installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def asset_dir(name: str) -> Path:
    """The wheel ships assets under `engine/_assets/`; a checkout keeps them at the top level."""
    installed = _PACKAGE_DIR / "_assets" / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name


def conf_dir() -> Path:
    return asset_dir("conf")


def tasks_dir() -> Path:
    return asset_dir("tasks")


def schemas_dir() -> Path:
    return asset_dir("schemas")
