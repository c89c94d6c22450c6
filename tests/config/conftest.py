"""Config tests compose from a clean working directory with no model in the environment."""

from collections.abc import Iterator
from pathlib import Path

import hydra
import pytest

import engine.config._memo as memo


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("INSPECT_EVAL_MODEL", "INSPECT_RUN_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def hydra_composes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """The overrides of every composition Hydra performs from now on (Hydra's `compose`, a
    third-party function, wrapped to count), with nothing remembered before."""
    calls: list[list[str]] = []
    real = hydra.compose

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(list(kwargs.get("overrides") or []))  # type: ignore[call-overload]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hydra, "compose", counting)
    memo.forget()
    yield calls
    memo.forget()
