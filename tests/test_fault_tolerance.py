"""Whole evals against servers that misbehave on purpose.

Each scenario composes a config (`compose_config`) and runs it in process (`run_composed`) from a
temporary working directory, against a local OpenAI-protocol server injecting one kind of fault
into a seeded, deterministic share of requests (`flaky`). For every scenario: the run finishes
(bounded by a timeout, never hangs), every (sample, epoch) is in the log exactly once, either
scored or with its error, and scored + errors adds up to limit × epochs. A transient fault is
retried until the sample succeeds; a persistent one becomes an error naming its cause.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import read_eval_log

from engine.config import compose_config
from engine.logs import LOG_SUFFIXES, read_log, read_log_header
from engine.runner import Display, EvalResult, run_composed
from tests.support.openai_server import (
    Answer,
    OpenAIServer,
    Reply,
    Request,
    Responder,
    close_connection,
    echo,
    error,
    flaky,
    malformed,
    rate_limited,
    truncated,
)
from tests.test_cli import run_cli

DATASET_SIZE = 30
LIMIT, EPOCHS = 15, 2
TOTAL = LIMIT * EPOCHS
RUN_TIMEOUT = 300.0
"""Seconds any one eval may take before the test calls it hung: a failure timeout, not a pace
(each takes well under 2 s, but the suite must pass on a machine kept busy by other work)."""

FAST = [
    "connection.backoff_base=0.01",
    "connection.backoff_max=0.05",
    "connection.max_connections=10",
]
SLOW = Reply(text="too late", delay=3600)
"""Never in time: the attempt times out whatever the machine's load."""
TIMING_OUT = "connection.attempt_timeout=2"
"""For the tests whose server answers some requests `SLOW`: short enough for a quick test, and
far above what any other answer of the local server takes on a busy machine (with a 0.4 s attempt
timeout for every test, an ordinary answer delayed by load was now and then retried as a timeout,
and the request counts and causes came out wrong)."""


# ── fixtures ──────────────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    """A user config dir with `task/faults.yaml`: generate → match on a 30-sample dataset whose
    targets the echo server gets right (`Reply with s7` → ends with `s7`)."""
    dataset = tmp_path / "faults.jsonl"
    with dataset.open("w", encoding="utf-8") as file:
        for index in range(DATASET_SIZE):
            record = {"id": f"s{index}", "input": f"Reply with s{index}", "target": f"s{index}"}
            file.write(json.dumps(record) + "\n")
    folder = tmp_path / "conf"
    (folder / "task").mkdir(parents=True)
    (folder / "task" / "faults.yaml").write_text(
        "name: faults\n"
        f"dataset:\n  path: {json.dumps(str(dataset))}\n"
        f"  allowed_roots: [{json.dumps(str(tmp_path))}]\n"  # an absolute path: opted in
        "solvers: [generate]\n"
        "scorers: [match]\n"
        "metrics: [accuracy]\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    monkeypatch.chdir(run_dir)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-faults")
    return run_dir


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Responder], OpenAIServer]]:
    """Start a server with a responder and point `openai/...` at it."""
    servers: list[OpenAIServer] = []

    def start(responder: Responder) -> OpenAIServer:
        server = OpenAIServer(responder).start()
        servers.append(server)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        return server

    yield start
    for server in servers:
        server.stop()


# ── helpers ───────────────────────────────────────────────────────────────────────────────────────


def run_eval(conf: Path, *overrides: str, epochs: int = EPOCHS) -> EvalResult:
    """One eval in process, on a thread so that a hang fails the test instead of blocking it."""
    composed = compose_config(
        [
            "task=faults",
            "model=openai/gpt-4o-mini",
            f"limit={LIMIT}",
            f"epochs={epochs}",
            "display=none",
            *FAST,
            *overrides,
        ],
        config_dirs=[conf],
    )
    outcome: list[EvalResult | BaseException] = []

    def target() -> None:
        try:
            outcome.append(run_composed(composed, display=Display()))
        except BaseException as failure:
            outcome.append(failure)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(RUN_TIMEOUT)
    assert not thread.is_alive(), f"the eval did not finish within {RUN_TIMEOUT:g} s"
    [result] = outcome
    if isinstance(result, BaseException):
        raise result
    return result


def logged_samples(result: EvalResult, epochs: int = EPOCHS) -> list[dict[str, Any]]:
    """The log's samples, checked for completeness: each (id, epoch) once, scored xor errored."""
    log = read_log(result.log_path)
    assert log["status"] == result.status
    samples: list[dict[str, Any]] = log["samples"]
    keys = [(s["id"], s["epoch"]) for s in samples]
    expected = {(f"s{i}", e) for i in range(LIMIT) for e in range(1, epochs + 1)}
    assert len(keys) == len(expected) and set(keys) == expected
    for sample in samples:
        assert ("error" in sample) != bool(sample.get("scores")), sample["id"]
    scored = sum(1 for s in samples if s.get("scores"))
    errors = sum(1 for s in samples if "error" in s)
    assert scored + errors == LIMIT * epochs == result.samples
    assert errors == result.errors
    assert log["results"]["completed_samples"] == scored
    assert log["results"]["scores"][0]["scored_samples"] == scored
    return samples


