"""The response cache end to end: `inspect-run … cache=on` (in process; two processes for the
shared cache), and `inspect-run cache`."""

from __future__ import annotations

import contextlib
import itertools
import json
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import read_eval_log

from tests.support.cli import start_cli
from tests.support.files import found_in
from tests.support.openai_server import Gate, OpenAIServer, Request
from tests.support.processes import stop
from tests.support.zygote import ForkedProcess
from tests.test_cli import run_cli, the_log

FAKE_KEY = "sk-proj-FAKE-CACHE-KEY-DO-NOT-STORE-0123456789"
RUN = ("task=theory_of_mind", "model=openai/gpt-4o-mini", "limit=4", "cache=on", "display=none")


class Alternating:
    """Answers every story with "the basket"; grades alternate C, I, C, … across requests, so a
    run that asked again would score differently from the run that filled the cache."""

    def __init__(self) -> None:
        self.grades = itertools.cycle("CI")
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> str:
        prompt = request.messages[-1]["content"]
        if "[Expert]:" not in prompt:
            return "the basket"
        with self.lock:
            return f"The submission is judged.\nGRADE: {next(self.grades)}"


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(Alternating()) as running:
        yield running


def env_for(server: OpenAIServer, cache_dir: Path) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": FAKE_KEY,
        "OPENAI_BASE_URL": server.base_url,
        "INSPECT_RUN_CACHE_DIR": str(cache_dir),
    }


def inspect_run(
    *args: str, tmp_path: Path, server: OpenAIServer, cache_dir: Path
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=tmp_path, env=env_for(server, cache_dir))


def run(
    log_dir: str,
    *extra: str,
    tmp_path: Path,
    server: OpenAIServer,
    cache_dir: Path,
    samples: int = 4,
) -> tuple[int, dict[Any, Any], list[dict[str, Any] | None]]:
    """One cached run: (requests it sent, scores by sample id, sample output metadata)."""
    before = len(server.chat_requests())
    done = inspect_run(
        *RUN, f"log_dir={log_dir}", *extra, tmp_path=tmp_path, server=server, cache_dir=cache_dir
    )
    assert done.returncode == 0, done.stderr
    log = read_eval_log(str(the_log(tmp_path / log_dir)))
    assert log.status == "success" and log.samples is not None and len(log.samples) == samples
    scores = {s.id: s.scores["model_graded_fact"].value for s in log.samples if s.scores}
    metadata = [s.output.metadata for s in log.samples]
    hits = (log.results.metadata or {}).get("cache_hits", {}) if log.results else {}
    assert sum(hits.values()) == 2 * sum(m == {"cache": "hit"} for m in metadata)  # answer + grade
    return len(server.chat_requests()) - before, scores, metadata


def test_a_second_run_sends_nothing_and_scores_the_same(
    tmp_path: Path, server: OpenAIServer, cache_dir: Path
) -> None:
    options = {"tmp_path": tmp_path, "server": server, "cache_dir": cache_dir}
    sent, scores, metadata = run("first", **options)
    assert sent == 8  # 4 answers + 4 grades (the grader falls back to the model under test)
    assert sorted(scores.values()) == ["C", "C", "I", "I"]
    assert metadata == [{"cache": "miss"}] * 4

    sent_again, scores_again, metadata_again = run("second", **options)
    assert sent_again == 0
    assert scores_again == scores
    assert metadata_again == [{"cache": "hit"}] * 4

    warmer, _, metadata_warmer = run("third", "generation.temperature=0.5", **options)
    assert warmer == 8
    assert metadata_warmer == [{"cache": "miss"}] * 4
    assert all(r.body.get("temperature") == 0.5 for r in server.chat_requests()[-8:])


def age_by_an_hour(cache_dir: Path) -> None:
    """Move every stored entry an hour into the past, as if the cache had sat unused."""
    with contextlib.closing(sqlite3.connect(cache_dir / "responses.sqlite")) as db, db:
        db.execute("UPDATE responses SET created = created - 3600, expires = expires - 3600")


def test_cache_list_prune_and_clear(tmp_path: Path, server: OpenAIServer, cache_dir: Path) -> None:
    options = {"tmp_path": tmp_path, "server": server, "cache_dir": cache_dir}
    run("first", **options)

    listed = inspect_run("cache", "list", **options)
    assert listed.returncode == 0, listed.stderr
    assert str(cache_dir / "responses.sqlite") in listed.stdout
    (row,) = [line for line in listed.stdout.splitlines() if line.startswith("openai/")]
    assert row.split()[:2] == ["openai/gpt-4o-mini", "8"]

    pruned = inspect_run("cache", "prune", **options)
    assert pruned.returncode == 0, pruned.stderr
    assert "pruned 0 expired entries" in pruned.stdout and "(8 left)" in pruned.stdout
    assert run("second", **options)[0] == 0  # nothing had expired

    cleared = inspect_run("cache", "clear", **options)
    assert cleared.returncode == 0, cleared.stderr
    assert "cleared 8 entries" in cleared.stdout
    assert run("third", **options)[0] == 8  # asked again


