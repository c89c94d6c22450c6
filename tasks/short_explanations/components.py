"""A worked example of your own components, kept beside a task (see README, "Your own solvers,
scorers, metrics and reducers"). The task YAML names them as `FILE.py:NAME`, relative to `tasks/`:

    solvers:
      - short_explanations/components.py:answer_then_tighten: {max_words: 25}
    scorers:
      - short_explanations/components.py:keyword_overlap: {min_overlap: 0.5}
"""

from __future__ import annotations

import re

from engine import (
    CORRECT,
    INCORRECT,
    Score,
    Scorer,
    Solver,
    TaskState,
    generate,
    scorer,
    solver,
    user,
)

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "which",
        "with",
    ]
)


def keywords(text: str) -> set[str]:
    """Content words: lower case, no punctuation, no stopwords, no one- or two-letter words."""
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2} - STOPWORDS


@solver
def answer_then_tighten(max_words: int = 25) -> Solver:
    """Two turns: the model answers, then is asked to restate its answer in at most `max_words`
    words. The scorer sees the second reply (`state.output`); the log keeps both turns."""
    if max_words < 1:
        raise ValueError(f"max_words must be at least 1, got {max_words}")
    follow_up = (
        f"Now restate your answer in at most {max_words} words, keeping every technical term."
    )

    async def solve(state: TaskState) -> TaskState:
        state = await generate(state)
        state.messages.append(user(follow_up))
        return await generate(state)

    return solve


@scorer
def keyword_overlap(min_overlap: float = 0.5) -> Scorer:
    """Correct when the answer contains at least `min_overlap` of the target's keywords; the
    overlap itself is in the score's metadata and the missing keywords in its explanation."""
    if not 0 < min_overlap <= 1:
        raise ValueError(f"min_overlap must be in (0, 1], got {min_overlap}")

    async def score(state: TaskState) -> Score:
        answer = state.output.completion if state.output is not None else ""
        wanted = keywords(state.target.text)
        found = wanted & keywords(answer)
        overlap = len(found) / len(wanted) if wanted else 1.0
        missing = ", ".join(sorted(wanted - found)) or "none"
        return Score(
            CORRECT if overlap >= min_overlap else INCORRECT,
            answer=answer,
            explanation=f"{len(found)} of {len(wanted)} keywords; missing: {missing}",
            metadata={"overlap": round(overlap, 4)},
        )

    return score
