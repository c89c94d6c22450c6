"""A recognisable fake key, runs that succeed and fail, a sweep and the cache: the key is nowhere."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.openai_server import OpenAIServer, Request, error
from tests.test_cli import run_cli

FAKE_KEY = "sk-proj-FAKE-KEY-DO-NOT-LEAK-0123456789"


def echo_key_in_errors(request: Request) -> str | object:
    """Like OpenAI's 401 ("Incorrect API key provided: sk-…"), this provider echoes the key."""
    prompt = request.messages[-1]["content"]
    if "Anne" in prompt and "[Expert]:" not in prompt:
        key = request.headers["authorization"].removeprefix("Bearer ")
        return error(401, f"Incorrect API key provided: {key}")
    return "the basket\nGRADE: C"


def test_the_key_lands_in_no_file(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    with OpenAIServer(echo_key_in_errors) as server:
        env = {
            "OPENAI_API_KEY": FAKE_KEY,
            "OPENAI_BASE_URL": server.base_url,
            "INSPECT_RUN_CACHE_DIR": str(cache_dir),
        }
        single = run_cli(
            "model=openai/m", "limit=6", "cache=on", "fail_on_error=false", cwd=tmp_path, env=env
        )
        assert single.returncode == 0, single.stderr
        failing = run_cli("model=openai/m", "limit=6", cwd=tmp_path, env=env)
        assert failing.returncode == 1
        sweep = run_cli(
            "-m", "model=openai/a,openai/b", "limit=3", "fail_on_error=false", cwd=tmp_path, env=env
        )
        assert sweep.returncode == 0, sweep.stderr
        typed = run_cli("model=openai/m", f"metadata.note={FAKE_KEY}", cwd=tmp_path, env=env)
        assert typed.returncode == 2
    outputs = [single, failing, sweep, typed]
    assert all(FAKE_KEY not in done.stdout + done.stderr for done in outputs)
    assert "Incorrect API key provided: ***" in failing.stderr
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" for p in files)
    assert any(p.name == "comparison.md" for p in files)  # the sweep's outputs are checked too
    for path in files:
        assert FAKE_KEY.encode() not in path.read_bytes(), path
    assert os.environ.get("OPENAI_API_KEY") != FAKE_KEY
