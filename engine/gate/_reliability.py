"""Can the grader be trusted? Agreement between the graders of a panel, with people, and with
itself, each with an interval, from what the logs already hold.

- between graders (a role bound to a list): Cohen's κ for each pair, Fleiss' κ for the panel;
- against people (`fields.human_grade`): agreement, Cohen's κ, and the rates at which the grader
  says C where people said C (TPR) and not-C where people said not-C (TNR);
- with itself: across the epochs of a sample whose answer did not change, the share of samples
  graded the same every time.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from engine.compare import (
    RunRecord,
    SampleKey,
    bootstrap_interval,
    category_counts,
    cohen_kappa,
    fleiss_kappa,
    normal_quantile,
    wilson,
)
from engine.scorers import value_to_float


@dataclass
class Estimate:
    value: float
    low: float
    high: float
    n: int
    """Items it rests on (graded answers, samples, or pairs of epochs)."""

    def text(self, digits: int = 3) -> str:
        if math.isnan(self.value):
            return "-"
        if math.isnan(self.low):
            return f"{self.value:.{digits}f} (n={self.n})"
        return (
            f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}] (n={self.n})"
        )


@dataclass
class Reliability:
    """One run's grader reliability; a field is None when the logs cannot tell it."""

    graders: list[str] = field(default_factory=list)
    pairs: dict[tuple[str, str], Estimate] = field(default_factory=dict)
    """Cohen's κ of each pair of panel graders."""
    panel: Estimate | None = None
    """Fleiss' κ of the whole panel (bootstrap interval over graded answers)."""
    human_agreement: Estimate | None = None
    human_kappa: Estimate | None = None
    tpr: Estimate | None = None
    tnr: Estimate | None = None
    self_agreement: Estimate | None = None

    def metric(self, name: str) -> Estimate | None:
        if name == "kappa":
            return self.panel
        if name == "min_pair_kappa":
            return min(self.pairs.values(), key=lambda e: e.value) if self.pairs else None
        found: Estimate | None = getattr(self, name)
        return found

    @property
    def empty(self) -> bool:
        return not (self.pairs or self.human_agreement or self.self_agreement)


def grade(value: str | float) -> str:
    """A grade as a category: C for full credit, I for none, else the number (P is 0.5)."""
    number = value_to_float(value) if isinstance(value, str) else value
    return "C" if number == 1.0 else "I" if number == 0.0 else f"{number:g}"


def _kappa_estimate(first: list[str], second: list[str], confidence: float) -> Estimate:
    kappa, se = cohen_kappa(first, second)
    z = normal_quantile(0.5 + confidence / 2)
    return Estimate(kappa, kappa - z * se, kappa + z * se, len(first))


def _share(hits: int, n: int, confidence: float) -> Estimate | None:
    if n == 0:
        return None
    low, high = wilson(hits, n, confidence)
    return Estimate(hits / n, low, high, n)


def _panel_names(run: RunRecord) -> list[str]:
    """Each panel seat's name: the model, numbered where one model sits twice."""
    longest = max(run.votes.values(), key=len, default=[])
    counts = Counter(name for name, _ in longest)
    seen: Counter[str] = Counter()
    names = []
    for name, _ in longest:
        seen[name] += 1
        names.append(f"{name} #{seen[name]}" if counts[name] > 1 else name)
    return names


def reliability(
    run: RunRecord, human_field: str | None = None, confidence: float = 0.95
) -> Reliability:
    result = Reliability()
    names = _panel_names(run)
    if len(names) >= 2:
        result.graders = names
        items = [
            [grade(value) for _, value in votes]
            for votes in run.votes.values()
            if len(votes) == len(names)
        ]
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                first = [item[i] for item in items]
                second = [item[j] for item in items]
                result.pairs[(names[i], names[j])] = _kappa_estimate(first, second, confidence)
        kappa = fleiss_kappa(category_counts(items))
        low, high = bootstrap_interval(
            items, lambda sample: fleiss_kappa(category_counts(sample)), confidence
        )
        result.panel = Estimate(kappa, low, high, len(items))
    elif names:
        result.graders = names
    people = run.human_grades(human_field)
    if people:
        pairs = [
            (grade(people[sample_id]), grade(value))
            for (sample_id, _epoch), value in run.scores.items()
            if sample_id in people
        ]
        humans = [h for h, _ in pairs]
        graded = [g for _, g in pairs]
        agree = sum(h == g for h, g in pairs)
        result.human_agreement = _share(agree, len(pairs), confidence)
        if pairs:
            result.human_kappa = _kappa_estimate(humans, graded, confidence)
        positives = [g for h, g in pairs if h == "C"]
        negatives = [g for h, g in pairs if h != "C"]
        result.tpr = _share(sum(g == "C" for g in positives), len(positives), confidence)
        result.tnr = _share(sum(g != "C" for g in negatives), len(negatives), confidence)
    result.self_agreement = _self_agreement(run, confidence)
    return result


def _self_agreement(run: RunRecord, confidence: float) -> Estimate | None:
    """Samples answered the same in two or more epochs: the share graded the same each time."""
    groups: dict[tuple[str, str], list[str]] = {}
    for key, value in run.scores.items():
        answer = run.answers.get(key)
        if answer is None:
            continue
        groups.setdefault((key[0], answer), []).append(grade(value))
    repeated = [grades for grades in groups.values() if len(grades) >= 2]
    return _share(sum(len(set(g)) == 1 for g in repeated), len(repeated), confidence)


def votes_table(run: RunRecord) -> dict[SampleKey, list[str]]:
    """Each graded answer's grades by panel seat (for showing where graders disagree)."""
    return {key: [grade(value) for _, value in votes] for key, votes in run.votes.items()}
