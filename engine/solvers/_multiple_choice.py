"""Multiple choice: lettered choices in the prompt, optionally shuffled, and the answer read back.

The prompt and the reading of the reply are Inspect AI 0.3.285's (`multiple_choice`,
`parse_answers`): the answer is the last `ANSWER: …` in the reply (on a line of its own, else
anywhere), wrappers such as `**B**`, `$B$` and `(B)` are removed first, and every letter read must
be a valid choice or nothing counts. Choices past the 26th are numbered 1, 2, … as in Inspect.

The model answers with letters as it saw them; when the choices were shuffled, those letters are
mapped back to the sample's own order, so the target (a letter of the original order) still holds.
"""

from __future__ import annotations

import random
import re

from engine.config import GenerationConfig
from engine.registry import Uses
from engine.solvers._builtins import check_template, format_template, last_user_index, with_text
from engine.solvers._registry import solvers
from engine.solvers._state import Solver, TaskState

SINGLE_ANSWER_TEMPLATE = """\
Answer the following multiple choice question. The entire content of your response should be of \
the following format: 'ANSWER: $LETTER' (without quotes) where LETTER is one of {letters}.

{question}

{choices}"""

SINGLE_ANSWER_TEMPLATE_COT = """\
Answer the following multiple choice question. The last line of your response should be of the \
following format: 'ANSWER: $LETTER' (without quotes) where LETTER is one of {letters}. Think step \
by step before answering.

{question}

{choices}"""

MULTIPLE_ANSWER_TEMPLATE = """\
Answer the following multiple choice question where multiple answers may be correct. The entire \
content of your response should be of the following format: 'ANSWER: $LETTERS' (without quotes) \
where LETTERS is one or more of {letters}.

{question}

{choices}"""

MULTIPLE_ANSWER_TEMPLATE_COT = """\
Answer the following multiple choice question where multiple answers may be correct. The last \
line of your response should be of the following format: 'ANSWER: $LETTERS' (without quotes) \
where LETTERS is one or more of {letters}. Think step by step before answering.

{question}

{choices}"""

_STRICT_ANSWER = re.compile(r"(?im)^ANSWER\s*:\s*([A-Za-z\d ,]+)\s*(?:$|\n|\.)")
"""An `ANSWER:` line, ending at the end of the line or a full stop."""
_LOOSE_ANSWER = re.compile(r"(?i)ANSWER\s*:\s*([A-Za-z\d ,]+)(?:[^\w]|\n|$|\.)")
"""An `ANSWER:` anywhere (mid-line, followed by an explanation)."""


def letter(index: int) -> str:
    """The label of the choice at `index`: A-Z, then 1, 2, … (Inspect's `answer_character`)."""
    return chr(ord("A") + index) if index < 26 else str(index - 25)


def letter_index(label: str) -> int:
    """The index a label stands for (Inspect's `answer_index`); ValueError if it is no label."""
    if len(label) == 1 and label.isalpha():
        return ord(label.upper()) - ord("A")
    if label.isnumeric():
        if int(label) == 0:
            raise ValueError(f"unexpected choice {label!r} (numbered choices start at 1)")
        return 25 + int(label)
    raise ValueError(f"unexpected choice {label!r} (must be a letter or a number)")


def _unwrap(text: str) -> str:
    """`$B$`, `**B**` and `(B)` (after `:`/`,` or at a line start) read as `B`."""
    text = re.sub(r"\x24\s*([A-Za-z\d][A-Za-z\d ,]*?)\s*\x24", r"\1", text)
    text = re.sub(r"\*\*\s*([A-Za-z\d][A-Za-z\d ,]*?)\s*\*\*", r"\1", text)
    return re.sub(r"(?i)(^|[:,])(\s*)\(([A-Za-z\d])\)(?=\s*(?:,|\.|\n|\Z))", r"\1\2\3", text)


def find_answer(text: str) -> str | None:
    """What follows the reply's last `ANSWER:` (upper-cased, full stop dropped), else None."""
    text = _unwrap(text)
    found = _STRICT_ANSWER.findall(text) or _LOOSE_ANSWER.findall(text)
    return found[-1].strip().rstrip(".").upper() if found else None


def answer_letters(text: str, count: int, multiple_correct: bool = False) -> list[str]:
    """The choices picked in `text`, as labels in the order shown, sorted by position.

    Single answer: one label (a stray comma is tolerated). Multiple answers: labels separated by
    commas, spaces, `and`, or nothing ("AC"). Any label that is not one of the `count` choices
    makes the whole answer unreadable (an invalid pick counts against the reply).
    """
    matched = find_answer(text)
    if matched is None:
        return []
    allowed = {letter(i) for i in range(count)}
    picked: set[str] = set()
    if multiple_correct:
        joined = matched.replace(" AND ", ",").replace(" ", "")
        by_comma = {token for token in joined.split(",") if token}
        if by_comma <= allowed:
            picked = by_comma
        elif set(joined) <= allowed:
            picked = set(joined)
    else:
        tokens = [token for token in matched.split(",") if token]
        if len(tokens) == 1 and tokens[0] in allowed:
            picked = {tokens[0]}
    return sorted(picked, key=letter_index)


@solvers.register(
    "multiple_choice",
    Uses(model=True, choices=True, templates={"template": ("question", "choices", "letters")}),
)
def multiple_choice(
    template: str | None = None,
    cot: bool = False,
    multiple_correct: bool = False,
    max_tokens: int | None = None,
    shuffle: bool = False,
) -> Solver:
    """Show the sample's choices as `A) …`, generate, and record the chosen choices.

    `cot` asks for step-by-step reasoning before a last `ANSWER:` line (default templates only).
    The template sees `{question}`, `{choices}`, `{letters}` and the metadata, and must contain
    `{question}` and `{choices}`. With `shuffle` the choices are shown in an order seeded by the
    sample id and epoch (reproducible), and the chosen labels are mapped back to the sample's
    order in `state.selected_choices`.
    """
    if template is not None and not ("{question}" in template and "{choices}" in template):
        raise ValueError("template must contain the {question} and {choices} placeholders")
    if template is None:
        template = {
            (False, False): SINGLE_ANSWER_TEMPLATE,
            (False, True): SINGLE_ANSWER_TEMPLATE_COT,
            (True, False): MULTIPLE_ANSWER_TEMPLATE,
            (True, True): MULTIPLE_ANSWER_TEMPLATE_COT,
        }[(multiple_correct, cot)]
    prompt: str = template
    check_template(prompt, "multiple_choice template")
    config = GenerationConfig(max_tokens=max_tokens) if max_tokens is not None else None

    async def solve(state: TaskState) -> TaskState:
        choices = state.sample.choices
        if not choices:
            raise ValueError(f"multiple_choice: sample {state.sample.id!r} has no choices")
        order = list(range(len(choices)))
        if shuffle:
            random.Random(f"{state.sample.id}:{state.epoch}").shuffle(order)
        shown = "\n".join(f"{letter(i)}) {choices[original]}" for i, original in enumerate(order))
        position = last_user_index(state, "multiple_choice")
        message = state.messages[position]
        text = format_template(
            prompt,
            {
                **state.metadata,
                "question": message.text,
                "choices": shown,
                "letters": ",".join(letter(i) for i in range(len(choices))),
            },
        )
        state.messages[position] = with_text(message, text)
        model = state.require_model()
        state.output = await model.generate(state.messages, config)
        state.messages.append(state.output.message)
        picked = answer_letters(state.output.completion, len(choices), multiple_correct)
        originals = sorted(order[letter_index(label)] for label in picked)
        state.selected_choices = [letter(index) for index in originals]
        return state

    return solve