def assert_all_scored(result: EvalResult, server: OpenAIServer) -> list[dict[str, Any]]:
    """A transient fault: every sample ends scored (and correct), after at least one retry."""
    assert result.status == "success", result.error_reasons
    samples = logged_samples(result)
    assert result.errors == 0 and result.error_reasons == []
    assert all(s["scores"]["match"]["value"] == "C" for s in samples)
    assert result.metrics["match"]["accuracy"] == 1.0
    sent = len(server.chat_requests())
    assert sent > TOTAL, "no fault was injected"
    return samples


def error_messages(samples: Sequence[dict[str, Any]]) -> list[str]:
    return [s["error"]["message"] for s in samples if "error" in s]


# ── transient faults: retried until every sample is scored ────────────────────────────────────────

TRANSIENT: dict[str, Answer | Sequence[Answer]] = {
    "429 with Retry-After": rate_limited("0"),
    "429 with retry-after-ms": rate_limited(retry_after_ms="20"),
    "429 without Retry-After": rate_limited(),
    "500": error(500, "The server had an error while processing your request."),
    "503 with Retry-After": error(503, headers={"retry-after": "0"}),
    "slower than attempt_timeout": SLOW,
    "connection reset": close_connection(),
    "malformed JSON": malformed(),
    "truncated body": truncated(sent=40),
    "every fault at once": [
        rate_limited("0"),
        rate_limited(),
        error(502),
        SLOW,
        close_connection(),
        malformed(),
        truncated(),
    ],
}


@pytest.mark.parametrize("fault", list(TRANSIENT), ids=list(TRANSIENT))
def test_a_transient_fault_in_30_percent_of_answers_is_retried_away(
    fault: str, conf: Path, workdir: Path, serve: Callable[[Responder], OpenAIServer]
) -> None:
    faults = TRANSIENT[fault]
    server = serve(flaky(faults, 0.3, seed=7))
    slow = faults == SLOW or (isinstance(faults, list) and SLOW in faults)
    result = run_eval(conf, *([TIMING_OUT] if slow else []))
    assert_all_scored(result, server)


def test_retried_samples_carry_no_error_and_usage_counts_only_answers(
    conf: Path, workdir: Path, serve: Callable[[Responder], OpenAIServer]
) -> None:
    server = serve(flaky([rate_limited("0"), error(500), malformed()], 0.3, seed=11))
    result = run_eval(conf)
    samples = assert_all_scored(result, server)
    # Usage is what the answers that counted cost: one prompt and completion per sample.
    for sample in samples:
        usage = sample["model_usage"]["openai/gpt-4o-mini"]
        assert usage["input_tokens"] == 3 and usage["output_tokens"] == 3


