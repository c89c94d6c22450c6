"""Dataset options: CSV dialects, nested fields, images from files, hooks, shuffled choices."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from engine.config import DatasetConfig
from engine.datasets import DatasetError, DatasetFile, Sample
from engine.messages import ContentImage, ContentText
from tests.support.hub_fixtures import parquet_bytes, png_bytes


def load(path: Path, task_dirs: list[Path] | None = None, **config: Any) -> list[Sample]:
    """The dataset file is found in its own folder, as a task directory."""
    return list(
        DatasetFile(DatasetConfig(path=path.name, **config), [path.parent], task_dirs or [])
    )


def test_csv_delimiter_dialect_and_encoding(tmp_path: Path) -> None:
    semicolons = tmp_path / "data.csv"
    semicolons.write_text("input;target\nprix;10 €\n", encoding="utf-8")
    assert [(s.input, s.target) for s in load(semicolons, delimiter=";")] == [("prix", "10 €")]
    tabs = tmp_path / "data.tsv"
    tabs.write_text("input\ttarget\ncafé\tx\n", encoding="latin-1")
    loaded = load(tabs, format="csv", dialect="excel-tab", encoding="latin-1")
    assert [(s.input, s.target) for s in loaded] == [("café", "x")]


def test_a_wrong_encoding_says_which_to_set(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"input\ncaf\xe9\n")
    with pytest.raises(DatasetError, match=r"is not UTF-8 text.*set dataset.encoding"):
        load(path)


def test_nested_fields_by_dotted_path(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    record = {"q": {"text": "Pick one"}, "options": {"text": ["x", "y"]}, "key": "B"}
    path.write_text(json.dumps(record) + "\n")
    fields = {"input": "q.text", "target": "key", "choices": "options.text"}
    (sample,) = load(path, fields=fields)
    assert (sample.input, sample.target, sample.choices) == ("Pick one", "B", ["x", "y"])


def test_local_parquet(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    path.write_bytes(parquet_bytes([{"input": "a", "target": "1"}, {"input": "b", "target": "2"}]))
    assert [(s.input, s.target, s.id) for s in load(path)] == [("a", "1", 1), ("b", "2", 2)]


def test_images_from_paths_beside_the_dataset(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "cat.png").write_bytes(png_bytes(20, 10))
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps({"input": "How many?", "pics": ["img/cat.png"]}) + "\n")
    (sample,) = load(path, fields={"images": "pics"})
    assert not isinstance(sample.input, str)
    text, image = sample.input[0].content
    assert text == ContentText("How many?")
    encoded = base64.b64encode(png_bytes(20, 10)).decode()
    assert image == ContentImage(f"data:image/png;base64,{encoded}")


@pytest.mark.parametrize("where", ["../secret.png", "/etc/hostname"])
def test_image_paths_cannot_leave_the_dataset_folder(tmp_path: Path, where: str) -> None:
    folder = tmp_path / "task"
    folder.mkdir()
    (tmp_path / "secret.png").write_bytes(png_bytes(4, 4))
    path = folder / "data.jsonl"
    path.write_text(json.dumps({"input": "x", "pics": where}) + "\n")
    with pytest.raises(
        DatasetError, match=r"line 1: image path .* is outside the dataset's folder"
    ):
        load(path, fields={"images": "pics"})


def test_a_broken_image_names_the_record(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    record = {"input": "x", "pics": "data:image/png;base64," + base64.b64encode(b"nope").decode()}
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(DatasetError, match=r"data\.jsonl, line 1: not a readable image"):
        load(path, fields={"images": "pics"})


def test_relative_dataset_paths_cannot_climb_out(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "outside.jsonl").write_text('{"input": "x"}\n')
    config = DatasetConfig(path="../outside.jsonl")
    with pytest.raises(DatasetError, match="climbs out of"):
        DatasetFile(config, [tmp_path / "tasks"])


HOOK = """
def record_to_sample(record):
    if record.get("skip"):
        return None
    return {"input": record["q"].upper(), "target": record["a"], "choices": record.get("c")}

def as_sample(record):
    from engine.datasets import Sample
    return Sample(record["q"], record["a"])
"""


def hook_task(tmp_path: Path) -> tuple[Path, Path]:
    tasks = tmp_path / "tasks"
    (tasks / "mine").mkdir(parents=True)
    (tasks / "mine" / "hooks.py").write_text(HOOK)
    data = tasks / "mine" / "data.jsonl"
    rows = [
        {"q": "one", "a": "1"},
        {"q": "skip me", "a": "0", "skip": True},
        {"q": "two", "a": "2"},
    ]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return tasks, data


def test_a_hook_makes_samples_and_may_skip_records(tmp_path: Path) -> None:
    tasks, data = hook_task(tmp_path)
    samples = load(data, [tasks], record_to_sample="mine/hooks.py")
    assert [(s.input, s.target, s.id) for s in samples] == [("ONE", "1", 1), ("TWO", "2", 3)]
    named = load(data, [tasks], record_to_sample="mine/hooks.py:as_sample")
    assert [(s.input, s.id) for s in named] == [("one", 1), ("skip me", 2), ("two", 3)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("/etc/hooks.py", "is outside the task directories: an absolute path"),
        ("../hooks.py", "is outside the task directories: it climbs out of"),
        ("mine/../../hooks.py", "is outside the task directories: it climbs out of"),
        ("mine/missing.py", "not found in the task directories"),
        ("mine/hooks.py:nothing", "has no function 'nothing'"),
        ("mine/hooks", "expected FILE.py"),
    ],
)
def test_hooks_load_only_from_task_directories(tmp_path: Path, spec: str, message: str) -> None:
    tasks, data = hook_task(tmp_path)
    (tmp_path / "hooks.py").write_text(HOOK)
    with pytest.raises(DatasetError, match=message):
        load(data, [tasks], record_to_sample=spec)


def test_a_failing_hook_names_the_record(tmp_path: Path) -> None:
    tasks, data = hook_task(tmp_path)
    data.write_text('{"q": "x"}\n')
    with pytest.raises(
        DatasetError, match=r"data.jsonl, line 1: record_to_sample failed: KeyError"
    ):
        load(data, [tasks], record_to_sample="mine/hooks.py")


def test_shuffle_choices_moves_letter_targets_with_their_choice(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    rows = [
        {"id": i, "input": "Capital?", "choices": ["Lyon", "Paris", "Nice", "Lille"], "target": "B"}
        for i in range(10)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    fields = {"choices": "choices"}
    samples = load(path, fields=fields, shuffle_choices=True, seed=3)
    for sample in samples:
        assert sample.choices is not None and isinstance(sample.target, str)
        assert sample.choices["ABCD".index(sample.target)] == "Paris"
    assert len({tuple(s.choices or []) for s in samples}) > 1
    assert load(path, fields=fields, shuffle_choices=True, seed=3) == samples  # seeded
