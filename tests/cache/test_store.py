"""The SQLite store: what it keeps, how long, and several processes sharing one file."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest

from engine.cache import (
    CacheError,
    ResponseCache,
    cache_dir,
    cache_path,
    connect,
    safe_base_url,
)
from engine.messages import ChatMessage, Choice, ModelOutput, ModelUsage, assistant

HOUR = 3600.0


def output(text: str = "the basket", **changes: object) -> ModelOutput:
    made = ModelOutput(
        "gpt-4o-mini-2024-07-18",
        [Choice(assistant(text), "stop")],
        ModelUsage(12, 3, 15, reasoning_tokens=0, input_tokens_cache_read=8),
        time=0.25,
    )
    for name, value in changes.items():
        setattr(made, name, value)
    return made


# ── where it lives ────────────────────────────────────────────────────────────────────────────────


def test_the_cache_dir_env_wins(cache_dir: Path) -> None:
    assert cache_path() == cache_dir / "responses.sqlite"


def test_xdg_cache_home_then_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSPECT_RUN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "inspect-run"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "inspect-run"


def test_the_database_is_wal_with_a_busy_timeout(cache_dir: Path) -> None:
    with ResponseCache() as cache:
        connection = cache.connection
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert (cache_dir / "responses.sqlite").is_file()
    assert (cache_dir / "responses.sqlite").stat().st_mode & 0o077 == 0


# ── what it keeps, and for how long ───────────────────────────────────────────────────────────────


def test_model_output_round_trips_through_its_log_form() -> None:
    logprobs = [{"token": "the", "logprob": -0.25, "bytes": [116, 104, 101], "top_logprobs": []}]
    original = ModelOutput(
        "gpt-4o-mini",
        [
            Choice(assistant("the basket"), "stop", logprobs),
            Choice(ChatMessage("assistant", "the box"), "max_tokens"),
        ],
        ModelUsage(10, 4, 14, reasoning_tokens=2, input_tokens_cache_write=5),
        time=1.5,
        metadata={"cache": "miss", "note": [1, 2]},
    )
    assert ModelOutput.from_log(original.to_log()) == original
    bare = ModelOutput("m")
    assert ModelOutput.from_log(bare.to_log()) == bare
    failed = ModelOutput("m", error="boom")
    assert ModelOutput.from_log(failed.to_log()) == failed


def test_from_log_reads_inspect_content_parts_and_ignores_unknown_usage() -> None:
    logged = {
        "model": "m",
        "choices": [
            {
                "message": {"role": "assistant", "content": [{"type": "text", "text": "a"}]},
                "stop_reason": "stop",
            }
        ],
        "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3, "new_field": 9},
    }
    read = ModelOutput.from_log(logged)
    assert read.completion == "a"
    assert read.usage == ModelUsage(1, 2, 3)


def test_a_stored_answer_comes_back(cache_dir: Path) -> None:
    with ResponseCache(expiry=HOUR) as cache:
        assert cache.get("k") is None
        assert cache.put("k", output(), model="openai/gpt-4o-mini", base_url="http://h/v1")
        found = cache.get("k")
    assert found is not None
    assert found.completion == "the basket"
    assert found.usage == output().usage
    assert found.model == "gpt-4o-mini-2024-07-18"
    assert found.metadata is None
    assert cache.errors == 0


def test_the_hit_marker_is_not_stored(cache_dir: Path) -> None:
    with ResponseCache() as cache:
        cache.put("k", output(metadata={"cache": "miss", "kept": True}), model="openai/m")
        found = cache.get("k")
    assert found is not None and found.metadata == {"kept": True}


def test_put_replaces(cache_dir: Path) -> None:
    with ResponseCache() as cache:
        cache.put("k", output("old"), model="openai/m")
        cache.put("k", output("new"), model="openai/m")
        found = cache.get("k")
        assert found is not None and found.completion == "new"
        assert cache.count() == 1


def test_expired_entries_are_not_returned(cache_dir: Path) -> None:
    now = time.time()
    with ResponseCache(expiry=HOUR) as cache:
        cache.put("old", output("old"), model="openai/m", now=now - 2 * HOUR)
        cache.put("fresh", output("fresh"), model="openai/m", now=now - HOUR / 2)
        assert cache.get("old") is None
        assert cache.get("fresh") is not None
        assert cache.get("fresh", now=now + HOUR) is None  # it too expires, an hour after storing
    with ResponseCache(expiry=None) as forever:
        forever.put("kept", output(), model="openai/m", now=now - 1000 * 365 * 86_400)
        assert forever.get("kept") is not None


def test_prune_removes_expired_entries_only(cache_dir: Path) -> None:
    now = time.time()
    with ResponseCache(expiry=HOUR) as cache:
        for index in range(5):
            cache.put(f"old{index}", output(), model="openai/a", now=now - 2 * HOUR)
        cache.put("fresh", output(), model="openai/a", now=now)
    with ResponseCache(expiry=None) as cache:
        cache.put("never", output(), model="openai/b", now=now - 10 * 365 * 86_400)
        (a, b) = cache.entries()
        assert (a.model, a.count, a.expired) == ("openai/a", 6, 5)
        assert (b.model, b.count, b.expired) == ("openai/b", 1, 0)
        assert cache.prune() == 5
        assert cache.count() == 2
        assert cache.get("fresh") is not None and cache.get("never") is not None
        assert cache.prune() == 0


def test_clear_all_or_one_model(cache_dir: Path) -> None:
    with ResponseCache() as cache:
        for model in ("openai/a", "openai/b"):
            for index in range(3):
                cache.put(f"{model}{index}", output(), model=model)
        assert cache.clear("openai/a") == 3
        assert [e.model for e in cache.entries()] == ["openai/b"]
        assert cache.clear("openai/nope") == 0
        assert cache.clear() == 3
        assert cache.entries() == []


# ── what it never keeps ───────────────────────────────────────────────────────────────────────────


def test_no_credentials_in_the_file(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-proj-FAKE-KEY-IN-STORE-0123456789"
    monkeypatch.setenv("ACME_API_KEY", secret)
    with ResponseCache() as cache:
        # A reply that echoes the key (providers do, in error texts) and a URL carrying a password.
        cache.put(
            "k",
            output(f"your key is {secret}"),
            model="openai/m",
            base_url=f"https://user:{secret}@host/v1?api-key={secret}",
        )
        found = cache.get("k")
        stored_url = cache.connection.execute("SELECT base_url FROM responses").fetchone()[0]
    assert found is not None and found.completion == "your key is ***"
    assert stored_url == "https://host/v1"
    for path in cache_dir.iterdir():
        assert secret.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("https://u:p@h.example/v1/", "https://h.example/v1/"),
        ("https://h.example/openai?api-version=1&key=x#frag", "https://h.example/openai"),
        (None, None),
    ],
)
def test_safe_base_url(url: str | None, safe: str | None) -> None:
    assert safe_base_url(url) == safe


def test_a_broken_entry_is_a_miss_not_a_failure(cache_dir: Path) -> None:
    with ResponseCache() as cache:
        cache.connection.execute(
            "INSERT INTO responses VALUES ('k', 'openai/m', NULL, 'not json', 0, NULL)"
        )
        assert cache.get("k") is None
        assert cache.errors == 1 and cache.last_error is not None


def test_a_locked_database_is_a_miss_after_the_timeout(cache_dir: Path) -> None:
    with ResponseCache() as cache:
        cache.put("k", output(), model="openai/m")
    blocker = connect(cache_path())
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        impatient = ResponseCache()
        impatient.connection.execute("PRAGMA busy_timeout = 50")
        assert impatient.put("k2", output(), model="openai/m") is False
        assert impatient.errors == 1 and "locked" in (impatient.last_error or "")
        impatient.close()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


# ── several processes on one file ─────────────────────────────────────────────────────────────────


def _hammer(folder: str, worker: int, count: int, start: object, results: object) -> None:
    import os

    os.environ["INSPECT_RUN_CACHE_DIR"] = folder
    start.wait()  # type: ignore[attr-defined]  # both open the new database at the same moment
    failures: list[str] = []
    try:
        with ResponseCache(expiry=HOUR) as cache:
            for index in range(count):
                # Each writes its own keys and a shared one, and reads back both.
                if not cache.put(
                    f"w{worker}-{index}", output(f"{worker}:{index}"), model="openai/m"
                ):
                    failures.append(f"put {index}")
                cache.put(f"shared-{index}", output(f"shared {index}"), model="openai/m")
                mine = cache.get(f"w{worker}-{index}")
                if mine is None or mine.completion != f"{worker}:{index}":
                    failures.append(f"get {index}: {mine}")
                shared = cache.get(f"shared-{index}")
                if shared is None or shared.completion != f"shared {index}":
                    failures.append(f"shared {index}: {shared}")
            if cache.errors:
                failures.append(f"errors: {cache.last_error}")
    except Exception as error:  # reported to the parent
        failures.append(repr(error))
    results.put((worker, failures))  # type: ignore[attr-defined]


def test_two_processes_share_one_database(cache_dir: Path) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    results = context.Queue()
    count = 200
    workers = [
        context.Process(target=_hammer, args=(str(cache_dir), worker, count, start, results))
        for worker in range(2)
    ]
    for process in workers:
        process.start()
    reported = dict(results.get(timeout=120) for _ in workers)
    for process in workers:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert reported == {0: [], 1: []}
    with ResponseCache() as cache:
        assert cache.count() == 3 * count
        assert all(cache.get(f"w{w}-{i}") is not None for w in (0, 1) for i in range(count))


def test_a_reader_does_not_block_on_a_writer(cache_dir: Path) -> None:
    """WAL: an open write transaction elsewhere does not stop lookups."""
    with ResponseCache() as cache:
        cache.put("k", output(), model="openai/m")
        writer = sqlite3.connect(cache_path(), isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM responses")
        assert cache.get("k") is not None  # a blocked reader would fail with "database is locked"
        writer.execute("ROLLBACK")
        writer.close()


def fill(count: int = 300) -> None:
    with ResponseCache() as cache:
        for index in range(count):
            cache.put(f"k{index}", output("x" * 400), model="openai/m")


def truncate(path: Path) -> None:
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)


def overwrite(path: Path) -> None:
    path.write_bytes(b"this is not sqlite " * 100)


@pytest.mark.parametrize("damage", [truncate, overwrite])
def test_a_damaged_file_is_set_aside_once_and_a_fresh_cache_used(
    cache_dir: Path, capsys: pytest.CaptureFixture[str], damage: object
) -> None:
    fill()
    damaged = cache_dir / "responses.sqlite"
    damage(damaged)  # type: ignore[operator]
    kept = damaged.read_bytes()
    with ResponseCache() as cache:
        assert cache.set_aside is not None and cache.set_aside.read_bytes() == kept
        assert cache.set_aside.name.startswith("responses.sqlite.damaged-")
        assert cache.get("k1") is None
        assert cache.put("k1", output(), model="openai/m") and cache.get("k1") is not None
    warnings = capsys.readouterr().err.strip().splitlines()
    assert len(warnings) == 1 and str(cache.set_aside) in warnings[0], warnings
    with ResponseCache() as again:  # the fresh file is healthy: no second warning
        assert again.set_aside is None and again.get("k1") is not None
    assert capsys.readouterr().err == ""


def test_damage_found_while_open_starts_afresh(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill()
    with ResponseCache() as cache:
        cache.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        overwrite(cache.path)  # another program scribbles over the open file
        for index in range(5):
            cache.get(f"k{index}")
        assert cache.disabled is None
        assert cache.put("new", output(), model="openai/m") and cache.get("new") is not None
    assert capsys.readouterr().err.count("warning") == 1


def test_a_cache_that_cannot_be_written_stops_storing_with_one_warning(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ResponseCache() as cache:
        cache.connection.execute("PRAGMA query_only = ON")  # every write now fails
        assert not cache.put("a", output(), model="openai/m")
        assert not cache.put("b", output(), model="openai/m")
        assert cache.get("a") is None and cache.disabled is not None
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "goes on without it" in err


def test_a_folder_that_cannot_hold_the_cache_is_a_clear_error(cache_dir: Path) -> None:
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    cache_dir.write_text("a file where the folder should be")
    with pytest.raises(CacheError, match=r"cannot open the response cache .*cache=off"):
        ResponseCache()
