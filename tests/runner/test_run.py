import json
from pathlib import Path

import pytest

from engine.config import compose_config
from engine.datasets import Sample
from engine.runner import SelectedSamples, build_plan, errors_exceed, run_composed, safe_name
from engine.runner._display import Display
from tests.support.openai_server import OpenAIServer, Reply, sequence


def test_safe_name_flattens_model_strings() -> None:
    assert safe_name("hf-inference-providers/openai/gpt-oss-120b:cerebras") == (
        "hf-inference-providers-openai-gpt-oss-120b-cerebras"
    )


@pytest.mark.parametrize(
    ("errors", "total", "threshold", "exceeded"),
    [
        (0, 10, True, False),
        (1, 10, True, True),
        (5, 10, False, False),
        (1, 10, 0.2, False),
        (2, 10, 0.2, True),  # Inspect fails at >= p, not > p
        (3, 10, 0.2, True),
        (1, 4, 0.25, True),
        (2, 10, 3, False),
        (3, 10, 3, True),
    ],
)
def test_fail_on_error_thresholds(
    errors: int, total: int, threshold: bool | float, exceeded: bool
) -> None:
    assert errors_exceed(errors, total, threshold) is exceeded


def samples(count: int) -> list[Sample]:
    return [Sample(input=f"q{i}", target="a", id=f"s{i}") for i in range(count)]


def test_select_samples_filters_shuffles_then_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    config = compose_config(["model=openai/x", "limit=[2,5]"]).config
    assert [s.id for s in SelectedSamples(samples(10), config)] == ["s2", "s3", "s4"]
    by_id = compose_config(["model=openai/x", "sample_id=[s7,s1]"]).config
    assert [s.id for s in SelectedSamples(samples(10), by_id)] == ["s1", "s7"]
    shuffled = compose_config(["model=openai/x", "shuffle=true", "seed=3", "limit=4"]).config
    first = [s.id for s in SelectedSamples(samples(10), shuffled)]
    assert first == [s.id for s in SelectedSamples(samples(10), shuffled)]
    assert first != ["s0", "s1", "s2", "s3"] and len(first) == 4


def test_the_dataset_may_shuffle_and_limit_and_the_run_overrides_it() -> None:
    task = ["+task.dataset.shuffle=true", "+task.dataset.seed=3", "+task.dataset.limit=4"]
    config = compose_config(["model=openai/x", *task]).config
    from_dataset = [s.id for s in SelectedSamples(samples(10), config)]
    run_level = compose_config(["model=openai/x", "shuffle=true", "seed=3", "limit=4"]).config
    assert from_dataset == [s.id for s in SelectedSamples(samples(10), run_level)]
    overridden = compose_config(["model=openai/x", *task, "seed=4", "limit=2"]).config
    other = [s.id for s in SelectedSamples(samples(10), overridden)]
    assert len(other) == 2 and other != from_dataset[:2]


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    return tmp_path


