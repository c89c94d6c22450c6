"""An eval with `cache=on` over a damaged cache file: every sample scored, one warning."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.config import compose_config
from engine.runner import Display, run_composed
from tests.cache.test_store import fill, overwrite, truncate
from tests.support.openai_server import OpenAIServer, echo

N = 8


@pytest.mark.parametrize("damage", [truncate, overwrite])
def test_every_sample_is_scored_and_one_warning_names_the_kept_file(
    tmp_path: Path,
    cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[Path], None],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "few.jsonl").write_text(
        "".join(json.dumps({"input": f"say c{n}", "target": f"c{n}"}) + "\n" for n in range(N))
    )
    (tmp_path / "conf" / "task" / "few.yaml").write_text(
        "name: few\ndataset: {path: few.jsonl}\nscorers: [includes]\n"
    )
    fill()
    damage(cache_dir / "responses.sqlite")
    with OpenAIServer(echo) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        composed = compose_config(
            ["task=few", "model=openai/m", "cache=on"], config_dirs=[tmp_path / "conf"]
        )
        result = run_composed(composed, display=Display())
        assert len(server.chat_requests()) == N
    assert result.status == "success" and result.errors == 0
    assert result.metrics["includes"]["accuracy"] == 1.0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    (kept,) = cache_dir.glob("responses.sqlite.damaged-*")
    assert len(warnings) == 1 and str(kept) in warnings[0]
