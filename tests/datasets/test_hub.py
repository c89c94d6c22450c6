"""Hub datasets through huggingface_hub against a local server speaking the Hub's HTTP API."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine._assets import tasks_dir
from engine.config import DatasetConfig, HubDataset
from engine.datasets import DatasetError, DatasetFile, Sample
from engine.messages import ContentImage, ContentText
from tests.support.hub_fixtures import animals_repo, animals_rows, arc_repo
from tests.support.hub_server import HubServer

ARC_FIELDS = {"input": "question", "target": "answerKey", "choices": "choices.text"}


def serve(
    repos: dict[str, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[HubServer]:
    """`repos` on a local Hub that huggingface_hub is pointed at, with an empty cache."""
    with HubServer(repos) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        monkeypatch.delenv("HF_HUB_CACHE", raising=False)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        yield server


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    repos = {"allenai/ai2_arc": arc_repo(), "example/animals": animals_repo()}
    yield from serve(repos, monkeypatch, tmp_path)


def load(**config: Any) -> list[Sample]:
    return list(DatasetFile(DatasetConfig(**config), [], [tasks_dir()]))


def arc(**hub: Any) -> dict[str, Any]:
    return {"hub": HubDataset(path="allenai/ai2_arc", **hub), "fields": ARC_FIELDS}


def test_downloads_only_the_split_then_reads_the_cache_offline(hub: HubServer) -> None:
    first = load(**arc(name="ARC-Easy", split="test"))
    assert [s.id for s in first] == ["Mercury_7175875", "NYSEDREGENTS_2015_4_11"]
    assert (
        first[0].choices is not None
        and first[0].choices[2] == "Planetary days will become shorter."
    )
    assert first[0].target == "C"
    assert hub.downloads() == [
        "allenai/ai2_arc/README.md",  # the card, for its `configs:` (this one has none)
        "allenai/ai2_arc/ARC-Easy/test-00000-of-00001.parquet",
    ]
    paths = [r.path for r in hub.requests]
    assert "/api/datasets/allenai/ai2_arc/revision/main" in paths
    assert any(p.startswith("/api/datasets/allenai/ai2_arc/tree/") for p in paths)
    hub.stop()
    assert load(**arc(name="ARC-Easy", split="test")) == first  # offline, from the cache


def test_a_second_run_sends_no_request(hub: HubServer) -> None:
    load(**arc(name="ARC-Challenge"))
    before = len(hub.requests)
    assert [s.id for s in load(**arc(name="ARC-Challenge"))] == ["Mercury_SC_415702"]
    assert len(hub.requests) == before


def test_other_splits_and_configs_are_fetched_when_first_asked_for(hub: HubServer) -> None:
    load(**arc(name="ARC-Easy", split="test"))
    assert [s.id for s in load(**arc(name="ARC-Easy", split="train"))] == ["Mercury_7175875"]
    assert [s.id for s in load(**arc(name="ARC-Challenge"))] == ["Mercury_SC_415702"]
    assert hub.downloads()[2:] == [
        "allenai/ai2_arc/ARC-Easy/train-00000-of-00001.parquet",
        "allenai/ai2_arc/ARC-Challenge/test-00000-of-00001.parquet",
    ]


def test_data_files_choose_the_files(hub: HubServer) -> None:
    samples = load(**arc(data_files=["ARC-*/test-*.parquet"]))
    assert [s.id for s in samples] == [
        "Mercury_SC_415702",
        "Mercury_7175875",
        "NYSEDREGENTS_2015_4_11",
    ]


def test_the_token_is_sent_from_the_environment(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_fixture_token_123")
    load(**arc(name="ARC-Easy"))
    assert {r.headers.get("authorization") for r in hub.requests if "ai2_arc" in r.path} == {
        "Bearer hf_fixture_token_123"
    }


def test_a_hook_beside_the_task_turns_numeric_labels_into_letters(hub: HubServer) -> None:
    samples = load(
        hub=HubDataset(path="allenai/ai2_arc", name="ARC-Easy"), record_to_sample="arc/arc.py"
    )
    assert [(s.id, s.target) for s in samples] == [
        ("Mercury_7175875", "C"),
        ("NYSEDREGENTS_2015_4_11", "B"),
    ]
    assert samples[1].choices == ["the Moon", "the Sun", "Mars"]


@pytest.mark.parametrize(
    ("hub_args", "message"),
    [
        ({"path": "nobody/missing"}, "Hub dataset nobody/missing not found"),
        ({"path": "allenai/ai2_arc", "name": "ARC-Hard"}, "no data files .* match in Hub dataset"),
        ({"path": "allenai/ai2_arc", "revision": "v9"}, "not found|no revision 'v9'"),
    ],
)
def test_errors_name_the_dataset(hub: HubServer, hub_args: dict[str, Any], message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load(hub=HubDataset(**hub_args), fields=ARC_FIELDS)


def test_unreachable_hub_without_cache_is_a_clear_error(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.stop()
    with pytest.raises(DatasetError, match="cannot download Hub dataset allenai/ai2_arc"):
        load(**arc(name="ARC-Easy"))


def image_size(part: ContentImage) -> tuple[int, int]:
    from PIL import Image

    header, _, payload = part.image.partition(",")
    assert header == "data:image/png;base64"
    with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
        return image.size


def test_images_from_the_hub_become_resized_image_parts(hub: HubServer) -> None:
    samples = load(
        hub=HubDataset(path="example/animals"),
        fields={"input": "id", "target": "animals", "images": "images"},
    )
    first, second = samples
    assert not isinstance(first.input, str)
    (message,) = first.input
    assert message.role == "user"
    text, big, small = message.content
    assert text == ContentText("set-1")
    assert isinstance(big, ContentImage) and isinstance(small, ContentImage)
    assert image_size(big) == (1024, 512)  # the longer side scaled to 1024 px, aspect kept
    original = animals_rows()[0]["images"][1]["bytes"]
    assert small.image == "data:image/png;base64," + base64.b64encode(original).decode()
    assert not isinstance(second.input, str) and len(second.input[0].content) == 4
    assert (first.target, second.target) == ("1", "2")


def test_image_max_size_is_configurable(hub: HubServer) -> None:
    (first, _) = load(
        hub=HubDataset(path="example/animals"),
        fields={"input": "id", "images": "images"},
        image_max_size=256,
    )
    assert not isinstance(first.input, str)
    big = first.input[0].content[1]
    assert isinstance(big, ContentImage) and image_size(big) == (256, 128)


CARD = b"""---
license: mit
configs:
- config_name: easy
  data_files:
  - split: test
    path: "shards/easy/evaluation_*.jsonl"
  - split: train
    path: [shards/easy/training.jsonl]
