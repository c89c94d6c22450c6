"""What a 1-sample run's start-up pays for, checked in a fresh interpreter (this test process has
imported everything already): only the modules the run uses, and the cyclic collector paused while
it starts (`engine._gc`), running again afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.openai_server import OpenAIServer, fixed

UNUSED = (
    "inspect_ai",  # the reference implementation: tests and `inspect view` only
    "anthropic",
    "google.genai",
    "pandas",
    "numpy",
    "scipy",
    "jinja2",
    "jsonschema",
    "rich",
    "fsspec",
    "huggingface_hub",
    "pyarrow",
    "PIL",
    "torch",
    "transformers",
    "llama_cpp",
    "boto3",
    "ray",
    "engine.compare",
    "engine.gate",
    "engine.sweeps",
)
"""Modules a 1-sample run of an OpenAI-compatible model must not import."""


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "one.jsonl").write_text(json.dumps({"id": 1, "input": "2+2?", "target": "4"}))
    (tmp_path / "conf" / "task" / "one.yaml").write_text(
        "name: one\ndataset: {path: one.jsonl}\nscorers: [match]\n"
    )
    return tmp_path


def _run(folder: Path, base_url: str, prelude: str = "") -> dict[str, object]:
    """A 1-sample run through `cli` in a fresh interpreter in `folder`: its exit code, the
    modules of `UNUSED` it left in `sys.modules`, and the collector's state afterwards."""
    words = ["task=one", "model=openai/gpt-test", "display=none", f"log_dir={folder / 'logs'}"]
    code = (
        "import gc, json, sys, contextlib, io\n"
        f"{prelude}\n"
        "from engine.cli import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = cli({words!r})\n"
        "print(json.dumps({'code': code,"
        f" 'loaded': [m for m in {UNUSED!r} if m in sys.modules],"
        " 'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count()}))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(folder),
        "INSPECT_RUN_CONFIG_PATH": str(folder / "conf"),
        "OPENAI_API_KEY": "sk-startup-test",
        "OPENAI_BASE_URL": base_url,
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_a_one_sample_run_imports_only_what_it_uses(task_dir: Path) -> None:
    with OpenAIServer(fixed("4")) as server:
        result = _run(task_dir, server.base_url)
        assert len(server.requests) == 1
    assert result["code"] == 0
    assert result["loaded"] == []
    # A library caller's process (this is `cli`, not the console script): the collector runs
    # again after start-up and none of the caller's objects were frozen.
    assert result == {**result, "enabled": True, "frozen": 0}


def test_the_console_script_freezes_what_start_up_made(task_dir: Path) -> None:
    """`main` (the console script) marks its process as the command's own: start-up's objects
    are frozen out of the collector's sight, and the collector runs again for the eval."""
    prelude = "from engine._gc import freeze_after_startup; freeze_after_startup()"
    with OpenAIServer(fixed("4")) as server:
        result = _run(task_dir, server.base_url, prelude)
    assert result["code"] == 0
    assert result["enabled"] is True
    assert isinstance(result["frozen"], int) and result["frozen"] > 10_000
