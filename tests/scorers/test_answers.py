"""The answer-reading scorers against tables of cases, awkward ones included."""

from __future__ import annotations

from typing import Any

import pytest

from engine.registry import RegistryError
from engine.scorers import CORRECT, INCORRECT, answer, choice, exact, f1, f1_score, pattern, scorers
from tests.scorers.test_builtins import answered, score

EXACT_CASES: list[tuple[dict[str, Any], str, str | list[str], bool]] = [
    ({}, "Paris", "Paris", True),
    ({}, "  paris.\n", "Paris", True),
    ({}, "PARIS!", "paris", True),
    ({}, "Paris, France", "Paris", False),
    ({}, "The answer is Paris", "Paris", False),
    ({}, "1,000", "1000", True),
    ({}, "$1000", "1000", True),
    ({}, "1000.0", "1,000", True),
    ({}, "1000 dollars", "1000", False),
    ({}, "Lyon", ["Paris", "Lyon"], True),
    ({"ignore_case": False}, "paris", "Paris", False),
]


@pytest.mark.parametrize(("args", "completion", "target", "correct"), EXACT_CASES)
def test_exact(
    args: dict[str, Any], completion: str, target: str | list[str], correct: bool
) -> None:
    assert score(exact(**args), answered(completion, target)).value == (
        CORRECT if correct else INCORRECT
    )


PATTERN_CASES: list[tuple[dict[str, Any], str, str | list[str], bool, str]] = [
    # (arguments, completion, target, correct?, recorded answer)
    ({"pattern": r"answer is (\w+)"}, "The answer is Paris.", "paris", True, "Paris"),
    ({"pattern": r"answer is (\w+)"}, "The answer is Lyon.", "Paris", False, "Lyon"),
    ({"pattern": r"answer is (\w+)"}, "No idea.", "Paris", False, ""),
    (
        {"pattern": r"answer is (\w+)"},
        "answer is Lyon... no, answer is Paris",
        "Paris",
        True,
        "Paris",
    ),
    ({"pattern": r"ANSWER is (\w+)", "ignore_case": False}, "answer is Paris", "Paris", False, ""),
    ({"pattern": r"total: ([\d,.$]+)"}, "total: $1,000", "1000", True, "$1,000"),
    ({"pattern": r"(\w+) and (\w+)"}, "Paris and Lyon", "Lyon", True, "Paris, Lyon"),
    (
        {"pattern": r"(\w+) and (\w+)", "match_all": True},
        "Paris and Lyon",
        "Lyon",
        False,
        "Paris, Lyon",
    ),
    (
        {"pattern": r"(\w+) and (\w+)", "match_all": True},
        "Lyon and lyon",
        "Lyon",
        True,
        "Lyon, lyon",
    ),
    ({"pattern": r"Paris"}, "It is Paris", "Paris", True, "Paris"),
]


@pytest.mark.parametrize(("args", "completion", "target", "correct", "found"), PATTERN_CASES)
def test_pattern(
    args: dict[str, Any], completion: str, target: str | list[str], correct: bool, found: str
) -> None:
    result = score(pattern(**args), answered(completion, target))
    assert (result.value, result.answer) == (CORRECT if correct else INCORRECT, found)


def test_pattern_not_found_says_so() -> None:
    result = score(pattern(r"answer is (\w+)"), answered("no idea", "Paris"))
    assert result.explanation == "pattern not found in the reply"


ANSWER_CASES: list[tuple[dict[str, Any], str, str | list[str], bool, str]] = [
    ({}, "Let me think.\nANSWER: Paris", "Paris", True, "Paris"),
    ({}, "ANSWER:   paris.  ", "Paris", True, "paris."),
    ({}, "answer: Paris", "Paris", True, "Paris"),
    ({}, "ANSWER: Lyon\nWait, no.\nANSWER: Paris", "Paris", True, "Paris"),  # the last line wins
    ({}, "ANSWER: Paris\nOn reflection:\nANSWER: Lyon", "Paris", False, "Lyon"),
    ({}, "Paris", "Paris", False, ""),  # no ANSWER line
    ({}, "ANSWER: 1,000", "1000", True, "1,000"),
    ({}, "ANSWER: $1000.00", "1,000", True, "$1000.00"),
    ({}, "ANSWER: New York City", "new york city", True, "New York City"),
    ({"pattern": "word"}, "ANSWER: Paris, obviously", "Paris", True, "Paris,"),
    ({"pattern": "word"}, "ANSWER:", "Paris", False, ""),
    ({"pattern": "letter"}, "ANSWER: (B) because", "B", True, "B"),
    ({"pattern": "letter"}, "ANSWER: c", "C", True, "c"),
    ({"pattern": "letter", "ignore_case": False}, "ANSWER: c", "C", False, "c"),
]


