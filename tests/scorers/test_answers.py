"""The answer-reading scorers against tables of cases (Inspect AI 0.3.285's values), awkward ones
included; `test_differential.py` checks thousands more against inspect_ai itself."""

from __future__ import annotations

from typing import Any

import pytest

from engine.registry import RegistryError
from engine.scorers import (
    CORRECT,
    INCORRECT,
    NOANSWER,
    answer,
    choice,
    exact,
    f1,
    f1_score,
    pattern,
    scorers,
)
from engine.solvers import answer_letters
from tests.scorers.test_builtins import answered, score

EXACT_CASES: list[tuple[str, str | list[str], bool]] = [
    ("Paris", "Paris", True),
    ("  the paris.\n", "Paris", True),  # SQuAD: case, punctuation, articles
    ("Paris, France", "Paris", False),
    ("well-known", "well known", True),  # hyphens split words
    ("1e3", "1000", True),  # numbers written one way
    ("(3.14)", "3.14", True),
    ("Lyon", ["Paris", "Lyon"], True),
    ("anything", ["the", "-"], False),  # a target with no words matches nothing
]


@pytest.mark.parametrize(("completion", "target", "correct"), EXACT_CASES)
def test_exact(completion: str, target: str | list[str], correct: bool) -> None:
    result = score(exact(), answered(completion, target))
    assert result.value == (CORRECT if correct else INCORRECT)
    assert result.explanation is not None and result.explanation.startswith("normalised the reply")


PATTERN_CASES: list[tuple[dict[str, Any], str, str | list[str], bool, str | None]] = [
    # (arguments, completion, target, correct?, recorded answer)
    ({"pattern": r"answer is (\w+)"}, "The answer is Paris.", "paris", True, "Paris"),
    ({"pattern": r"answer is (\w+)"}, "The answer is Lyon.", "Paris", False, "Lyon"),
    (
        {"pattern": r"answer is (\w+)"},
        "answer is Lyon... no, answer is Paris",
        "Paris",
        False,
        "Lyon",
    ),
    ({"pattern": r"(\d*)"}, "no digits", "", False, ""),  # an empty capture reads nothing
    ({"pattern": r"(\w+) and (\w+)"}, "Paris and Lyon", "Lyon", True, "Lyon"),
    ({"pattern": r"(\w+) and (\w+)", "match_all": True}, "Paris and Lyon", "Lyon", False, None),
    ({"pattern": r"total: (\S+)"}, "total: $1,000", "1000", False, "$1,000"),  # text, as written
]


@pytest.mark.parametrize(("args", "completion", "target", "correct", "found"), PATTERN_CASES)
def test_pattern(
    args: dict[str, Any], completion: str, target: str | list[str], correct: bool, found: str | None
) -> None:
    result = score(pattern(**args), answered(completion, target))
    assert (result.value, result.answer) == (CORRECT if correct else INCORRECT, found)


def test_pattern_not_found_says_so() -> None:
    result = score(pattern(r"ANSWER: (\w+)"), answered("No idea.", "Paris"))
    assert result.value == INCORRECT
    regex = r"ANSWER: (\w+)"
    expected = f"pattern {regex!r} not found in the reply: 'No idea.'"
    assert result.explanation == expected


ANSWER_CASES: list[tuple[str, str, str, bool]] = [
    ("line", "ANSWER: Paris", "Paris", True),
    ("line", "ANSWER: Paris, obviously", "Paris", False),
    ("line", "ANSWER: Lyon\nANSWER: Paris", "Paris", True),
    ("word", "ANSWER: Paris.", "Paris", True),
    ("word", "ANSWER: Paris ANSWER: Lyon", "Lyon", True),  # the last ANSWER: on a line wins
    ("word", "ANSWER: Paris is it", "Paris", False),  # the word must end the line
    ("letter", "ANSWER: B", "B", True),
    ("letter", "ANSWER: Berlin", "B", False),  # a word is not its first letter
    ("letter", "ANSWER: AB", "A", False),
    ("letter", "ANSWER: (B) because", "B", False),
    ("letter", "ANSWER: A\nANSWER: C", "C", True),
]


