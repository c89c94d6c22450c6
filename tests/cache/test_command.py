"""`engine.cache.cache_command` in process (the subprocess runs are in tests/test_cache_cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cache import ResponseCache, cache_command
from engine.messages import Choice, ModelOutput, assistant


def test_list_shows_models_sizes_and_the_file(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ResponseCache() as cache:
        for index in range(3):
            cache.put(f"a{index}", ModelOutput("a", [Choice(assistant("x"))]), model="openai/a")
        cache.put("b", ModelOutput("b", [Choice(assistant("y"))]), model="vllm/org/b")
    assert cache_command(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"cache: {cache_dir / 'responses.sqlite'} (4 entries, ")
    assert lines[1].split() == ["MODEL", "ENTRIES", "SIZE", "OLDEST", "NEWEST", "EXPIRED"]
    assert [line.split()[:2] for line in lines[2:]] == [["openai/a", "3"], ["vllm/org/b", "1"]]


def test_a_damaged_file_is_set_aside_with_a_warning(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache_dir.mkdir()
    (cache_dir / "responses.sqlite").write_bytes(b"not a database " * 100)
    assert cache_command(["list"]) == 0
    captured = capsys.readouterr()
    assert "(0 entries" in captured.out
    assert "was damaged" in captured.err and "responses.sqlite.damaged-" in captured.err
    assert len(list(cache_dir.glob("responses.sqlite.damaged-*"))) == 1


def test_model_option_forms(cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ResponseCache() as cache:
        for model in ("openai/a", "openai/b"):
            cache.put(model, ModelOutput("m", [Choice(assistant("x"))]), model=model)
    assert cache_command(["clear", "--model=openai/a"]) == 0
    assert cache_command(["clear", "--model", "openai/b"]) == 0
    out = capsys.readouterr().out
    assert "cleared 1 entries for openai/a" in out and "cleared 1 entries for openai/b" in out
    assert cache_command(["clear", "--model="]) == 2
