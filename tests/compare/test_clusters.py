"""A dataset field naming each sample's cluster clusters the comparison table's intervals and
tests, and reaches the log through the sample's metadata."""

from __future__ import annotations

from pathlib import Path

from engine.compare import compare, read_run
from engine.compare._stats import interval, mean_interval
from engine.config import DatasetFields
from engine.datasets._files import record_to_sample
from tests.gate.logs import ids, write_log

QUESTIONS = ids(20)
# Four passages of five questions; the model knows two passages and none of the other two.
TOPICS = {q: f"passage-{i // 5}" for i, q in enumerate(QUESTIONS)}
SCORES = {q: 1.0 if i < 10 else 0.0 for i, q in enumerate(QUESTIONS)}


def test_the_cluster_field_widens_the_interval(tmp_path: Path) -> None:
    meta = {q: {"topic": t} for q, t in TOPICS.items()}
    clustered = read_run(write_log(tmp_path, SCORES, metadata=meta, fields={"cluster": "topic"}))
    (row,) = compare([clustered]).rows
    values = list(SCORES.values())
    _, low, high = mean_interval(values, [TOPICS[q] for q in SCORES])
    assert (row.low, row.high, row.clusters) == (low, high, 4)
    plain_low, plain_high = interval(values)
    assert low < plain_low and high > plain_high
    assert "(4 clusters)" in compare([clustered]).to_text()


def test_the_paired_test_flips_whole_clusters(tmp_path: Path) -> None:
    meta = {q: {"topic": t} for q, t in TOPICS.items()}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    best = read_run(write_log(tmp_path / "a", {q: 1.0 for q in QUESTIONS}, model="openai/best",
                              metadata=meta, fields={"cluster": "topic"}))  # fmt: skip
    other = read_run(write_log(tmp_path / "b", SCORES, model="openai/other", metadata=meta,
                               fields={"cluster": "topic"}))  # fmt: skip
    row = compare([best, other]).rows[1]
    # Cluster sums of the differences: 0, 0, 5, 5. Only the two non-zero sums can flip: 4 sign
    # patterns, 2 as extreme → p = 0.5 (McNemar on the 10 pairs as if independent: 0.002).
    assert row.test == "cluster permutation" and row.p_value == 0.5


def test_the_cluster_and_human_grade_fields_join_the_metadata() -> None:
    fields = DatasetFields(metadata=["level"], cluster="info.passage", human_grade="human")
    record = {"input": "q", "target": "A", "level": 2, "info": {"passage": "p7"}, "human": "C"}
    sample = record_to_sample(record, fields, 1)
    assert sample.metadata == {"level": 2, "info.passage": "p7", "human": "C"}
