import dataclasses
import json
import math
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from inspect_ai.log import read_eval_log
from pydantic_core import to_json

from engine.logs import LogWriter, config_hash, eval_reductions
from engine.logs._provenance import _strip_credentials, git_revision
from engine.logs._writer import _dumps, _json_dumps, _loads, batched_text, reductions_json

HEADER = {
    "eval": {
        "created": "2026-01-01T00:00:00+00:00",
        "task": "t",
        "dataset": {"name": "t"},
        "model": "openai/m",
        "config": {},
    },
    "plan": {"name": "plan", "steps": []},
}


def sample(index: int) -> dict[str, object]:
    return {
        "id": index,
        "epoch": 1,
        "input": f"q{index}",
        "target": "a",
        "messages": [],
        "output": {"model": "m", "choices": []},
        "scores": {"match": {"value": "C"}},
    }


def test_started_log_then_final_log_streamed_from_journal(tmp_path: Path) -> None:
    writer = LogWriter(tmp_path / "run" / "log.json", HEADER)
    writer.start()
    assert json.loads(writer.path.read_text())["status"] == "started"
    for index in range(3):
        writer.write_sample(sample(index))
    # Each sample is on disk as soon as it is written.
    assert len(writer.journal_path.read_text().splitlines()) == 3
    writer.finish("success", {"total_samples": 3, "completed_samples": 3, "scores": []}, {})
    assert not writer.journal_path.exists()
    log = read_eval_log(str(writer.path))
    assert log.status == "success"
    assert log.samples is not None and [s.id for s in log.samples] == [0, 1, 2]


def test_a_torn_last_journal_line_is_not_a_sample(tmp_path: Path) -> None:
    writer = LogWriter(tmp_path / "log.json", HEADER)
    writer.start()
    writer.write_sample(sample(1))
    with writer.journal_path.open("a") as journal:
        journal.write('{"id": 2, "epo')
    writer.finish("cancelled", None, {})
    data = json.loads(writer.path.read_text())
    assert data["status"] == "cancelled"
    assert [s["id"] for s in data["samples"]] == [1]


REDUCED = [("match", "mean", [("q1", 1.0), ("ü-2", 0.5), (3, 0.0)]), ("f1", "max", [])]


def test_reductions_are_streamed_as_the_json_of_the_whole_list() -> None:
    """Each record's samples are read once, as written: the text is what `json.dumps` makes of
    the list of dicts, so the log is the same as when they were all held."""
    whole = [
        {
            "scorer": scorer,
            "reducer": reducer,
            "samples": [{"value": v, "sample_id": i} for i, v in s],
        }
        for scorer, reducer, s in REDUCED
    ]
    expected = json.dumps(whole, ensure_ascii=False, separators=(",", ":"))
    assert "".join(reductions_json(eval_reductions(REDUCED))) == expected
    assert "".join(reductions_json([])) == "[]"
    pieces = ["x" * 40_000, "y", "z" * 30_000, "w"]
    assert [len(t) for t in batched_text(pieces, size=40_000)] == [40_000, 30_001 + 1]


def test_a_json_log_writes_the_streamed_reductions_before_its_samples(tmp_path: Path) -> None:
    writer = LogWriter(tmp_path / "log.json", HEADER)
    writer.start()
    writer.write_sample(sample(1))
    writer.finish("success", None, {}, reductions=eval_reductions(REDUCED))
    text = writer.path.read_text(encoding="utf-8")
    assert '"reductions":[{"scorer":"match"' in text and text.index("reductions") < text.index(
        '"samples":[{"id":1'
    )
    log = read_eval_log(str(writer.path))
    assert log.reductions is not None
    assert [(s.sample_id, s.value) for s in log.reductions[0].samples] == [
        ("q1", 1.0),
        ("ü-2", 0.5),
        (3, 0.0),
    ]
    assert log.reductions[1].reducer == "max" and log.reductions[1].samples == []


def test_config_hash_is_stable_and_order_free() -> None:
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_git_revision_reports_commit_and_dirty(tmp_path: Path) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    assert git_revision(tmp_path) is None
    git("init", "-q")
    git("remote", "add", "origin", "https://user:ghp_token123@github.com/team/evals.git")
    (tmp_path / "f.yaml").write_text("a: 1\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    clean = git_revision(tmp_path)
    assert clean is not None and clean["dirty"] is False and len(clean["commit"]) == 40
    assert clean["origin"] == "https://github.com/team/evals.git"
    (tmp_path / "f.yaml").write_text("a: 2\n")
    dirty = git_revision(tmp_path)
    assert dirty is not None and dirty["dirty"] is True


def test_credentials_are_stripped_from_remote_urls() -> None:
    assert _strip_credentials("https://x:tok@host/r.git") == "https://host/r.git"
    assert _strip_credentials("git@github.com:team/r.git") == "git@github.com:team/r.git"


JSON_TREES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON_TREES)
def test_a_record_reads_back_as_the_standard_librarys_json_of_it(tree: object) -> None:
    assert json.loads(_dumps(tree)) == json.loads(_json_dumps(tree))


def test_floats_are_written_as_inspect_writes_them() -> None:
    """Shortest form, as pydantic's `to_json` (Inspect's log writer): not `json`'s `5.2e-05`."""
    record = {"working_start": 5.2e-05, "time": 0.008212, "big": 1e20, "one": 1.0, "n": 3}
    assert (
        _dumps(record) == '{"working_start":0.000052,"time":0.008212,"big":1e+20,"one":1.0,"n":3}'
    )
    assert _dumps(record) == to_json(record).decode()


@dataclasses.dataclass
class _Point:
    x: int


class _Float(float):
    """As numpy's `float64`: a float subclass, which orjson does not write itself."""


def test_what_orjson_would_write_otherwise_is_written_by_the_standard_library() -> None:
    """NaN and infinities stay `NaN`/`Infinity` (orjson would write `null`); ints beyond 64 bits,
    keys that are not strings, lone surrogates, deep nesting, dataclasses, datetimes and float
    subclasses (numpy's `float64`) are written as `json.dumps(…, default=str)` writes them."""
    moment = datetime(2026, 12, 4, 9, 52, 21, tzinfo=timezone.utc)
    deep: object = "end"
    for _ in range(300):
        deep = [deep]
    for value in (
        {"value": math.nan, "low": -math.inf, "high": math.inf},
        {"id": 2**70},
        {1: "a", None: "b"},
        {"text": "half \ud800 a pair"},
        deep,
        {"at": moment, "point": _Point(1)},
        {"value": _Float(0.5), "scores": [_Float(1.0), _Float(math.nan)]},
    ):
        assert _dumps(value) == _json_dumps(value)
    assert _dumps({"value": math.nan}) == '{"value":NaN}'
    assert _dumps({"at": moment}) == '{"at":"2026-12-04 09:52:21+00:00"}'
    assert _dumps({"value": _Float(0.5)}) == '{"value":0.5}'  # a number, not "0.5"


def test_a_line_reads_back_whatever_the_standard_library_reads() -> None:
    """orjson reads most lines; `NaN`, `Infinity` and big ints (which it refuses) are still read,
    and text that is no JSON still raises `json`'s error."""
    line = '{"value":NaN,"high":Infinity,"id":1180591620717411303424,"ok":[1,"a",null]}'
    read = _loads(line)
    assert math.isnan(read["value"]) and read["high"] == math.inf
    assert read["id"] == 2**70 and read["ok"] == [1, "a", None]
    assert _loads('{"a":0.000052}') == {"a": 5.2e-05}
    with pytest.raises(json.JSONDecodeError):
        _loads('{"torn": ')
