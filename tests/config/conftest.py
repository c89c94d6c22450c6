"""Config tests compose from a clean working directory with no model in the environment."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("INSPECT_EVAL_MODEL", "INSPECT_RUN_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path
