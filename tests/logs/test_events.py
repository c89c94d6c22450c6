"""Each sample's transcript (Inspect's `events`), as inspect_ai reads it back."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from inspect_ai.event import ModelEvent, SampleInitEvent, ScoreEvent, SpanBeginEvent
from inspect_ai.log import read_eval_log

import engine
from tests.support.files import found_in
from tests.support.openai_server import OpenAIServer, Reply, Request, error, sequence

SECRET = "sk-test-events-NEVER-WRITE-4242"


def answer(request: Request) -> str:
    if "[Expert]:" in request.messages[-1]["content"]:
        return "Same container as the expert answer.\nGRADE: C"
    return "the basket"


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("INSPECT_RUN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize("log_format", ["eval", "json"])
def test_a_graded_sample_has_a_model_event_for_the_model_and_one_for_the_grader(
    environment: Path, monkeypatch: pytest.MonkeyPatch, log_format: str
) -> None:
    with OpenAIServer(answer) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = engine.run(
            ["model=openai/m", "roles.grader=openai/judge", "limit=2", f"log_format={log_format}"]
        )
    assert result.log_path.suffix == f".{log_format}"
    log = read_eval_log(str(result.log_path))
    assert log.samples is not None and len(log.samples) == 2
    sample = log.samples[0]
    events = sample.events
    assert isinstance(events[1], SampleInitEvent) and events[1].sample.target == sample.target
    spans = [(e.type, e.name) for e in events if isinstance(e, SpanBeginEvent)]
    assert spans == [
        ("init", "init"),
        ("solvers", "solvers"),
        ("solver", "generate"),
        ("scorers", "scorers"),
        ("scorer", "model_graded_fact"),
    ]
    calls = [e for e in events if isinstance(e, ModelEvent)]
    assert [(c.model, c.role) for c in calls] == [("openai/m", None), ("openai/judge", "grader")]
    for call in calls:
        assert call.output.usage is not None and call.output.usage.total_tokens > 0
        assert call.working_time is not None and call.working_time >= 0
        assert call.completed is not None and call.completed >= call.timestamp
        assert call.retries == 0 and call.error is None
        assert call.input[-1].role == "user"
    grader = calls[1]
    assert "[Expert]:" in grader.input[-1].text
    assert grader.output.completion.endswith("GRADE: C")
    # The grader's call sits inside the scorer's span; the score carries its explanation.
    scorer_span = next(e for e in events if isinstance(e, SpanBeginEvent) and e.type == "scorer")
    assert grader.span_id == scorer_span.id
    (score,) = [e for e in events if isinstance(e, ScoreEvent)]
    assert score.scorer == "model_graded_fact" and score.score.value == "C"
    assert score.score.explanation == "Same container as the expert answer.\nGRADE: C"
    assert sample.role_usage["grader"].total_tokens == grader.output.usage.total_tokens
    assert sample.working_time is not None and 0 <= sample.working_time <= sample.total_time
    assert sample.started_at is not None and sample.completed_at is not None
    assert found_in(SECRET, [result.log_path]) == []


def test_retries_and_their_errors_and_cache_use_are_in_the_model_event(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = sequence([error(503, "overloaded, key " + SECRET), answer])
    args = ["model=openai/m", "limit=1", "cache.enabled=true", "connection.backoff_base=0.01"]
    with OpenAIServer(script) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        first = engine.run(args)
        second = engine.run([*args, "resume=false"])
    call = next(
        e for e in read_eval_log(str(first.log_path)).samples[0].events if e.event == "model"
    )
    assert isinstance(call, ModelEvent)
    assert call.retries == 1 and call.cache == "write"
    assert call.metadata is not None
    (reason,) = call.metadata["retry_errors"]
    assert "503" in reason and SECRET not in reason and "***" in reason
    again = read_eval_log(str(second.log_path)).samples[0].events
    graded = [e for e in again if isinstance(e, ModelEvent)]
    assert [e.cache for e in graded] == ["read", "read"]  # answered by the cache, both calls


def test_a_failed_call_leaves_a_model_event_with_its_error_and_an_error_event(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OpenAIServer(lambda request: Reply(400, body={"error": {"message": "bad prompt"}})) as s:
        monkeypatch.setenv("OPENAI_BASE_URL", s.base_url)
        result = engine.run(["model=openai/m", "limit=1", "fail_on_error=false"])
    sample = read_eval_log(str(result.log_path)).samples[0]
    kinds = [e.event for e in sample.events]
    assert kinds[-1] == "error" and "score" not in kinds
    call = next(e for e in sample.events if isinstance(e, ModelEvent))
    assert call.error is not None and "bad prompt" in call.error
    assert sample.error is not None and "bad prompt" in sample.error.message


@given(
    st.integers(min_value=0, max_value=4_102_444_799),  # to the end of 2099
    st.integers(min_value=0, max_value=999_999),
)
@example(1_767_225_599, 999_999)  # the last microsecond of a year
@example(1_767_225_600, 0)  # a whole second: no fraction, as `isoformat` writes it
@settings(max_examples=300, deadline=None)
def test_event_times_are_what_isoformat_writes(second: int, micro: int) -> None:
    """Events' timestamps format the date and time of day once a second; the text is exactly
    `datetime.isoformat`'s, a whole second and a new day or year included."""
    from datetime import datetime, timezone

    from engine.logs._transcript import iso_utc

    now = second + micro / 1_000_000
    assert iso_utc(now) == datetime.fromtimestamp(now, timezone.utc).isoformat()
    assert iso_utc(second - 0.5) == datetime.fromtimestamp(second - 0.5, timezone.utc).isoformat()


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_event_durations_are_kept_to_the_microsecond(seconds: float) -> None:
    """`working_start` and `working_time` are `round(seconds, 6)` (at most a microsecond off where
    the rounding ties), and their JSON text has at most 6 decimals."""
    from engine.logs._transcript import seconds_to_micros

    kept = seconds_to_micros(seconds)
    assert abs(kept - round(seconds, 6)) <= 1.000001e-6
    assert len(repr(kept).partition(".")[2]) <= 6