@pytest.mark.parametrize(("kind", "completion", "target", "correct"), ANSWER_CASES)
def test_answer(kind: Any, completion: str, target: str, correct: bool) -> None:
    result = score(answer(kind), answered(completion, target))
    assert result.value == (CORRECT if correct else INCORRECT)


CHOICE_CASES: list[tuple[str, str | list[str], bool, str]] = [
    # (reply, target, multiple_correct, value)
    ("ANSWER: B", "B", False, CORRECT),
    ("ANSWER: b", "B", False, CORRECT),
    ("I think A.\nANSWER: B", "B", False, CORRECT),
    ("The answer is ANSWER: C.", "C", False, CORRECT),  # not at a line start
    ("ANSWER: C because it fits", "C", False, INCORRECT),  # as Inspect: the words are read too
    ("Step by step...\nTherefore **ANSWER: C**", "C", False, CORRECT),
    ("ANSWER: A, C", "A,C", True, CORRECT),
    ("ANSWER: A, C", "A, C", True, CORRECT),
    ("ANSWER: AC", "AC", True, CORRECT),  # a run of letters
    ("ANSWER: A C", "C,A", True, CORRECT),  # space-separated letters
    ("ANSWER: A and C", ["A, C"], True, CORRECT),
    ("ANSWER: A, Z", "A", True, INCORRECT),  # an invalid letter counts against the reply
    ("ANSWER: A", "A,C", True, INCORRECT),
    ("", "B", False, NOANSWER),  # no reply: no answer
    ("B", "B", False, INCORRECT),  # no ANSWER: the format was not followed
]


@pytest.mark.parametrize(("completion", "target", "multiple", "value"), CHOICE_CASES)
def test_choice(completion: str, target: str | list[str], multiple: bool, value: str) -> None:
    state = answered(completion, target, choices=["Lyon", "Paris", "Nice", "Lille"])
    state.selected_choices = answer_letters(completion, 4, multiple)
    result = score(choice(), state)
    assert result.value == value
    assert result.explanation is not None and "the target is" in result.explanation


def test_choice_past_26_choices_uses_numbers() -> None:
    choices = [f"option {i}" for i in range(30)]
    state = answered("ANSWER: 2", "2", choices=choices)
    state.selected_choices = answer_letters("ANSWER: 2", 30)
    assert state.selected_choices == ["2"]
    assert score(choice(), state).value == CORRECT


def test_a_target_beyond_the_choices_fails_the_sample() -> None:
    state = answered("ANSWER: A", "E", choices=["Lyon", "Paris"])
    state.selected_choices = ["A"]
    with pytest.raises(ValueError, match="beyond the sample's 2 choices"):
        score(choice(), state)


F1_CASES: list[tuple[str, str | list[str], dict[str, Any], float]] = [
    ("Paris", "Paris", {}, 1.0),
    ("the Paris!", "paris", {}, 1.0),
    ("Paris France", "Paris", {}, 0.67),  # rounded to 2 decimals, as Inspect
    ("Lyon", "Paris", {}, 0.0),
    ("", "Paris", {}, 0.0),
    ("Paris", ["Lyon", "in Paris"], {}, 0.67),
    ("Paris is the capital", "Paris", {"stop_words": ["is", "capital"]}, 1.0),
    ("Paris", [], {}, 0.0),
]


@pytest.mark.parametrize(("completion", "target", "args", "expected"), F1_CASES)
def test_f1(
    completion: str, target: str | list[str], args: dict[str, Any], expected: float
) -> None:
    assert score(f1(**args), answered(completion, target)).value == expected


def test_f1_of_two_empty_texts_is_one() -> None:
    assert f1_score("", "") == 1.0


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
