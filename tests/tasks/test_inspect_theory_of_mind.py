"""`inspect_theory_of_mind`: Inspect's own theory_of_mind example, sample for sample."""

from __future__ import annotations

from pathlib import Path

import inspect_ai
import pytest

from engine.config import compose_config
from engine.runner import build_plan

ROOT = Path(__file__).resolve().parents[2]


def test_the_data_is_inspects_example_file_byte_for_byte() -> None:
    shipped = Path(inspect_ai.__file__).parent / "dataset" / "_examples" / "theory_of_mind.jsonl"
    ours = ROOT / "tasks" / "inspect_theory_of_mind" / "theory_of_mind.jsonl"
    assert ours.read_bytes() == shipped.read_bytes()
    assert "MIT License" in (ours.parent / "LICENSE").read_text()


def test_the_task_plans_inspects_samples_solvers_and_scorer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inspect_ai.dataset import example_dataset

    monkeypatch.chdir(tmp_path)
    composed = compose_config(["task=inspect_theory_of_mind", "model=openai/gpt-4o-mini"])
    plan = build_plan(composed, connect=False)  # no client, no key: the plan is what is checked
    theirs = example_dataset("theory_of_mind")
    ours = list(plan.samples)
    assert len(ours) == len(theirs) == 100
    assert [s.id for s in ours] == list(range(1, 101))  # Inspect numbers id-less samples from 1
    for mine, inspect_sample in zip(ours, theirs, strict=True):
        assert not isinstance(mine.input, str)
        assert mine.input[0].text == inspect_sample.input[0].content  # type: ignore[index,union-attr]
        assert mine.target == inspect_sample.target
    # examples/theory_of_mind.py: [chain_of_thought(), generate()], model_graded_fact()
    assert [c.registered for c, _ in plan.solvers] == ["chain_of_thought", "generate"]
    assert [c.registered for c, _ in plan.scorers] == ["model_graded_fact"]