def test_expired_entries_are_listed_then_pruned(
    tmp_path: Path, server: OpenAIServer, cache_dir: Path
) -> None:
    options = {"tmp_path": tmp_path, "server": server, "cache_dir": cache_dir}
    run("short", "cache.expiry=1s", **options)
    run("long", "cache.expiry=never", "generation.temperature=0.2", **options)
    age_by_an_hour(cache_dir)  # the 1s entries are past their expiry; no sleeping

    listed = inspect_run("cache", "list", **options)
    (row,) = [line for line in listed.stdout.splitlines() if line.startswith("openai/")]
    assert row.split()[1] == "16" and row.split()[-1] == "8"  # 16 entries, 8 expired

    pruned = inspect_run("cache", "prune", **options)
    assert "pruned 8 expired entries" in pruned.stdout and "(8 left)" in pruned.stdout
    assert run("again", "cache.expiry=1s", **options)[0] == 8
    assert run("kept", "generation.temperature=0.2", **options)[0] == 0


def test_clear_one_model(tmp_path: Path, server: OpenAIServer, cache_dir: Path) -> None:
    options = {"tmp_path": tmp_path, "server": server, "cache_dir": cache_dir}
    for name in ("a", "b"):
        done = inspect_run(
            "model=openai/" + name, "limit=2", "cache=on", f"log_dir={name}", **options
        )
        assert done.returncode == 0, done.stderr

    cleared = inspect_run("cache", "clear", "--model", "openai/a", **options)
    assert cleared.returncode == 0 and "cleared 4 entries for openai/a" in cleared.stdout
    listed = inspect_run("cache", "list", **options).stdout
    assert "openai/b " in listed and "openai/a " not in listed


def test_two_runs_at_once_share_the_cache(
    tmp_path: Path, server: OpenAIServer, cache_dir: Path
) -> None:
    """Both runs have requests held by the server at once (each sends with its own key, so the
    server tells them apart); then both finish, no request is sent more than once per run, and
    what they stored is readable."""
    gate = Gate(server.responder)
    server.responder = gate
    environment = env_for(server, cache_dir)
    keys = [f"{FAKE_KEY}-{index}" for index in range(2)]

    def start(index: int) -> ForkedProcess:
        return start_cli(
            *RUN,
            "limit=20",
            f"log_dir=parallel{index}",
            cwd=tmp_path,
            env=environment | {"OPENAI_API_KEY": keys[index]},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def sent_by(index: int) -> int:
        return sum(r.headers["authorization"] == f"Bearer {keys[index]}" for r in server.requests)

    processes = [start(0)]
    try:
        gate.wait_arrived(1)  # the first run is held mid-way
        processes.append(start(1))
        while sent_by(1) == 0:  # until the second run's first request is held too
            gate.wait_arrived(gate.arrived + 1)
        assert sent_by(0) > 0 and sent_by(1) > 0  # both in flight at once
        gate.release()
        outputs = [process.communicate(timeout=300) for process in processes]
    finally:
        gate.release()
        for process in processes:
            stop(process)
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    for index in range(2):
        prompts = [
            json.dumps(r.messages)
            for r in server.chat_requests()
            if r.headers["authorization"] == f"Bearer {keys[index]}"
        ]
        assert len(prompts) == len(set(prompts))  # each request at most once per run
    options = {"tmp_path": tmp_path, "server": server, "cache_dir": cache_dir}
    assert run("after", "limit=20", samples=20, **options)[0] == 0  # all both stored is readable


def test_the_api_key_is_not_in_the_cache_file(
    tmp_path: Path, server: OpenAIServer, cache_dir: Path
) -> None:
    options = {"tmp_path": tmp_path, "server": server, "cache_dir": cache_dir}
    run("first", **options)
    run("second", **options)
    assert all(r.headers["authorization"] == f"Bearer {FAKE_KEY}" for r in server.chat_requests())
    files = [p for p in cache_dir.iterdir() if p.is_file()]
    assert cache_dir / "responses.sqlite" in files
    assert found_in(FAKE_KEY, files) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "missing command"),
        (["bogus"], "unknown command 'bogus'"),
        (["list", "--all"], "unexpected argument '--all'"),
        (["prune", "now"], "unexpected argument 'now'"),
        (["clear", "--model"], "--model needs a model string"),
        (["clear", "openai/a"], "unexpected argument 'openai/a'"),
    ],
)
def test_bad_usage_exits_2(tmp_path: Path, cache_dir: Path, args: list[str], message: str) -> None:
    done = run_cli("cache", *args, cwd=tmp_path, env={"INSPECT_RUN_CACHE_DIR": str(cache_dir)})
    assert done.returncode == 2
    assert message in done.stderr
    assert "usage: inspect-run cache list | clear [--model MODEL] | prune" in done.stderr
    assert not cache_dir.exists()


def test_an_empty_cache_is_listed_without_creating_it(tmp_path: Path, cache_dir: Path) -> None:
    env = {"INSPECT_RUN_CACHE_DIR": str(cache_dir)}
    for command in ("list", "prune", "clear"):
        done = run_cli("cache", command, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        assert "(empty)" in done.stdout
    helped = run_cli("cache", "--help", cwd=tmp_path, env=env)
    assert helped.returncode == 0 and "prune" in helped.stdout
    assert not cache_dir.exists()
