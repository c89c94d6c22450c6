"""Multiple choice: lettered choices in the prompt, optionally shuffled, and the answer read back.

The model answers with letters as it saw them; when the choices were shuffled, those letters are
mapped back to the sample's own order, so the target (a letter of the original order) still holds.
"""

from __future__ import annotations

import random
import re
import string

from engine.registry import Uses
from engine.solvers._builtins import check_template, format_template, last_user_index, with_text
from engine.solvers._registry import solvers
from engine.solvers._state import Solver, TaskState

LETTERS = string.ascii_uppercase

SINGLE_ANSWER_TEMPLATE = """\
Answer the following multiple choice question. The entire content of your response should be of \
the following format: 'ANSWER: $LETTER' (without quotes) where LETTER is one of {letters}.

{question}

{choices}"""

MULTIPLE_ANSWER_TEMPLATE = """\
Answer the following multiple choice question where multiple answers may be correct. The entire \
content of your response should be of the following format: 'ANSWER: $LETTERS' (without quotes) \
where LETTERS is one or more of {letters}, separated by commas.

{question}

{choices}"""

_ANSWER_LINE = re.compile(r"(?im)^[^\S\n]*\**ANSWER\**\s*:\**\s*(.+?)\s*$")
_BARE_LETTER = re.compile(r"^\s*\(?([A-Za-z])\)?(?:[.):]|\s|$)")
_LIST_SEPARATOR = re.compile(r"\s*(?:,|&|\band\b)\s*", re.IGNORECASE)
_LEADING_LETTER = re.compile(r"[^A-Za-z]*([A-Za-z])(?![A-Za-z])")


def letter(index: int) -> str:
    return LETTERS[index]


def answer_letters(text: str, count: int) -> list[str]:
    """The letters chosen in `text`: from its last `ANSWER:` line, else a reply that starts with a
    lone letter ("B", "(B)", "B) Paris"). Only the first `count` letters count.

    On the `ANSWER:` line the letters are a list ("A, C", "A and C") at its start: whatever
    follows a letter without a separator is its explanation ("C) a dog" chooses C, not C and A).
    """
    valid = set(LETTERS[:count])
    lines = _ANSWER_LINE.findall(text)
    if lines:
        found: list[str] = []
        for item in _LIST_SEPARATOR.split(lines[-1]):
            leading = _LEADING_LETTER.match(item)
            if leading is None:
                break
            found.append(leading.group(1).upper())
        return sorted({c for c in found if c in valid})
    bare = _BARE_LETTER.match(text)
    if bare and bare.group(1).upper() in valid:
        return [bare.group(1).upper()]
    return []


@solvers.register(
    "multiple_choice",
    Uses(model=True, choices=True, templates={"template": ("question", "choices", "letters")}),
)
def multiple_choice(
    template: str | None = None, multiple_correct: bool = False, shuffle: bool = False
) -> Solver:
    """Show the sample's choices as `A) …`, generate, and record the chosen letters.

    The template sees `{question}`, `{choices}`, `{letters}` and the metadata. With `shuffle` the
    choices are shown in an order seeded by the sample id and epoch (reproducible), and the chosen
    letters are mapped back to the sample's order in `state.selected_choices`.
    """
    prompt = template or (MULTIPLE_ANSWER_TEMPLATE if multiple_correct else SINGLE_ANSWER_TEMPLATE)
    check_template(prompt, "multiple_choice template")

    async def solve(state: TaskState) -> TaskState:
        choices = state.sample.choices
        if not choices:
            raise ValueError(f"multiple_choice: sample {state.sample.id!r} has no choices")
        if len(choices) > len(LETTERS):
            raise ValueError(f"multiple_choice: at most {len(LETTERS)} choices")
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
                "letters": ",".join(LETTERS[: len(choices)]),
            },
        )
        state.messages[position] = with_text(message, text)
        model = state.require_model()
        state.output = await model.generate(state.messages)
        state.messages.append(state.output.message)
        picked = answer_letters(state.output.completion, len(choices))
        state.selected_choices = sorted(letter(order[LETTERS.index(c)]) for c in picked)
        return state

    return solve
