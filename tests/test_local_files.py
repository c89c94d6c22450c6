"""The one rule for local files a dataset names: a record cannot make inspect-run read a file
outside its folder (and send it to a model), locally or from the Hub; violations stop the run at
plan time, naming the dataset, the record and the field, before any request."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine._local_files import LocalFileError, find_local_file
from engine.cli import cli
from tests.providers.test_multimodal import png_bytes
from tests.support.hub_server import HubServer
from tests.support.openai_server import OpenAIServer, fixed

# ── the rule itself ───────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    inside = tmp_path / "task"
    inside.mkdir()
    (inside / "cat.png").write_bytes(b"cat")
    (tmp_path / "secret.txt").write_text("KEY=1")
    return inside


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("~/secret.txt", "starts with '~', which is not expanded"),
        ("/proc/self/environ", "is outside the task directories: an absolute path"),
        ("../secret.txt", "climbs out of"),
        ("sub/../../secret.txt", "climbs out of"),
        ("link.txt", "is a symlink leading out of"),
        (".env", "inside the hidden '.env'"),
        (".git/config", "inside the hidden '.git'"),
        ("file:///etc/passwd", r"is not an http\(s\) URL, data URI or relative path"),
        ("fifo", "is not a regular file"),
    ],
)
def test_names_that_lead_out_are_refused(folder: Path, name: str, reason: str) -> None:
    (folder / "link.txt").symlink_to(folder.parent / "secret.txt")
    (folder / ".env").write_text("OPENAI_API_KEY=sk-x")
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("[core]")
    os.mkfifo(folder / "fifo")
    with pytest.raises(LocalFileError, match=reason):
        find_local_file(name, [folder])


def test_names_inside_are_found_resolved(folder: Path) -> None:
    (folder / "alias.png").symlink_to(folder / "cat.png")
    assert find_local_file("cat.png", [folder]) == (folder / "cat.png").resolve()
    assert find_local_file("./alias.png", [folder]) == (folder / "cat.png").resolve()
    assert find_local_file("dog.png", [folder]) is None


def test_allowed_roots_opt_in_but_never_system_files(folder: Path) -> None:
    outside = folder.parent / "secret.txt"
    allowed = [folder.parent]
    assert find_local_file(str(outside), [folder], allowed) == outside.resolve()
    assert find_local_file("../secret.txt", [folder], allowed) == outside.resolve()
    for system in ("/proc/self/environ", "/dev/null", "/sys/kernel/uevent_seqnum"):
        with pytest.raises(LocalFileError, match=r"system file|not a regular file"):
            find_local_file(system, [folder], [Path("/")])


# ── through the command line: exit 2 before any request ───────────────────────────────────────────

HOSTILE = ["/proc/self/environ", "ABSOLUTE", "~/secret.png", "../secret.png", "link.png"]
"""`ABSOLUTE` stands for the absolute path of a file outside the task directories."""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user's repo (the working directory, a task directory) with a task over leak.jsonl, and
    a secret file beside it, outside."""
    root = tmp_path / "repo"
    (root / "conf" / "task").mkdir(parents=True)
    (root / "conf" / "task" / "leak.yaml").write_text(
        "name: leak\ndataset: {path: leak.jsonl}\nscorers: [includes]\n"
    )
    (root / "cat.png").write_bytes(png_bytes())
    (tmp_path / "secret.png").write_bytes(png_bytes())
    (root / "link.png").symlink_to(tmp_path / "secret.png")
    monkeypatch.chdir(root)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("INSPECT_RUN_CONFIG_PATH", raising=False)
    yield root


def record(kind: str, source: str) -> dict[str, object]:
    part = {"type": kind, kind: source}
    content = [{"type": "text", "text": "What is it?"}, part]
    return {"id": "r", "input": [{"role": "user", "content": content}], "target": "cat"}


def run(server: OpenAIServer, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-for-local-files")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    return cli(["task=leak", "model=openai/gpt-4o", "display=none", *args])


@pytest.mark.parametrize("kind", ["image", "audio", "video"])
@pytest.mark.parametrize("source", HOSTILE)
def test_a_record_naming_a_file_outside_stops_the_run_before_any_request(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    source: str,
) -> None:
    source = str(repo.parent / "secret.png") if source == "ABSOLUTE" else source
    lines = [record("image", "cat.png"), record(kind, source)]
    (repo / "leak.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    with OpenAIServer(fixed("a cat")) as server:
        code = run(server, monkeypatch)
        assert server.requests == []
    err = capsys.readouterr().err
    assert code == 2, err
    assert "task.dataset" in err
    assert f"leak.jsonl, line 2: input field 'input', message 1, part 2 ({kind})" in err
    assert repr(source) in err


def test_allowed_roots_let_a_user_opt_in_a_folder(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = repo.parent / "secret.png"
    (repo / "leak.jsonl").write_text(json.dumps(record("image", str(outside))) + "\n")
    with OpenAIServer(fixed("a cat")) as server:
        code = run(server, monkeypatch, f"task.dataset.allowed_roots=[{repo.parent}]")
        [request] = server.chat_requests()
    assert code == 0, capsys.readouterr().err
    assert request.messages[0]["content"][1]["image_url"]["url"].startswith("data:image/png")


def test_an_absolute_dataset_path_outside_is_refused(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = repo.parent / "elsewhere.jsonl"
    elsewhere.write_text(json.dumps(record("image", "cat.png")) + "\n")
    with OpenAIServer(fixed("a cat")) as server:
        code = run(server, monkeypatch, f"task.dataset.path={elsewhere}")
        assert server.requests == []
    assert code == 2
    assert "is outside the task directories: an absolute path" in capsys.readouterr().err


def test_a_hook_sample_naming_a_file_outside_is_refused(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "tasks").mkdir()
    (repo / "tasks" / "hook.py").write_text(
        "from engine.datasets import Sample\n"
        "from engine.providers import ChatMessage, ContentImage\n"
        "def record_to_sample(record):\n"
        "    return Sample([ChatMessage('user', [ContentImage('/proc/self/environ')])], 'x')\n"
    )
    (repo / "leak.jsonl").write_text(json.dumps({"input": "x"}) + "\n")
    with OpenAIServer(fixed("a cat")) as server:
        code = run(server, monkeypatch, "+task.dataset.record_to_sample=hook.py")
        assert server.requests == []
    assert code == 2
    assert "line 1: record_to_sample's input, message 1, part 1 (image)" in capsys.readouterr().err


# ── from the Hub: media are bytes or URLs, never local files ──────────────────────────────────────


@pytest.mark.parametrize("source", ["/proc/self/environ", "cat.png", "../secret.png", "~/x.png"])
def test_a_hub_record_naming_a_local_file_is_refused(
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    source: str,
) -> None:
    rows = [record("image", "https://example.com/cat.png"), record("audio", source)]
    data = "".join(json.dumps(row) + "\n" for row in rows).encode()
    (repo / "conf" / "task" / "leak.yaml").write_text(
        "name: leak\ndataset: {hub: {path: someone/leaky, split: test}}\nscorers: [includes]\n"
    )
    with HubServer({"someone/leaky": {"test.jsonl": data}}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        monkeypatch.delenv("HF_HUB_CACHE", raising=False)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        with OpenAIServer(fixed("a cat")) as server:
            code = run(server, monkeypatch)
            assert server.requests == []
    err = capsys.readouterr().err
    assert code == 2, err
    assert "hf://someone/leaky/test (test.jsonl), line 2: input field 'input', message 1" in err
    assert "part 2 (audio)" in err and "a Hub dataset's media are bytes" in err
