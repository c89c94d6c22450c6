"""Reading JSONL, JSON and CSV datasets into samples, and the errors a broken file gives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.config import DatasetConfig, DatasetFields
from engine.datasets import DatasetError, Sample, read_samples, record_to_sample
from engine.messages import ChatMessage, ContentImage, ContentText

RECORDS: list[dict[str, Any]] = [
    {"id": "q1", "input": "What is 2+2?", "target": "4", "metadata": {"topic": "math"}},
    {"id": "q2", "input": "Capital of France?", "target": ["Paris", "paris"]},
]


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def read(path: Path | str, search_dirs: list[Path] | None = None, **config: Any) -> list[Sample]:
    """A file given by its absolute path is read from its folder, as a task directory."""
    if Path(path).is_absolute():
        search_dirs, path = [Path(path).parent], Path(path).name
    return read_samples(DatasetConfig(path=str(path), **config), search_dirs or [])


def test_jsonl(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl", RECORDS)
    first, second = read(path)
    assert first == Sample("What is 2+2?", "4", "q1", None, {"topic": "math"})
    assert second == Sample("Capital of France?", ["Paris", "paris"], "q2", None, None)


def test_jsonl_skips_blank_lines_and_tolerates_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('\ufeff{"input": "a"}\n\n   \n{"input": "b"}\n', encoding="utf-8")
    assert [sample.input for sample in read(path)] == ["a", "b"]


@pytest.mark.parametrize("wrap", [lambda r: r, lambda r: {"samples": r}, lambda r: {"data": r}])
def test_json_list_or_object(tmp_path: Path, wrap: Any) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(wrap(RECORDS)), encoding="utf-8")
    assert [sample.id for sample in read(path)] == ["q1", "q2"]


def test_json_without_a_list(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"rows": RECORDS}), encoding="utf-8")
    with pytest.raises(DatasetError, match="list of records or an object with a list under"):
        read(path)


def test_csv(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(
        'question,answer,level\nWhat is 2+2?,4,easy\n"Name a colour, any colour.",red,"hard"\n',
        encoding="utf-8",
    )
    fields = DatasetFields(input="question", target="answer", metadata=["level"])
    samples = read(path, fields=fields)
    assert samples == [
        Sample("What is 2+2?", "4", 1, None, {"level": "easy"}),
        Sample("Name a colour, any colour.", "red", 2, None, {"level": "hard"}),
    ]


def test_format_overrides_the_extension(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.txt", RECORDS)
    assert len(read(path, format="jsonl")) == 2
    with pytest.raises(DatasetError, match=r"cannot tell the format .*data\.txt.*dataset\.format"):
        read(path)


def test_chat_message_input(tmp_path: Path) -> None:
    record = {
        "input": [
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}],
            },
        ],
        "target": "hello",
    }
    (sample,) = read(write_jsonl(tmp_path / "chat.jsonl", [record]))
    assert sample.input == [
        ChatMessage("system", "Be brief.", "input"),
        ChatMessage("user", [ContentText("Hi "), ContentText("there")], "input"),
    ]
    assert sample.input_text == "Hi there"


def test_image_parts_in_inspect_and_openai_form(tmp_path: Path) -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "image": "cat.png", "detail": "low"},
        {"type": "image_url", "image_url": {"url": "https://example.com/dog.jpg"}},
    ]
    record = {"input": [{"role": "user", "content": content}], "target": "a cat"}
    (tmp_path / "cat.png").write_bytes(b"a picture")
    (sample,) = read(write_jsonl(tmp_path / "vision.jsonl", [record]))
    assert isinstance(sample.input, list)
    assert sample.input[0].content == [
        ContentText("What is this?"),
        ContentImage(str((tmp_path / "cat.png").resolve()), "low"),  # checked, then resolved
        ContentImage("https://example.com/dog.jpg"),
    ]
    assert sample.input[0].modalities == {"text", "image"}


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([{"role": "robot", "content": "x"}], "message 1: unknown role 'robot'"),
        ([{"role": "user"}], "message 1: a chat message is an object with 'role' and 'content'"),
        ([{"role": "user", "content": 3}], "message 1: content must be a string"),
        ([{"role": "user", "content": [{"type": "hologram"}]}], "unknown content type 'hologram'"),
        ([], "must be a string or a non-empty list of chat messages"),
    ],
)
def test_bad_chat_message(tmp_path: Path, messages: list[Any], error: str) -> None:
    path = write_jsonl(tmp_path / "chat.jsonl", [{"input": messages}])
    with pytest.raises(DatasetError) as raised:
        read(path)
    assert str(raised.value).startswith(f"{path}, line 1: ")
    assert error in str(raised.value)


def test_field_mapping() -> None:
    fields = DatasetFields(
        input="question", target="answers", id="key", choices="options", metadata=["level", "gone"]
    )
    record = {
        "question": "Pick one",
        "answers": [1, 2.5],
        "key": 17,
        "options": ["a", 3],
        "level": "hard",
        "metadata": {"ignored": True},
    }
    assert record_to_sample(record, fields, 5) == Sample(
        "Pick one", ["1", "2.5"], 17, ["a", "3"], {"level": "hard"}
    )


def test_defaults_id_target_and_metadata() -> None:
    fields = DatasetFields()
    assert record_to_sample({"input": "x", "target": 42}, fields, 3) == Sample("x", "42", 3)
    assert record_to_sample({"input": "x", "id": ""}, fields, 4).id == 4
    assert record_to_sample({"input": "x", "id": 1.5}, fields, 4).id == "1.5"
    no_id_or_target = DatasetFields(id=None, target=None)
    assert record_to_sample({"input": "x", "id": "a", "target": "t"}, no_id_or_target, 9) == Sample(
        "x", "", 9
    )


def test_bad_field_values() -> None:
    fields = DatasetFields(choices="options")
    with pytest.raises(DatasetError, match="choices field 'options' must be a list, got str"):
        record_to_sample({"input": "x", "options": "a,b"}, fields, 1)
    with pytest.raises(DatasetError, match="target must hold strings or numbers, got dict"):
        record_to_sample({"input": "x", "target": {"a": 1}}, fields, 1)
    with pytest.raises(DatasetError, match="field 'metadata' must be an object, got list"):
        record_to_sample({"input": "x", "metadata": [1]}, fields, 1)


def test_relative_path_searches_dirs_in_order(tmp_path: Path) -> None:
    first, second, third = tmp_path / "user", tmp_path / "builtin", tmp_path / "other"
    for directory, text in ((second, "builtin"), (third, "other")):
        (directory / "sub").mkdir(parents=True)
        write_jsonl(directory / "sub" / "d.jsonl", [{"input": text}])
    first.mkdir()
    (sample,) = read("sub/d.jsonl", [first, second, third])
    assert sample.input == "builtin"


def test_missing_file_lists_searched_dirs(tmp_path: Path) -> None:
    dirs = [tmp_path / "a", tmp_path / "b"]
    with pytest.raises(DatasetError) as raised:
        read("nope.jsonl", dirs)
    message = str(raised.value)
    assert "dataset file 'nope.jsonl' not found" in message
    assert f"searched: {dirs[0]}, {dirs[1]}" in message
    with pytest.raises(DatasetError, match=r"'absent\.jsonl' not found"):
        read(tmp_path / "absent.jsonl")


def test_missing_input_field_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"input": "ok"}\n\n{"prompt": "no input", "target": "t"}\n', encoding="utf-8")
    with pytest.raises(DatasetError) as raised:
        read(path)
    assert str(raised.value) == (
        f"{path}, line 3: missing input field 'input' (record has: prompt, target)"
    )


def test_missing_input_field_in_csv_and_json(tmp_path: Path) -> None:
    csv_path = tmp_path / "data.csv"
    csv_path.write_text("question,answer\nq,a\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"data\.csv, line 2: missing input field 'input'"):
        read(csv_path)
    json_path = tmp_path / "data.json"
    json_path.write_text(json.dumps([{"input": "a"}, {"text": "b"}]), encoding="utf-8")
    with pytest.raises(DatasetError, match=r"data\.json, record 2: missing input field 'input'"):
        read(json_path)


def test_bad_json_line(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"input": "a"}\n{"input": "b",}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"data\.jsonl, line 2: invalid JSON"):
        read(path)


def test_bad_json_file_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text('[\n  {"input": "a"},\n  {"input": }\n]\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"data\.json, line 3: invalid JSON"):
        read(path)


def test_record_that_is_not_an_object(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl", [{"input": "a"}, ["input", "b"]])
    with pytest.raises(DatasetError, match=r"line 2: a record must be an object, got list"):
        read(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"input\ncaf\xe9\n")
    with pytest.raises(DatasetError, match="is not UTF-8 text"):
        read(path)


def test_builtin_theory_of_mind_dataset() -> None:
    tasks = Path(__file__).resolve().parents[2] / "tasks"
    samples = read("theory_of_mind/theory_of_mind.jsonl", [tasks])
    assert len(samples) >= 100
    assert samples[0].id == "tom-001"
    assert samples[0].metadata is not None and "question_type" in samples[0].metadata


def test_a_dataset_file_is_reread_on_each_pass_not_held(tmp_path: Path) -> None:
    from engine.datasets import DatasetFile

    data = tmp_path / "d.jsonl"
    data.write_text('{"input": "a", "target": "1"}\n')
    dataset = DatasetFile(DatasetConfig(path=data.name), [tmp_path])
    assert [s.input for s in dataset] == ["a"]
    with data.open("a") as more:
        more.write('{"input": "b", "target": "2"}\n')
    assert [s.input for s in dataset] == ["a", "b"]


DUPLICATES = [{"id": i, "input": f"q{n}", "target": "t"} for n, i in enumerate(["x1", "x1", "x2"])]


def test_a_duplicate_id_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl", DUPLICATES)
    with pytest.raises(DatasetError) as raised:
        read(path)
    message = str(raised.value)
    assert f"duplicate sample id 'x1': {path}:1 and {path}:2" in message
    assert "duplicate_ids: suffix" in message


def test_ids_equal_as_text_are_duplicates_as_in_inspect(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("id,input\n7,a\n07,b\n7,c\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=rf"'7': {path}:2 and {path}:4"):
        read(path)
    records = [{"id": 1, "input": "a"}, {"id": "1", "input": "b"}]
    with pytest.raises(DatasetError, match="duplicate sample id '1'"):
        read(write_jsonl(tmp_path / "mixed.jsonl", records))
    records = [{"input": "a"}, {"id": 1, "input": "b"}]  # the first takes its line number as id
    with pytest.raises(DatasetError, match="duplicate sample id 1"):
        read(write_jsonl(tmp_path / "implicit.jsonl", records))


def test_suffix_numbers_repeats_in_file_order_the_same_on_every_pass(tmp_path: Path) -> None:
    records = [{"id": i, "input": f"q{n}"} for n, i in enumerate(["x1", "x1", "x2", "x1", "x2"])]
    path = write_jsonl(tmp_path / "data.jsonl", records)
    ids = [s.id for s in read(path, duplicate_ids="suffix")]
    assert ids == ["x1", "x1#2", "x2", "x1#3", "x2#2"]
    assert [s.id for s in read(path, duplicate_ids="suffix")] == ids


def test_a_suffixed_id_that_meets_a_real_one_is_still_an_error(tmp_path: Path) -> None:
    records = [{"id": i, "input": "q"} for i in ["x1", "x1", "x1#2"]]
    path = write_jsonl(tmp_path / "data.jsonl", records)
    with pytest.raises(DatasetError, match=rf"'x1#2': {path}:2 and {path}:3"):
        read(path, duplicate_ids="suffix")


def test_passes_after_a_whole_one_hold_nothing_per_sample_and_name_alike(tmp_path: Path) -> None:
    """The first whole pass (planning) checks that ids are unique, which keeps every id it read;
    the passes that run the samples (one per epoch) then keep nothing per sample, however large
    the dataset, and `duplicate_ids: suffix` names the repeats as the first pass did."""
    import gc
    import itertools
    import sys

    from engine.datasets import DatasetFile

    ids = [f"s{n}" for n in range(20_000)]
    ids[15_000] = ids[7]  # a repeat: renamed on every pass
    records = [{"id": sample_id, "input": "q", "target": "t"} for sample_id in ids]
    write_jsonl(tmp_path / "data.jsonl", records)
    dataset = DatasetFile(DatasetConfig(path="data.jsonl", duplicate_ids="suffix"), [tmp_path])

    def blocks_held_while_reading(samples: Iterator[Sample], count: int) -> int:
        for _ in itertools.islice(samples, count):
            pass
        gc.collect()
        return sys.getallocatedblocks()

    def growth(samples: Iterator[Sample]) -> int:
        """Blocks held after 9,000 more samples, the lesser of two tries (other threads of the
        test process allocate too)."""
        start = blocks_held_while_reading(samples, 1000)
        middle = blocks_held_while_reading(samples, 9000)
        return min(middle - start, blocks_held_while_reading(samples, 9000) - middle)

    first = iter(dataset)
    assert growth(first) > 8000  # what the check keeps: at least a block per sample
    assert [s.id for s in first][-1] == "s19999"
    again = iter(dataset)
    assert growth(again) < 1000
    assert [s.id for s in again][-1] == "s19999"
    named = [s.id for s in dataset]
    assert named[15_000] == "s7#2"
    assert named == [s.id for s in read(tmp_path / "data.jsonl", duplicate_ids="suffix")]