# ── persistent faults: recorded per sample, the run goes on ───────────────────────────────────────


PERSISTENT: dict[str, tuple[Answer, str]] = {
    "500": (error(500, "upstream exploded"), "HTTP 500"),
    "429": (rate_limited("0"), "HTTP 429"),
    "timeout": (SLOW, "timed out"),
    "malformed": (malformed(), "malformed reply"),
    "truncated": (truncated(), "content length"),
    "connection reset": (close_connection(), "Server disconnected"),
}


@pytest.mark.parametrize("fault", list(PERSISTENT), ids=list(PERSISTENT))
def test_a_persistent_fault_is_an_error_naming_its_cause(
    fault: str, conf: Path, workdir: Path, serve: Callable[[Responder], OpenAIServer]
) -> None:
    reply, cause = PERSISTENT[fault]
    # Samples s0, s5 and s10 always fail; the others always succeed.
    doomed = {"s0", "s5", "s10"}

    def responder(request: Request) -> Answer:
        text = echo(request)
        return reply if text.split()[-1] in doomed else text

    server = serve(responder)
    overrides = ["connection.max_retries=2", "fail_on_error=false"]
    result = run_eval(conf, *overrides, *([TIMING_OUT] if reply == SLOW else []))

    assert result.status == "success"
    samples = logged_samples(result)
    failed = {s["id"] for s in samples if "error" in s}
    assert failed == doomed
    assert result.errors == len(doomed) * EPOCHS
    messages = error_messages(samples)
    assert all("gave up after 3 attempts" in m and cause in m for m in messages), messages
    assert all(cause in reason for reason in result.error_reasons)
    # Exactly 1 + max_retries attempts per failing sample, one per succeeding one.
    assert len(server.chat_requests()) == (TOTAL - result.errors) + 3 * result.errors


def test_a_fatal_error_is_not_retried_and_fail_on_error_decides_the_status(
    conf: Path, workdir: Path, serve: Callable[[Responder], OpenAIServer]
) -> None:
    server = serve(lambda request: error(400, "Invalid 'messages': too long."))
    result = run_eval(conf)

    assert result.status == "error"  # fail_on_error=true (the default)
    samples = logged_samples(result)
    assert result.errors == TOTAL
    assert all(m.startswith("HTTP 400") and "too long" in m for m in error_messages(samples))
    assert len(server.chat_requests()) == TOTAL
    log = read_log(result.log_path)
    assert f"{TOTAL} of {TOTAL} samples failed" in log["error"]["message"]


def test_a_server_that_never_answers_cannot_hang_the_run(
    conf: Path, workdir: Path, serve: Callable[[Responder], OpenAIServer]
) -> None:
    serve(lambda request: Reply(text="never", delay=3600))
    result = run_eval(
        conf,
        "connection.attempt_timeout=0.2",
        "connection.max_retries=1",
        "connection.max_connections=30",
        "fail_on_error=false",
    )
    samples = logged_samples(result)
    assert result.errors == TOTAL
    assert all("timed out" in m for m in error_messages(samples))


