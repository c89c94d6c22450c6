"""Grader reliability from logs: a panel's κ, agreement with people's grades, self-agreement,
and the gate checks on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import cli
from engine.compare import read_run
from engine.compare._stats import wilson
from engine.gate import reliability
from tests.gate.logs import ids, write_log

QUESTIONS = ids(10)
# g1 says C on q01–q06, g2 on q01–q05 and q07: both C 5, only g1 1, only g2 1, both I 3.
G1 = {q: "C" if i < 6 else "I" for i, q in enumerate(QUESTIONS)}
G2 = {q: "C" if i < 5 or i == 6 else "I" for i, q in enumerate(QUESTIONS)}
# pₒ = 8/10; both graders say C on 6 of 10, so pₑ = 0.6² + 0.4² = 0.52; κ = 0.28 / 0.48.
KAPPA = (0.8 - 0.52) / 0.48


def panel_log(folder: Path, **kwargs: object) -> Path:
    votes = {q: [G1[q], G2[q]] for q in QUESTIONS}
    scores = {q: 1.0 if G1[q] == G2[q] == "C" else 0.0 for q in QUESTIONS}  # ties go to I
    return write_log(folder, scores, votes=votes, **kwargs)  # type: ignore[arg-type]


def test_a_two_grader_panel_reports_cohen_and_fleiss_kappa(tmp_path: Path) -> None:
    found = reliability(read_run(panel_log(tmp_path)))
    assert found.graders == ["openai/g1", "openai/g2"]
    pair = found.pairs[("openai/g1", "openai/g2")]
    assert pair.value == pytest.approx(KAPPA) and pair.n == 10
    assert pair.low < KAPPA < pair.high
    # Equal marginals: Fleiss' κ (Scott's π for two raters) equals Cohen's κ here.
    assert found.panel is not None and found.panel.value == pytest.approx(KAPPA)
    assert found.panel.low < KAPPA < found.panel.high


def test_the_same_model_twice_on_a_panel_is_told_apart(tmp_path: Path) -> None:
    log = panel_log(tmp_path, graders=("openai/g", "openai/g"))
    assert reliability(read_run(log)).graders == ["openai/g #1", "openai/g #2"]


def test_agreement_with_people_gives_kappa_tpr_and_tnr(tmp_path: Path) -> None:
    # The grader's score against a person's grade on 10 samples: people say C on q01–q05;
    # the grader says C on q01–q04 and q06 → TP 4, FN 1, FP 1, TN 4.
    scores = {q: 1.0 if i < 4 or i == 5 else 0.0 for i, q in enumerate(QUESTIONS)}
    people = {q: {"human": "C" if i < 5 else "I"} for i, q in enumerate(QUESTIONS)}
    log = write_log(tmp_path, scores, metadata=people, fields={"human_grade": "human"})
    found = reliability(read_run(log))
    assert found.human_agreement is not None and found.human_agreement.value == 0.8
    assert (found.human_agreement.low, found.human_agreement.high) == wilson(8, 10)
    assert found.human_kappa is not None and found.human_kappa.value == pytest.approx(0.6)
    assert found.tpr is not None and (found.tpr.value, found.tpr.n) == (0.8, 5)
    assert found.tnr is not None and (found.tnr.value, found.tnr.n) == (0.8, 5)
    assert (found.tpr.low, found.tpr.high) == wilson(4, 5)


def test_self_agreement_counts_epochs_that_gave_the_same_answer(tmp_path: Path) -> None:
    # Two epochs each; q01–q03 the same answer twice (q03 graded differently), q04 two answers.
    scores = {"q01": [1.0, 1.0], "q02": [0.0, 0.0], "q03": [1.0, 0.0], "q04": [1.0, 0.0]}
    answers = {"q01": ["A", "A"], "q02": ["B", "B"], "q03": ["A", "A"], "q04": ["A", "B"]}
    found = reliability(read_run(write_log(tmp_path, scores, answers=answers)))
    assert found.self_agreement is not None
    assert (found.self_agreement.value, found.self_agreement.n) == (2 / 3, 3)


def test_grader_checks_gate_on_reliability(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    panel_log(tmp_path / "pr")
    assert cli(["gate", "pr", "gate.checks=['grader.kappa >= 0.5']", "--markdown", "g.md"]) == 0
    assert cli(["gate", "pr", "gate.checks=['quiz.grader.min_pair_kappa >= 0.6']"]) == 1
    assert f"min_pair_kappa = {KAPPA:.4g} [" in capsys.readouterr().out
    markdown = Path("g.md").read_text()
    assert "### Grader reliability" in markdown
    assert f"Cohen's κ openai/g1 vs openai/g2 | {KAPPA:.3f} [" in markdown
