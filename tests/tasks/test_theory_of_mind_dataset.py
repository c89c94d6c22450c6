"""Tests for the generated Sally-Anne theory-of-mind dataset.

The generator is a standalone script (not a package module), so it is loaded
by path; the tests pin the committed JSONL to the generator's exact output.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

# One worker runs this module: reads the dataset once (module fixtures).
pytestmark = pytest.mark.xdist_group("test_theory_of_mind_dataset")

ROOT = Path(__file__).resolve().parents[2]
TASK_DIR = ROOT / "tasks" / "theory_of_mind"
GENERATOR = TASK_DIR / "generate.py"
DATASET = TASK_DIR / "theory_of_mind.jsonl"
QUESTION_TYPES = {"first_order_belief", "second_order_belief", "reality", "memory"}


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tom_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines()]


def test_committed_file_matches_generator(gen: ModuleType) -> None:
    expected = gen.serialize(gen.generate()).encode("utf-8")
    assert DATASET.read_bytes() == expected, "rerun tasks/theory_of_mind/generate.py"
    assert gen.main(["--check"]) == 0


def test_generator_is_deterministic(gen: ModuleType) -> None:
    assert gen.serialize(gen.generate()) == gen.serialize(gen.generate())


def test_check_detects_stale_file(gen: ModuleType, tmp_path: Path) -> None:
    stale = tmp_path / "theory_of_mind.jsonl"
    stale.write_bytes(DATASET.read_bytes()[:-2] + b"\n")
    assert not gen.check(stale)
    assert not gen.check(tmp_path / "missing.jsonl")
    assert gen.check(DATASET)


def test_size_and_unique_ids(items: list[dict[str, Any]]) -> None:
    assert len(items) >= 100
    ids = [item["id"] for item in items]
    assert len(set(ids)) == len(ids)
    assert all(set(item) == {"id", "input", "target", "metadata"} for item in items)


def test_question_type_proportions(items: list[dict[str, Any]]) -> None:
    counts = Counter(item["metadata"]["question_type"] for item in items)
    assert set(counts) == QUESTION_TYPES
    total = len(items)
    assert counts["first_order_belief"] / total >= 0.30
    assert counts["second_order_belief"] / total >= 0.20
    assert counts["reality"] / total >= 0.10
    assert counts["memory"] / total >= 0.10


def test_both_belief_conditions_present(items: list[dict[str, Any]]) -> None:
    flags = Counter(item["metadata"]["true_belief"] for item in items)
    assert flags[True] > 0 and flags[False] > 0


def test_targets_appear_in_input(items: list[dict[str, Any]]) -> None:
    for item in items:
        assert item["target"].startswith("the "), item["id"]
        assert item["target"] in item["input"], item["id"]
        assert item["input"].endswith("?"), item["id"]


def test_false_belief_differs_from_reality(items: list[dict[str, Any]]) -> None:
    reality = {
        item["metadata"]["scenario"]: item["target"]
        for item in items
        if item["metadata"]["question_type"] == "reality"
    }
    false_belief = [
        item
        for item in items
        if item["metadata"]["question_type"] == "first_order_belief"
        and not item["metadata"]["true_belief"]
    ]
    assert false_belief
    for item in false_belief:
        scenario = item["metadata"]["scenario"]
        assert scenario in reality, item["id"]
        assert item["target"] != reality[scenario], item["id"]
