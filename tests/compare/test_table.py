"""The comparison table: paired tests and intervals on runs with several epochs per sample."""

from __future__ import annotations

import json
from pathlib import Path

from engine.compare import RunRecord, compare, interval, mcnemar_exact, paired_permutation
from tests.support.quiz import quiz_env, quiz_servers, write_quiz
from tests.test_cli import run_cli


def run(model: str, scores: dict[tuple[str, int], float]) -> RunRecord:
    return RunRecord(
        path=Path(f"{model}.json"),
        task="quiz",
        model=model,
        status="success",
        roles={},
        scorer="match",
        scores=scores,
        errors=0,
        latencies=[],
        usage={},
        duration=1.0,
        prices={},
    )


def epochs(right: dict[str, list[float]]) -> dict[tuple[str, int], float]:
    return {(sample, e + 1): v for sample, values in right.items() for e, v in enumerate(values)}


def test_epochs_of_a_sample_are_one_pair_not_several() -> None:
    # 16 samples, three epochs each, the best right and the other wrong on every one: 16 pairs
    # (p = 2 / 2**16), not 48 (which would claim p = 2 / 2**48).
    best = run("best", epochs({f"q{i}": [1.0] * 3 for i in range(16)}))
    weak = run("weak", epochs({f"q{i}": [0.0] * 3 for i in range(16)}))
    rows = compare([weak, best]).rows
    assert [r.model for r in rows] == ["best", "weak"]
    assert rows[1].shared == 16 and rows[1].test == "mcnemar"
    assert rows[1].p_value == mcnemar_exact(16, 0)


def test_epochs_that_disagree_make_the_test_a_permutation_test() -> None:
    # Per-sample means 2/3 and 1/3 are not right/wrong: McNemar does not apply.
    best = run("best", epochs({"a": [1, 1, 0], "b": [1, 1, 1], "c": [1, 0, 1], "d": [1, 1, 1]}))
    other = run("other", epochs({"a": [1, 0, 0], "b": [0, 0, 0], "c": [0, 0, 1], "d": [1, 1, 1]}))
    row = compare([best, other]).rows[1]
    assert row.shared == 4 and row.test == "permutation"
    assert row.p_value == paired_permutation([1 / 3, 1.0, 1 / 3, 0.0])
    assert row.p_value == 2 / 8  # three non-zero differences, 8 sign flips, 2 as extreme


def test_the_interval_counts_samples_not_epochs() -> None:
    # 9 of 10 samples right on all three epochs: the interval of 10 answers, not of 30.
    scores = epochs({f"q{i}": [1.0 if i else 0.0] * 3 for i in range(10)})
    row = compare([run("m", scores)]).rows[0]
    assert row.score == 0.9
    assert (row.low, row.high) == interval([1.0] * 9 + [0.0])


def test_a_sweep_with_epochs_and_several_reducers(tmp_path: Path) -> None:
    # Six questions, two epochs, two reducers (scores named match_mean and match_pass_at_2, samples
    # scored under match): best is right on q05 and q06, weak on none.
    write_quiz(tmp_path)
    with quiz_servers() as servers:
        done = run_cli(
            "-m", "task=quiz", "model=openai-api/fast/best,openai-api/slow/weak", "limit=6",
            "epochs=2", "epochs_reducer=[mean,pass_at_2]", "display=none",
            "hydra.sweep.dir=logs/s", cwd=tmp_path, env=quiz_env(servers),
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    best, weak = json.loads((tmp_path / "logs" / "s" / "comparison.json").read_text())
    assert (best["score"], best["samples"], weak["score"], weak["samples"]) == (2 / 6, 12, 0.0, 12)
    assert weak["shared"] == 6 and weak["test"] == "mcnemar"
    assert weak["p_value"] == mcnemar_exact(2, 0)