def test_epochs_run_every_sample_each_time_and_concurrency_follows_the_pool(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OpenAIServer(lambda r: "GRADE: C", latency=0.05) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        composed = compose_config(
            ["model=openai/m", "limit=6", "epochs=2", "connection.max_connections=3"]
        )
        result = run_composed(composed, display=Display())
        assert result.samples == 12 and result.errors == 0
        assert len(server.chat_requests()) == 24  # generate + grade for each sample and epoch
        assert server.max_in_flight == 3


def test_a_failing_sample_does_not_stop_the_run(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = sequence(["the basket", Reply(status=401, body={"error": {"message": "bad key"}})])
    with OpenAIServer(script) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        composed = compose_config(
            ["model=openai/m", "limit=3", "connection.max_connections=1", "fail_on_error=0.9"]
        )
        result = run_composed(composed, display=Display())
    # First sample: generate ok, grading fails (401); the rest fail at generate.
    assert result.samples == 3 and result.errors == 3
    assert result.status == "error"
    assert all("HTTP 401" in reason for reason in result.error_reasons)


def test_unsupported_generation_fields_are_reported_once(environment: Path) -> None:
    composed = compose_config(["model=openai/m", "generation.top_k=5", "limit=1"])
    plan = build_plan(composed)
    assert plan.warnings == ["openai/m ignores generation settings: top_k"]


def test_rich_progress_shows_samples_errors_retries_and_tokens(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console

    from engine.runner import RichDisplay

    script = sequence([Reply(status=503), "the basket", "GRADE: C"])
    with OpenAIServer(script) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        composed = compose_config(
            [
                "model=openai/m",
                "limit=2",
                "connection.max_connections=1",
                "connection.backoff_base=0.01",
            ]
        )
        screen = io.StringIO()
        console = Console(file=screen, force_terminal=True, width=160, color_system=None)
        result = run_composed(composed, display=RichDisplay(console))
    assert result.errors == 0
    text = screen.getvalue()
    assert "theory_of_mind × openai/m" in text
    assert "2/2" in text
    assert "errors 0" in text and "retries 1" in text and "tokens" in text


def test_rich_progress_shows_batches_and_their_requests(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console

    from engine.runner import RichDisplay
    from tests.support.batch_servers import OpenAIBatchServer

    with OpenAIBatchServer(lambda r: "GRADE: C", batch_delay=0.05) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        composed = compose_config(
            ["model=openai/m", "limit=2", "batch.size=2", "batch.tick=0.02", "batch.send_delay=0"]
        )
        screen = io.StringIO()
        console = Console(file=screen, force_terminal=True, width=250, color_system=None)
        result = run_composed(composed, display=RichDisplay(console))
    assert result.errors == 0 and len(server.batches) == 2  # generate, then grade
    assert "batches 0 pending, 0 in flight, 2 done; requests 0 queued, 0 in batches" in (
        screen.getvalue()
    )


def test_several_scorers_each_get_their_metrics(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = environment / "conf" / "task"
    conf.mkdir(parents=True)
    (environment / "qa.jsonl").write_text(
        '{"input": "2+2?", "target": "4"}\n{"input": "3+3?", "target": "6"}\n'
    )
    (conf / "qa.yaml").write_text(
        "name: qa\ndataset: {path: qa.jsonl}\n"
        "scorers: [match, {match: {location: any}}, includes]\nmetrics: [accuracy, mean]\n"
    )
    with OpenAIServer(lambda r: "The answer is 4, clearly.") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run_composed(compose_config(["model=openai/m", "task=qa"]), display=Display())
    assert result.metrics == {
        "match": {"accuracy": 0.0, "mean": 0.0},
        "match_1": {"accuracy": 0.5, "mean": 0.5},
        "includes": {"accuracy": 0.5, "mean": 0.5},
    }


def test_a_bad_record_anywhere_is_a_config_error_before_any_request(environment: Path) -> None:
    from engine.config import ConfigError

    conf = environment / "conf" / "task"
    conf.mkdir(parents=True)
    lines = [json.dumps({"input": f"q{i}", "target": "a"}) for i in range(500)]
    lines.append('{"target": "no input"}')
    (environment / "big.jsonl").write_text("\n".join(lines) + "\n")
    (conf / "big.yaml").write_text("name: big\ndataset: {path: big.jsonl}\n")
    with pytest.raises(ConfigError, match="line 501: missing input field"):
        build_plan(compose_config(["model=openai/m", "task=big"]))


def test_selected_samples_stream_in_order_and_count_without_holding_them() -> None:
    config = compose_config(["model=openai/x", "limit=[1,4]"]).config
    selected = SelectedSamples(samples(10), config)
    assert len(selected) == 3 and selected.items is None
    assert [s.id for s in selected] == [s.id for s in selected] == ["s1", "s2", "s3"]
    assert selected.dataset_size == 10 and selected.ids == ["s1", "s2", "s3"]


def test_log_names_parse_in_inspects_list_eval_logs(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inspect reads task and task id back from `{created}_{task}_{model}_{id}`: no `_` inside."""
    from inspect_ai._util.file import clean_filename_component
    from inspect_ai.log import list_eval_logs, read_eval_log

    with OpenAIServer(lambda r: "GRADE: C") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        composed = compose_config(["model=openai/gpt_4o:mini", "limit=1", "log_dir=logs"])
        result = run_composed(composed, display=Display())
    (info,) = list_eval_logs("logs")
    log = read_eval_log(str(result.log_path), header_only=True)
    assert info.task == clean_filename_component("theory_of_mind") == "theory-of-mind"
    assert info.task_id == log.eval.task_id and info.suffix is None
    assert info.name.endswith(result.log_path.name)
