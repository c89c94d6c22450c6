"""Differential test: inspect_ai 0.3.285 and inspect-run score the same generated cases alike.

Each case is (scorer, parameters, reply, targets[, choices]). inspect_ai scores it in process with
its own scorers; we score it with ours. Every disagreement must belong to a documented difference:
one named predicate below per row of the README's "Differences from Inspect AI" table. An
undocumented difference fails the test, and a README row that no case exercises fails it too.
Counts of cases per scorer are printed at the end of the session (see `conftest.py`).
"""

from __future__ import annotations

import math
import random
import re
import string
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from inspect_ai import scorer as inspect_scorers
from inspect_ai.model import ModelName, ModelOutput
from inspect_ai.scorer import Target
from inspect_ai.scorer._common import normalize_number
from inspect_ai.scorer._model import _model_graded_qa_single
from inspect_ai.solver import TaskState as InspectState
from inspect_ai.solver._multiple_choice import (
    parse_answers,
    set_choices_based_on_generated_response,
)

from engine.datasets import Sample
from engine.messages import Choice, assistant
from engine.messages import ModelOutput as OurOutput
from engine.scorers import read_number, scorers
from engine.scorers._builtins import strip_punctuation
from engine.scorers._model_graded import read_grade
from engine.scorers._numbers import strip_numeric_punctuation
from engine.solvers import TaskState, answer_letters

CASES: Counter[str] = Counter()
"""Cases compared per scorer (printed by conftest's terminal summary)."""
FIRED: Counter[str] = Counter()
"""Cases explained by each documented difference."""

T = TypeVar("T")


class Draw:
    """The grammars' seeded choices: each test compares the same cases on every run, and a failure
    names its whole case. (Hypothesis drew these before, at five times the test's own cost per
    case, for a shrinking that cases of a few choices from fixed lists do not need.)"""

    def __init__(self, seed: str) -> None:
        self._random = random.Random(seed)

    def pick(self, options: Sequence[T]) -> T:
        return self._random.choice(options)

    def coin(self) -> bool:
        return self._random.random() < 0.5

    def integer(self, low: int, high: int) -> int:
        """Now and then an end of the range or a small value, as those are where parsers slip."""
        roll = self._random.random()
        if roll < 0.1:
            return self.pick([low, high])
        if roll < 0.3:
            return self._random.randint(low, min(high, low + 12))
        return self._random.randint(low, high)

    def some(self, options: Sequence[T], low: int, high: int) -> list[T]:
        return [self.pick(options) for _ in range(self._random.randint(low, high))]


