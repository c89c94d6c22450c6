"""The Inspect log format's builders (`engine.logs._records`): logs built from them alone, in both
formats, are read by Inspect's own reader with every field where Inspect expects it."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from engine.logs import (
    EvalHeader,
    RoleModel,
    ScoreSummary,
    eval_error,
    eval_header,
    eval_reductions,
    eval_results,
    eval_sample,
    eval_stats,
    log_writer,
    rescored_header,
)

NOW = "2026-01-01T00:00:00+00:00"


def header() -> EvalHeader:
    return EvalHeader(
        eval_id="e1",
        run_id="r1",
        created=NOW,
        task="capitals",
        task_id="abc123",
        task_description="",
        tags=[],
        dataset_location="capitals.jsonl",
        dataset_samples=5,
        sample_ids=[1, 2],
        sample_shuffle=7,
        model="openai/gpt-4o-mini",
        generate_config={"temperature": 0.0},
        model_base_url=None,
        model_args={},
        model_roles={"grader": RoleModel("openai/judge", {}, "http://127.0.0.1:1/v1", {})},
        limit=(0, 2),
        sample_id=None,
        epochs=2,
        epochs_reducer=["mean"],
        fail_on_error=True,
        revision=None,
        packages={"inspect-run": "0.1.0"},
        metadata={"inspect_run": {"config_hash": "h"}},
        solvers=[("generate", {})],
    )


def sample(sample_id: int, *, failed: bool = False) -> dict[str, object]:
    return eval_sample(
        id=sample_id,
        epoch=1,
        input="Capital of France?",
        target="Paris",
        messages=[{"role": "user", "content": "Capital of France?"}],
        output=None,
        model="openai/gpt-4o-mini",
        metadata={},
        model_usage={},
        role_usage={},
        events=[],
        started_at=NOW,
        completed_at=NOW,
        total_time=2.0,
        working_time=3.5,  # more than the total: capped
        uuid=f"u{sample_id}",
        scores=None if failed else {"match": {"value": "C", "answer": "Paris"}},
        error=eval_error("RuntimeError: boom", "Traceback …") if failed else None,
    )


@pytest.mark.parametrize("suffix", ["eval", "json"])
def test_a_log_built_from_the_builders_reads_in_inspect(tmp_path: Path, suffix: str) -> None:
    built = eval_header(header())
    assert built["plan"] == {
        "name": "plan",
        "steps": [{"solver": "generate", "params": {}}],
        "config": {"temperature": 0.0},
    }
    writer = log_writer(tmp_path / f"log.{suffix}", built)
    writer.start()
    writer.write_sample(sample(1))
    writer.write_sample(sample(2, failed=True))
    score = ScoreSummary("match", "match", "mean", {}, 1, 1, {"accuracy": 1.0})
    writer.finish(
        "error",
        eval_results(2, 1, [score], {"cache_hits": {"openai/gpt-4o-mini": 1}}),
        eval_stats(NOW, NOW, {}),
        eval_error("1 of 2 samples failed (fail_on_error=True)"),
        eval_reductions([("match", "mean", [(1, 1.0)])]),
    )

    log = read_eval_log(str(writer.path))
    assert log.status == "error" and log.error is not None
    assert log.error.traceback == "1 of 2 samples failed (fail_on_error=True)"
    assert log.eval.task_id == "abc123" and log.eval.dataset.shuffled is True
    assert log.eval.config.limit == (0, 2) and log.eval.config.sample_shuffle == 7
    assert log.eval.model_roles is not None
    assert log.eval.model_roles["grader"].model == "openai/judge"
    assert log.results is not None and log.results.completed_samples == 1
    assert log.results.scores[0].metrics["accuracy"].value == 1.0
    assert log.results.metadata == {"cache_hits": {"openai/gpt-4o-mini": 1}}
    assert log.samples is not None
    scored, failed = sorted(log.samples, key=lambda s: int(s.id))
    assert scored.scores is not None and scored.scores["match"].value == "C"
    assert scored.output.model == "openai/gpt-4o-mini" and scored.working_time == 2.0
    assert failed.error is not None and failed.error.message == "RuntimeError: boom"
    assert failed.scores is None  # a failed sample is not scored


def test_a_rescored_header_keeps_the_source_and_names_the_new_graders() -> None:
    source = eval_header(header())
    rescored = rescored_header(
        source,
        eval_id="e2",
        created="2026-02-01T00:00:00+00:00",
        inspect_run={"rescored_from": "log.eval"},
        model_roles={"grader": ("openai/other", {"temperature": 0.0})},
    )
    assert rescored["plan"] == source["plan"]
    spec = rescored["eval"]
    assert list(spec) == list(source["eval"])  # same fields, same order
    assert spec["eval_id"] == "e2" and spec["task_id"] == source["eval"]["task_id"]
    assert spec["metadata"]["inspect_run"] == {"rescored_from": "log.eval"}
    assert spec["model_roles"] == {
        "grader": {"model": "openai/other", "config": {"temperature": 0.0}}
    }
    assert source["eval"]["eval_id"] == "e1"  # the source's header is left as it was