- config_name: hard
  default: true
  data_dir: shards/hard
  data_files: {test: "eval.jsonl"}
---
# card
"""


@pytest.fixture
def carded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    """A repository laid out against the Hub's conventions: only its card says where splits are."""
    repo = {
        "README.md": CARD,
        "shards/easy/evaluation_0.jsonl": b'{"input": "e1"}\n',
        "shards/easy/evaluation_1.jsonl": b'{"input": "e2"}\n',
        "shards/easy/training.jsonl": b'{"input": "t1"}\n',
        "shards/hard/eval.jsonl": b'{"input": "h1"}\n',
        "shards/test-decoy.jsonl": b'{"input": "decoy"}\n',
    }
    yield from serve({"example/carded": repo}, monkeypatch, tmp_path)


def carded_inputs(**hub: Any) -> list[str | list[Any]]:
    return [s.input for s in load(hub=HubDataset(path="example/carded", **hub))]


def test_the_dataset_cards_configs_say_which_files_hold_a_split(carded: HubServer) -> None:
    assert carded_inputs(name="easy") == ["e1", "e2"]
    assert carded_inputs(name="easy", split="train") == ["t1"]
    assert carded_inputs() == ["h1"]  # the config marked `default: true`, under its data_dir
    assert "example/carded/shards/test-decoy.jsonl" not in carded.downloads()
    before = len(carded.requests)
    assert carded_inputs(name="easy") == ["e1", "e2"]
    assert len(carded.requests) == before  # the card and the data come from the cache


@pytest.mark.parametrize(
    ("hub_args", "message"),
    [
        ({"name": "medium"}, r"no config 'medium' \(its card lists: easy, hard\)"),
        ({"name": "hard", "split": "train"}, r"config 'hard' has no split 'train'.*lists: test"),
    ],
)
def test_a_config_or_split_the_card_lacks_is_named(
    carded: HubServer, hub_args: dict[str, Any], message: str
) -> None:
    with pytest.raises(DatasetError, match=message):
        carded_inputs(**hub_args)