@dataclass
class Case:
    scorer: str
    params: dict[str, Any]
    reply: str
    targets: list[str]
    choices: list[str] = field(default_factory=list)


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that awaits nothing (both sides' text scorers) without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("the scorer awaited something")  # pragma: no cover


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (ValueError, TypeError) as error:
        return f"error: {type(error).__name__}"


def inspect_value(case: Case) -> Any:
    state = InspectState(
        ModelName("mockllm/model"),
        1,
        1,
        "question",
        [],
        Target(case.targets),
        choices=case.choices or None,
        output=ModelOutput.from_content("mockllm/model", case.reply),
    )
    params = dict(case.params)
    if case.scorer == "choice":
        multiple = params.pop("multiple_correct")
        answers = parse_answers(state, multiple)
        if answers:
            set_choices_based_on_generated_response(state, answers)
    if case.scorer == "answer":
        params.pop("ignore_case", None)
    scorer = getattr(inspect_scorers, case.scorer)(**params)
    return _outcome(lambda: _run(scorer(state, Target(case.targets))).value)


def our_value(case: Case) -> Any:
    sample = Sample("question", case.targets, choices=case.choices or None)
    state = TaskState.start(sample, 1, None, {})
    state.output = OurOutput("model", [Choice(assistant(case.reply))])
    params = dict(case.params)
    if case.scorer == "choice":
        multiple = params.pop("multiple_correct")
        state.selected_choices = answer_letters(case.reply, len(case.choices), multiple)
    _, _, scorer = scorers.create({case.scorer: params})
    return _outcome(lambda: _run(scorer(state)).value)


# ── documented differences: one predicate per README row ─────────────────────────────────────────


def _match_parts(case: Case) -> tuple[str, list[str]]:
    ignore_case = case.params.get("ignore_case", True)
    reply = case.reply.strip()
    targets = [t.strip() for t in case.targets]
    if ignore_case:
        reply, targets = reply.casefold(), [t.casefold() for t in targets]
    return reply, targets


def _numeric_target(case: Case, target: str) -> bool:
    return bool(case.params.get("numeric")) and (
        read_number(strip_numeric_punctuation(target)) is not None
    )


def match_word_boundary(case: Case, inspect: Any, ours: Any) -> bool:
    """`match` (text): the target occurs only glued to a longer word or number ("4" in "14")."""
    if case.scorer != "match" or (inspect, ours) != ("C", "I"):
        return False
    reply, targets = _match_parts(case)
    reply = strip_punctuation(reply)
    for target in targets:
        if _numeric_target(case, target):
            continue
        wanted = strip_punctuation(target)
        if wanted and wanted in reply:
            return True
    return False


def match_empty_target(case: Case, inspect: Any, ours: Any) -> bool:
    """`match`: a target that is empty after trimming punctuation ("", ".") matches every reply."""
    if case.scorer != "match" or (inspect, ours) != ("C", "I"):
        return False
    _, targets = _match_parts(case)
    return any(not strip_punctuation(t) and not _numeric_target(case, t) for t in targets)


def includes_empty_target(case: Case, inspect: Any, ours: Any) -> bool:
    """`includes`: an empty or whitespace target is in every reply."""
    return (
        case.scorer == "includes"
        and (inspect, ours) == ("C", "I")
        and any(not t.strip() for t in case.targets)
    )


def match_numeric_exact_value(case: Case, inspect: Any, ours: Any) -> bool:
    """`match` numeric: numbers equal to 5 significant digits but not in value (3.14159 vs 3.1416),
    or -0 vs 0, which Inspect's 5-digit strings tell apart."""
    if case.scorer != "match" or not case.params.get("numeric") or inspect == ours:
        return False
    reply, targets = _match_parts(case)
    words = re.split(r"\s+", strip_numeric_punctuation(reply))
    for target in targets:
        number = read_number(strip_numeric_punctuation(target))
        if number is None:
            continue
        wanted = normalize_number(strip_numeric_punctuation(target))
        for word in [*words, strip_numeric_punctuation(reply)]:
            value = read_number(word)
            if value is None:
                continue
            if (normalize_number(word) == wanted) != (value == number):
                return True
    return False


def match_numeric_text_target(case: Case, inspect: Any, ours: Any) -> bool:
    """`match` numeric with a target that is not a number: Inspect strips `$ , * _` from the target
    but not from the reply; we compare such a target as text, as without `numeric`."""
    if case.scorer != "match" or not case.params.get("numeric") or inspect == ours:
        return False
    _, targets = _match_parts(case)
    if not any(not _numeric_target(case, t) and strip_numeric_punctuation(t) != t for t in targets):
        return False
    text_case = Case("match", {**case.params, "numeric": False}, case.reply, case.targets)
    return our_value(text_case) == ours


def grade_unscored(case: Case, inspect: Any, ours: Any) -> bool:
    """Model-graded: a grader reply without a usable grade is unscored (NaN, left out of the
    metrics) in Inspect; we score it I with the grader's reply as the reason."""
    return (
        case.scorer.startswith("model_graded")
        and isinstance(inspect, float)
        and math.isnan(inspect)
        and ours == "I"
    )


def grade_pattern_alternatives(case: Case, inspect: Any, ours: Any) -> bool:
    """Model-graded with a `grade_pattern` whose alternatives capture in different groups: Inspect
    reads group 1 only (None when another alternative matched: unscored); we read the group that
    took part in the match."""
    pattern = case.params.get("grade_pattern")
    if not case.scorer.startswith("model_graded") or pattern is None:
        return False
    found = re.search(pattern, case.reply)
    return (
        found is not None
        and found.group(1) is None
        and isinstance(inspect, float)
        and math.isnan(inspect)
        and ours == next(g for g in found.groups() if g is not None)
    )


DIFFERENCES: dict[str, Callable[[Case, Any, Any], bool]] = {
    f.__name__: f
    for f in (
        match_word_boundary,
        match_empty_target,
        includes_empty_target,
        match_numeric_exact_value,
        match_numeric_text_target,
        grade_unscored,
        grade_pattern_alternatives,
    )
}


def check(case: Case) -> None:
    CASES[case.scorer] += 1
    compare(case, inspect_value(case), our_value(case))


def compare(case: Case, inspect: Any, ours: Any) -> None:
    """Equal, or unequal in a way one of the documented differences explains."""
    if inspect == ours:
        return
    explained = [name for name, applies in DIFFERENCES.items() if applies(case, inspect, ours)]
    assert explained, f"undocumented difference: Inspect {inspect!r}, ours {ours!r} for {case}"
    FIRED[explained[0]] += 1


# ── grammars ─────────────────────────────────────────────────────────────────────────────────────

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def numbers(draw: Draw) -> str:
    """A number in one of the notations models write."""
    integer = draw.integer(0, 2_000_000)
    kind = draw.pick(
        [
            "int",
            "decimal",
            "commas",
            "spaces",
            "exponent",
            "fraction",
            "superscript",
            "fullwidth",
            "arabic",
            "chinese",
            "roman",
            "apostrophes",
            "trailing-zeros",
            "long-decimal",
        ]
    )
    if kind == "decimal":
        text = f"{integer / 100:.2f}"
    elif kind == "commas":
        text = f"{integer:,}"
    elif kind == "spaces":
        text = f"{integer:,}".replace(",", draw.pick([" ", "\u202f", "\u00a0"]))
    elif kind == "exponent":
        mantissa = draw.pick(["1", "4.2", "2.5", "1.0", "12"])
        text = f"{mantissa}{draw.pick(['e', 'E'])}{draw.integer(-4, 6)}"
    elif kind == "fraction":
        text = f"{integer % 20 or ''}{draw.pick('½⅓¼¾⅔⅛')}"
    elif kind == "superscript":
        text = f"{integer % 13}{str(draw.integer(-2, 4)).translate(SUPERSCRIPT)}"
    elif kind == "fullwidth":
        text = "".join(chr(ord(c) + 0xFEE0) for c in str(integer % 1000))
    elif kind == "arabic":
        text = "".join(chr(0x0660 + int(c)) for c in str(integer % 1000))
    elif kind == "chinese":
        text = draw.pick(["十二", "三百", "一万二千", "三点一四", "二〇二五", "四十二"])
    elif kind == "roman":
        text = draw.pick("ⅠⅡⅢⅣⅫ")
    elif kind == "apostrophes":
        text = f"{integer:,}".replace(",", "'")
    elif kind == "trailing-zeros":
        text = f"{integer % 100}.{'0' * draw.integer(1, 3)}"
    elif kind == "long-decimal":
        text = f"{integer % 10}.{draw.integer(10000, 99999999)}"
    else:
        text = str(integer % 200)
    sign = draw.pick(["", "", "-", "−", "+"])
    return sign + text


def decorated_numbers(draw: Draw) -> str:
    number = numbers(draw)
    before = draw.pick(["", "", "$", "€", "£", "\\$", "**", "(", "~", "x=", "="])
    after = draw.pick(["", "", ".", "!", ")", "**", "%", ",", " km", "?", ":"])
    return before + number + after


WORDS = [
    "Paris",
    "paris",
    "PARIS",
    "New York",
    "new-york",
    "the",
    "a",
    "an",
    "The Paris",
    "café",
    "Straße",
    "İstanbul",
    "東京",
    "北京",
    "York",
    "newyork",
    "yes",
    "no",
    "True",
    "C",
    "I",
    "B",
    "",
    " ",
    ".",
    "-",
    "it's",
    "U.S.A.",
    "e.g.",
    "4",
    "14",
    "3.4",
    "well-known",
    "x",
]
PUNCTUATION = ["", "", ".", "!", "?", ",", ";", "…", "。", "»", '"', "'", "*", "`", ")", "**"]
PREFIXES = ["", "The answer is ", "Answer: ", "I think ", "so ", "Final answer:\n", "  ", "\t"]
SUFFIXES = ["", "", " indeed", "\n", "  ", " (I am sure)", "\nThat is all."]


def answers(draw: Draw) -> str:
    if draw.coin():
        return decorated_numbers(draw)
    return draw.pick(WORDS) + draw.pick(PUNCTUATION)


def replies_and_targets(draw: Draw) -> tuple[str, list[str]]:
    """A reply around an answer, and targets that often (not always) name that answer."""
    answer = answers(draw)
    reply = draw.pick(PREFIXES) + answer + draw.pick(SUFFIXES)
    if draw.integer(0, 9) == 0:
        reply = draw.pick(["", " ", "\n", "\n\n  "])
    core = answer.strip(string.punctuation + "~=x ")
    pool = [core, answer, answers(draw), draw.pick(WORDS), numbers(draw)]
    targets = draw.some(pool, 1, 3)
    return reply, targets


# ── text scorers ─────────────────────────────────────────────────────────────────────────────────


def test_match() -> None:
    draw = Draw("match")
    for _ in range(1500):
        reply, targets = replies_and_targets(draw)
        location = draw.pick(["begin", "end", "any", "exact"])
        params = {"location": location, "ignore_case": draw.coin(), "numeric": draw.coin()}
        check(Case("match", params, reply, targets))


def test_includes() -> None:
    draw = Draw("includes")
    for _ in range(500):
        check(Case("includes", {"ignore_case": draw.coin()}, *replies_and_targets(draw)))


def test_exact() -> None:
    draw = Draw("exact")
    for _ in range(500):
        check(Case("exact", {}, *replies_and_targets(draw)))


def test_f1() -> None:
    draw = Draw("f1")
    for _ in range(500):
        case = replies_and_targets(draw)
        stop_words = draw.pick([None, ["the", "is"], ["Paris", "answer"], []])
        params = {} if stop_words is None else {"stop_words": stop_words}
        check(Case("f1", params, *case))


PATTERNS = [
    r"ANSWER:\s*(\w+)",
    r"(\d+)",
    r"(\d*)",
    r"(.*)",
    r"([A-D])",
    r"(\w+) (\w+)",
    r"answer is (\w+)|final: (\w+)",
    r"Paris",
    r"(-?\d+(?:\.\d+)?)",
]


def test_pattern() -> None:
    draw = Draw("pattern")
    for _ in range(700):
        case = replies_and_targets(draw)
        params = {"pattern": draw.pick(PATTERNS), "ignore_case": draw.coin()}
        params["match_all"] = draw.coin()
        check(Case("pattern", params, *case))


ANSWER_LINES = [
    "ANSWER: {x}",
    "answer: {x}",
    "ANSWER:{x}.",
    "The final ANSWER: {x}",
    "ANSWER: {x}\nANSWER: {y}",
    "ANSWER: {x} ANSWER: {y}",
    "ANSWER: {x} because it is",
    "ANSWER: {x}{y}",
    "Reasoning...\n\nANSWER: {x}\n",
    "ANSWER: {x}, {y}",
    "ANSWER: ({x})",
    "ANSWER: **{x}**",
    "ANSWER:\n{x}",
    "{x}",
    "",
]
ANSWER_WORDS = ["A", "b", "C", "Paris", "yes", "No", "42", "Berlin!", "AB", "apple", "", "New York"]


def answer_cases(draw: Draw) -> tuple[str, list[str]]:
    x, y = draw.pick(ANSWER_WORDS), draw.pick(ANSWER_WORDS)
    reply = draw.pick(ANSWER_LINES).format(x=x, y=y)
    targets = draw.some([x, y, x.lower(), "A", "Paris", ""], 1, 4)
    return reply, targets


def test_answer() -> None:
    draw = Draw("answer")
    for _ in range(700):
        case = answer_cases(draw)
        check(Case("answer", {"pattern": draw.pick(["letter", "word", "line"])}, *case))


# ── multiple choice: the reader and the choice scorer ───────────────────────────────────────────

CHOICE_REPLIES = [
    "ANSWER: {a}",
    "ANSWER: {a}.",
    "answer: {a}",
    "ANSWER: ({a})",
    "**ANSWER: {a}**",
    "ANSWER: **{a}**",
    "ANSWER: ${a}$",
    "Let me think step by step.\nThe best option is B.\n\nANSWER: {a}",
    "Step 1: ...\nStep 2: ...\nTherefore, ANSWER: {a}",
    "The answer is {a}.",
    "I choose ANSWER: {a} because it fits.",
    "ANSWER: {a}\nActually, wait.\nANSWER: {b}",
    "{a}",
    "ANSWER: {a}) explanation",
    "ANSWER:\n{a}",
    "",
    "   ",
]


def choice_answers(draw: Draw, labels: list[str]) -> str:
    picks = draw.some([*labels, "Z", "E", "0", "27"], 1, 3)
    if draw.coin():
        picks = [p.lower() for p in picks]
    separator = draw.pick([", ", ",", " ", "", " and ", ", and ", " & "])
    return separator.join(picks)


def choice_cases(draw: Draw) -> tuple[str, list[str], list[str], bool]:
    count = draw.pick([2, 3, 4, 5, 26, 28, 31])
    choices = [f"option {i}" for i in range(count)]
    labels = [chr(65 + i) if i < 26 else str(i - 25) for i in range(count)]
    a = choice_answers(draw, labels[:6] + labels[26:])
    b = choice_answers(draw, labels[:6])
    reply = draw.pick(CHOICE_REPLIES).format(a=a, b=b)
    targets = draw.pick(
        [
            [labels[0]],
            [labels[1]],
            ["A,C" if count > 2 else "A,B"],
            ["A, B"],
            ["AB"],
            ["B,A"],
            ["A", "B"],
            [labels[-1]],
            ["a"],
            ["A, B, C" if count > 2 else "A"],
        ]
    )
    return reply, targets, choices, draw.coin()


def test_multiple_choice_and_choice() -> None:
    draw = Draw("choice")
    for _ in range(1500):
        reply, targets, choices, multiple = choice_cases(draw)
        check(Case("choice", {"multiple_correct": multiple}, reply, targets, choices))


# ── model-graded: the grade read from the grader's reply ─────────────────────────────────────────

GRADE_REPLIES = [
    "GRADE: {g}",
    "Reasoning.\nGRADE: {g}",
    "GRADE: C\n...on second thought\nGRADE: {g}",
    "grade:{g}",
    "GRADE : {g}.",
    "The downgrade: {g}",
    "GRADE:\u200b{g}",
    "**GRADE: {g}**",
    "GRADE: {g}\nThanks!",
    "No grade here.",
    "",
]
GRADES = ["C", "I", "P", "c", "Correct", "incorrect", "Partial", "CI", "X", "", "p"]


def _with_usage(output: ModelOutput) -> ModelOutput:
    """mockllm counts tokens with tiktoken (a download) unless the output has its usage."""
    from inspect_ai.model import ModelUsage

    output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return output


def inspect_grade(reply: str, params: dict[str, Any]) -> Any:
    from inspect_ai.model import get_model

    grader = get_model(
        "mockllm/model",
        custom_outputs=[_with_usage(ModelOutput.from_content("mockllm/model", reply))],
        memoize=False,
    )
    scorer = _model_graded_qa_single(
        "{question} {answer} {criterion} {instructions}",
        params.get("instructions"),
        params.get("grade_pattern"),
        False,
        params.get("partial_credit", False),
        grader,
    )
    state = InspectState(
        ModelName("mockllm/model"),
        1,
        1,
        "question",
        [],
        Target("t"),
        output=ModelOutput.from_content("mockllm/model", "answer"),
    )
    import asyncio

    return asyncio.run(scorer(state, Target("t"))).value


def our_grade(reply: str, params: dict[str, Any]) -> Any:
    grade = read_grade(
        reply,
        params.get("grade_pattern"),
        bool(params.get("instructions")),
        params.get("partial_credit", False),
    )
    return "I" if grade is None else grade


GRADER_PARAMS: list[dict[str, Any]] = [
    {},
    {"partial_credit": True},
    {"instructions": "Grade it: GRADE: C or I or P."},
    {"grade_pattern": r"(?i)VERDICT:\s*(\w)"},
    {"grade_pattern": r"(?is).*GRADE\s*:\s*([CPI])"},
    {"grade_pattern": r"(?i)VERDICT:\s*([CI])|GRADE\s*:\s*(\w)"},
]


def test_model_graded_grades() -> None:
    draw = Draw("model_graded_qa")
    for _ in range(150):
        params = draw.pick(GRADER_PARAMS)
        reply = draw.pick(GRADE_REPLIES).format(g=draw.pick(GRADES))
        if "VERDICT" in params.get("grade_pattern", ""):
            reply = reply.replace("GRADE", "VERDICT")
        case = Case("model_graded_qa", params, reply, ["t"])
        CASES[case.scorer] += 1
        compare(case, inspect_grade(reply, params), our_grade(reply, params))


# ── every README row: named, exercised ──────────────────────────────────────────────────────────

KNOWN_DIFFERENCES = [
    (Case("match", {}, "The answer is 14", ["4"]), "match_word_boundary"),
    (Case("match", {}, "anything at all", ["."]), "match_empty_target"),
    (Case("includes", {}, "anything at all", [""]), "includes_empty_target"),
    (Case("match", {"numeric": True}, "It is 3.14159", ["3.1416"]), "match_numeric_exact_value"),
    (Case("match", {"numeric": True}, "a,b", ["a,b"]), "match_numeric_text_target"),
]


@pytest.mark.parametrize(("case", "difference"), KNOWN_DIFFERENCES, ids=lambda v: str(v)[:40])
def test_each_documented_difference_is_what_explains_its_example(
    case: Case, difference: str
) -> None:
    inspect, ours = inspect_value(case), our_value(case)
    assert inspect != ours
    assert DIFFERENCES[difference](case, inspect, ours)
    FIRED[difference] += 1


@pytest.mark.parametrize(
    ("reply", "params", "difference"),
    [
        ("I cannot decide.", {}, "grade_unscored"),
        ("GRADE: C", {"grade_pattern": r"VERDICT: (\w)|GRADE: (\w)"}, "grade_pattern_alternatives"),
    ],
)
def test_each_documented_grading_difference_is_what_explains_its_example(
    reply: str, params: dict[str, Any], difference: str
) -> None:
    case = Case("model_graded_qa", params, reply, ["t"])
    inspect, ours = inspect_grade(reply, params), our_grade(reply, params)
    assert DIFFERENCES[difference](case, inspect, ours)
    FIRED[difference] += 1


def test_bootstrap_stderr_is_seeded_where_inspect_draws_afresh() -> None:
    """README row `bootstrap_stderr_seeded`: Inspect's value changes from run to run."""
    import numpy as np
    from inspect_ai.scorer import SampleScore
    from inspect_ai.scorer import Score as InspectScore

    from engine.scorers import metrics

    values = [1.0, 0.0, 1.0, 1.0, 0.0, 0.5, 1.0, 0.0]
    samples = [SampleScore(score=InspectScore(value=v), sample_id=i) for i, v in enumerate(values)]
    inspect_metric = inspect_scorers.bootstrap_stderr(num_samples=200)
    np.random.seed(1)
    first = inspect_metric(samples)
    np.random.seed(2)
    second = inspect_metric(samples)
    _, _, ours = metrics.create({"bootstrap_stderr": {"num_samples": 200}})
    assert first != second
    assert ours(values) == ours(values)
    assert ours(values) == pytest.approx(first, rel=0.2)  # the same quantity, drawn differently
    FIRED["bootstrap_stderr_seeded"] += 1


def test_a_tied_grader_panel_is_the_majority_difference() -> None:
    """README row `grader_panel_majority`: Inspect leaves a tied panel unscored; we take the
    lower grade of the tie."""
    from inspect_ai.scorer import Score as InspectScore
    from inspect_ai.scorer._reducer.reducer import majority_score

    from engine.scorers import Score, majority

    grades = ["C", "I"]
    inspect = majority_score()([InspectScore(value=g) for g in grades]).value
    ours = majority([Score(g) for g in grades]).value
    assert isinstance(inspect, float) and math.isnan(inspect)
    assert ours == "I"
    agreed = majority([Score(g) for g in ["C", "C", "I"]]).value
    assert agreed == majority_score()([InspectScore(value=g) for g in ["C", "C", "I"]]).value
    FIRED["grader_panel_majority"] += 1


def test_every_documented_difference_has_an_example() -> None:
    examples = {difference for _, difference in KNOWN_DIFFERENCES}
    examples |= {"grade_unscored", "grade_pattern_alternatives"}
    assert examples == set(DIFFERENCES)


def test_the_readme_lists_exactly_the_documented_differences() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    differences = readme.split("## Differences from Inspect AI", 1)[1].split("\n## ", 1)[0]
    section = differences.split("### Scores", 1)[1].split("\n### ", 1)[0]
    named = set(re.findall(r"^\| `(\w+)`", section, re.MULTILINE))
    assert named == set(DIFFERENCES) | {"bootstrap_stderr_seeded", "grader_panel_majority"}