@pytest.mark.parametrize(("args", "completion", "target", "correct", "found"), ANSWER_CASES)
def test_answer(
    args: dict[str, Any], completion: str, target: str | list[str], correct: bool, found: str
) -> None:
    result = score(answer(**args), answered(completion, target))
    assert (result.value, result.answer) == (CORRECT if correct else INCORRECT, found)


CHOICE_CASES: list[tuple[str, str | list[str], bool, str]] = [
    # (completion, target, correct?, letters read)
    ("ANSWER: B", "B", True, "B"),
    ("ANSWER: b", "B", True, "B"),
    ("**ANSWER:** (B)", "B", True, "B"),
    ("ANSWER: A", "B", False, "A"),
    ("I think A.\nANSWER: B", "B", True, "B"),
    ("ANSWER: A\nANSWER: C", "C", True, "C"),  # the last ANSWER line wins
    ("B) Paris", "B", True, "B"),
    ("(C)", "C", True, "C"),
    ("ANSWER: E", "B", False, ""),  # not one of the four choices
    ("ANSWER: A, C", ["A", "C"], True, "A, C"),
    ("ANSWER: A", ["A", "C"], False, "A"),
    ("ANSWER: A, B, C", ["A", "C"], False, "A, B, C"),
    ("Paris", "B", False, ""),
    ("", "B", False, ""),
]


@pytest.mark.parametrize(("completion", "target", "correct", "letters"), CHOICE_CASES)
def test_choice(completion: str, target: str | list[str], correct: bool, letters: str) -> None:
    state = answered(completion, target, choices=["Lyon", "Paris", "Nice", "Lille"])
    result = score(choice(), state)
    assert (result.value, result.answer) == (CORRECT if correct else INCORRECT, letters)


def test_a_target_that_is_not_a_choice_letter_is_explained() -> None:
    state = answered("ANSWER: B", "Paris", choices=["Lyon", "Paris", "Nice", "Lille"])
    result = score(choice(), state)
    assert result.value == INCORRECT
    assert result.explanation == (
        "target 'Paris' is not a choice letter (A-D); map targets to letters in the dataset"
    )


def test_choice_uses_the_letters_multiple_choice_read() -> None:
    state = answered("ANSWER: A", "B", choices=["Lyon", "Paris"])
    state.selected_choices = ["B"]  # the model saw the choices shuffled: its A was our B
    assert score(choice(), state).value == CORRECT


F1_CASES: list[tuple[str, str | list[str], float]] = [
    ("Paris", "Paris", 1.0),
    ("the Paris!", "paris", 1.0),  # articles, punctuation and case do not count
    ("Paris France", "Paris", 2 * (0.5 * 1.0) / 1.5),
    ("Lyon", "Paris", 0.0),
    ("", "Paris", 0.0),
    ("Paris", ["Lyon", "in Paris"], 2 * (1.0 * 0.5) / 1.5),  # the best target
    ("New York City", "new york", 2 * (2 / 3 * 1.0) / (2 / 3 + 1.0)),
    ("Paris", [], 0.0),  # a record with an empty target list: no overlap, not an error
]


@pytest.mark.parametrize(("completion", "target", "expected"), F1_CASES)
def test_f1(completion: str, target: str | list[str], expected: float) -> None:
    assert score(f1(), answered(completion, target)).value == pytest.approx(expected, abs=1e-6)


def test_f1_of_two_empty_texts_is_one() -> None:
    assert f1_score("", "") == 1.0
    assert f1_score("the", "a") == 1.0  # both only articles


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"pattern": {"pattern": "("}}, "pattern '\\(' is not a valid regex"),
        ({"answer": {"pattern": "number"}}, "pattern must be one of letter, word, line"),
        ({"pattern": {}}, r"missing required argument 'pattern' \(str\)"),
    ],
)
def test_bad_arguments_fail_at_planning(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        scorers.create(spec)


def test_all_scorers_are_registered() -> None:
    assert set(scorers.names()) >= {
        "match",
        "includes",
        "exact",
        "pattern",
        "answer",
        "choice",
        "f1",
        "model_graded_qa",
        "model_graded_fact",
    }
