"""Unusable output folders and unreadable config files are exit 2 before any request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import cli
from tests.support.openai_server import OpenAIServer, echo


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "two.jsonl").write_text('{"input": "a", "target": "a"}\n{"input": "b"}\n')
    (tmp_path / "conf" / "task" / "two.yaml").write_text("name: two\ndataset: {path: two.jsonl}\n")
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("INSPECT_RUN_CACHE_DIR", str(tmp_path / "cache"))
    with OpenAIServer(echo) as running:
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        yield running
        assert running.chat_requests() == []


RUN = ["task=two", "model=openai/m", "display=none"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("log_dir=a-file", "a-file is a file, not a folder"),
        ("log_dir=a-file/logs", "a-file is a file, not a folder"),
        ("log_dir=/sys/kernel/inspect-run", "/sys/kernel/inspect-run is under /sys"),
        ("log_dir=/proc/self/logs", "is under /proc"),
    ],
)
def test_an_unusable_log_dir(
    server: OpenAIServer, capsys: pytest.CaptureFixture[str], override: str, message: str
) -> None:
    assert cli([*RUN, override]) == 2
    err = capsys.readouterr().err
    assert f"log_dir [command line: {override}]: cannot hold the logs" in err
    assert message in err and "Traceback" not in err


def test_an_unusable_cache_folder_names_the_variable_that_set_it(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INSPECT_RUN_CACHE_DIR", "a-file/cache")
    assert cli([*RUN, "cache=on"]) == 2
    err = capsys.readouterr().err
    assert "$INSPECT_RUN_CACHE_DIR: the response cache folder a-file/cache cannot be used" in err


def test_an_unusable_sweep_folder(server: OpenAIServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["-m", *RUN, "model=openai/m,openai/n", "hydra.sweep.dir=a-file/sweep"]) == 2
    err = capsys.readouterr().err
    assert "hydra.sweep.dir: cannot hold the sweep folder a-file/sweep" in err
    assert "a-file is a file, not a folder" in err


def test_a_config_file_that_is_not_utf8_is_named(
    server: OpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "conf" / "task" / "latin.yaml").write_bytes(
        b"name: latin\ndescription: caf\xe9\ndataset: {path: two.jsonl}\n"
    )
    assert cli(["task=latin", "model=openai/m"]) == 2
    err = capsys.readouterr().err
    assert "conf/task/latin.yaml:2" in err and "not UTF-8" in err