def test_nothing_listening_is_a_connection_error_not_a_timeout(
    conf: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    result = run_eval(conf, "connection.max_retries=1", "fail_on_error=false")
    samples = logged_samples(result)
    assert result.errors == TOTAL
    for message in error_messages(samples):
        assert f"connection to http://127.0.0.1:{port}/v1 failed" in message
        assert "Cannot connect to host" in message and "timed out" not in message


def test_the_total_timeout_bounds_a_retrying_sample(
    conf: Path, workdir: Path, serve: Callable[[Responder], OpenAIServer]
) -> None:
    serve(lambda request: rate_limited("0.2"))
    result = run_eval(
        conf,
        "connection.timeout=0.5",
        "connection.max_retries=100",
        "connection.max_connections=30",
        "fail_on_error=false",
    )
    samples = logged_samples(result)
    assert result.errors == TOTAL
    for message in error_messages(samples):
        # The last attempt gets what is left of the budget; under load it may time out instead.
        assert "timeout of 0.5s reached after" in message
        assert "HTTP 429" in message or "timed out" in message


def test_retry_on_error_runs_a_failed_sample_again(
    conf: Path, workdir: Path, serve: Callable[[Responder], OpenAIServer]
) -> None:
    # Every request fails twice before it succeeds: with max_retries=1 the sample fails once, and
    # retry_on_error runs it again (the first failure lands in `error_retries`).
    serve(twice_then_ok())
    result = run_eval(
        conf,
        "connection.max_retries=1",
        "retry_on_error=1",
        "connection.max_connections=30",
        epochs=1,
    )
    assert result.status == "success"
    samples = logged_samples(result, epochs=1)
    assert result.errors == 0
    for sample in samples:
        [earlier] = sample["error_retries"]
        assert "HTTP 500" in earlier["message"] and "flaky upstream" in earlier["message"]


def twice_then_ok() -> Responder:
    """Each distinct request body fails with a 500 twice, then is echoed."""
    seen: dict[bytes, int] = {}
    lock = threading.Lock()

    def responder(request: Request) -> Answer:
        with lock:
            seen[request.raw] = seen.get(request.raw, 0) + 1
            count = seen[request.raw]
        return echo(request) if count > 2 else error(500, "flaky upstream")

    return responder


# ── adaptive concurrency under a 429 storm ────────────────────────────────────────────────────────


def test_adaptive_concurrency_rides_out_a_429_storm(
    conf: Path, workdir: Path, serve: Callable[[Responder], OpenAIServer]
) -> None:
    server = serve(flaky([rate_limited("0"), rate_limited()], 0.5, seed=7))
    result = run_eval(
        conf,
        "connection.adaptive=true",
        "connection.max_retries=10",
        "connection.max_connections=8",
    )

    assert_all_scored(result, server)
    history = read_log_header(result.log_path)["stats"]["connection_limit_history"]
    read_eval_log(str(result.log_path))  # Inspect reads the history too
    cuts = [change for change in history if change["reason"] == "rate_limit"]
    assert cuts and all(c["new_limit"] == max(1, c["old_limit"] // 2) for c in cuts)
    assert all(1 <= change["new_limit"] <= 8 for change in history)
    assert {change["model"] for change in history} == {"openai/gpt-4o-mini"}


# ── the CLI: exit status and log under faults ─────────────────────────────────────────────────────


def test_cli_under_mixed_faults_exits_0_and_logs_every_sample(conf: Path, tmp_path: Path) -> None:
    def responder(request: Request) -> Answer | Awaitable[Answer]:
        text = echo(request)
        return error(503, "overloaded") if text.endswith(" s3") else mixed(request)

    mixed = flaky([rate_limited("0"), close_connection(), malformed(), truncated()], 0.3, seed=5)
    with OpenAIServer(responder) as server:
        done = run_cli(
            "task=faults",
            "model=openai/gpt-4o-mini",
            f"limit={LIMIT}",
            f"epochs={EPOCHS}",
            "fail_on_error=false",
            "display=plain",
            *FAST,
            cwd=tmp_path,
            env={
                "OPENAI_API_KEY": "sk-test-faults",
                "OPENAI_BASE_URL": server.base_url,
                "INSPECT_RUN_CONFIG_PATH": str(conf),
            },
        )
    assert done.returncode == 0, done.stderr
    [log_path] = [
        p
        for p in (tmp_path / "logs").rglob("*")
        if p.suffix in LOG_SUFFIXES and not p.name.startswith(".")
    ]
    log = read_log(log_path)
    assert log["status"] == "success"
    samples = log["samples"]
    assert len(samples) == TOTAL
    failed = [s for s in samples if "error" in s]
    assert {s["id"] for s in failed} == {"s3"} and len(failed) == EPOCHS
    assert all("HTTP 503" in s["error"]["message"] for s in failed)
    assert sum(1 for s in samples if s.get("scores")) == TOTAL - EPOCHS
