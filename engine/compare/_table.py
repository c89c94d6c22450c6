"""The comparison table: per task, models sorted by score, with the interval, speed, cost, and a
paired test of each model against the best one on the samples both scored."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine._prices import run_cost
from engine._secrets import redact
from engine.compare._load import RunRecord, SampleKey, find_logs, read_run
from engine.compare._stats import (
    cluster_permutation,
    holm,
    interval,
    mean_interval,
    paired_test,
    percentile,
)

ALPHA = 0.05


@dataclass
class Row:
    task: str
    label: str
    model: str
    scorer: str
    score: float
    low: float
    high: float
    samples: int
    errors: int
    latency_p50: float
    latency_p95: float
    tokens: int
    throughput: float
    """Samples per second of wall time."""
    cost: float | None
    log: str
    best: bool = False
    shared: int = 0
    """Samples (not sample × epoch) scored by both this model and the best one."""
    test: str = ""
    p_value: float | None = None
    p_holm: float | None = None
    """Holm-adjusted over the task's comparisons with the best (what `significant` uses)."""
    significant: bool | None = None
    clusters: int = 0
    """Clusters the interval and the test account for (0: samples are independent)."""


@dataclass
class Comparison:
    rows: list[Row]
    runs: list[RunRecord] = field(default_factory=list)

    def to_json(self) -> str:
        rows = [
            {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in asdict(r).items()}
            for r in self.rows
        ]
        return json.dumps(rows, indent=1, allow_nan=False)

    def to_csv(self) -> str:
        out = io.StringIO()
        names = list(Row.__dataclass_fields__)
        writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow(asdict(row))
        return out.getvalue()

    def cells(self) -> tuple[list[str], list[list[str]]]:
        """The table as text cells (head, body), the task first."""
        return ["task", *HEAD], [[row.task, *row_cells(row)] for row in self.rows]

    def to_text(self) -> str:
        head, body = self.cells()
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in [head, *body]
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def to_markdown(self) -> str:
        head, body = self.cells()
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> list[Path]:
        """comparison.md / .csv / .json in `folder`."""
        written = []
        for suffix, text in (
            ("md", self.to_markdown()),
            ("csv", self.to_csv()),
            ("json", self.to_json()),
        ):
            path = folder / f"comparison.{suffix}"
            path.write_text(redact(text), encoding="utf-8")
            written.append(path)
        return written


HEAD = [
    "model", "score", "95% CI", "samples", "errors", "p50 s", "p95 s", "tokens", "samples/s",
    "cost $", "vs best",
]  # fmt: skip
"""The columns of one task's table (the text and HTML tables alike)."""


def row_cells(row: Row) -> list[str]:
    """One row's cells under `HEAD`, as text."""
    return [
        row.label,
        number(row.score),
        f"{number(row.low)}–{number(row.high)}"
        + (f" ({row.clusters} clusters)" if row.clusters else ""),
        str(row.samples),
        str(row.errors),
        number(row.latency_p50, 2),
        number(row.latency_p95, 2),
        f"{row.tokens:,}",
        number(row.throughput, 2),
        number(row.cost, 4),
        verdict(row),
    ]


def number(value: float | None, digits: int = 3) -> str:
    """`-` for no value (no price, no scored sample)."""
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.{digits}f}"


def verdict(row: Row) -> str:
    if row.best:
        return "best"
    if row.p_holm is None:
        return "-"
    word = "worse" if row.significant else "not sig."
    return f"{word} (p={row.p_holm:.3g}, n={row.shared})"


def _label(runs: list[RunRecord]) -> None:
    """The model name (unless a sweep named the run); where one task has the same model twice,
    its roles tell them apart."""
    counts = Counter((run.task, run.model) for run in runs)
    for run in runs:
        if run.label:
            continue
        run.label = run.model
        if counts[(run.task, run.model)] > 1:
            roles = ", ".join(
                f"{k}={'+'.join(v) if isinstance(v, list) else v}" for k, v in run.roles.items()
            )
            run.label = f"{run.model} [{roles}]" if roles else run.model
    seen: Counter[tuple[str, str]] = Counter()
    for run in runs:
        seen[(run.task, run.label)] += 1
        if counts[(run.task, run.model)] > 1 and seen[(run.task, run.label)] > 1:
            run.label += f" #{seen[(run.task, run.label)]}"


def per_sample(scores: dict[SampleKey, float]) -> dict[str, float]:
    """Each sample's mean over its epochs: the epochs of one sample are not independent draws, so
    the interval counts samples and the paired test pairs samples, not (sample, epoch)."""
    grouped: dict[str, list[float]] = {}
    for (sample_id, _epoch), value in scores.items():
        grouped.setdefault(sample_id, []).append(value)
    return {sample_id: sum(values) / len(values) for sample_id, values in grouped.items()}


def _row(run: RunRecord, prices: dict[str, Any], clusters: dict[str, str] | None) -> Row:
    values = list(run.scores.values())
    means = per_sample(run.scores)  # epochs are not more samples
    if clusters:
        labels = [clusters.get(k, f"\0{k}") for k in means]
        _, low, high = mean_interval(list(means.values()), labels)
    else:
        low, high = interval(list(means.values()))
    tokens = sum(int(u.get("total_tokens") or 0) for u in run.usage.values())
    return Row(
        task=run.task,
        label=run.label,
        model=run.model,
        scorer=run.scorer,
        score=sum(values) / len(values) if values else math.nan,
        low=low,
        high=high,
        samples=run.samples,
        errors=run.errors,
        latency_p50=percentile(run.latencies, 0.5),
        latency_p95=percentile(run.latencies, 0.95),
        tokens=tokens,
        throughput=run.samples / run.duration if run.duration > 0 else 0.0,
        cost=run_cost(run.usage, prices, run.batched),
        log=str(run.path),
        clusters=len(set(clusters.get(k, f"\0{k}") for k in means)) if clusters else 0,
    )


def compare(
    runs: list[RunRecord], prices: dict[str, Any] | None = None, cluster: str | None = None
) -> Comparison:
    """Rows per task, best first; `prices` (else each log's own) price the tokens. A cluster
    field (`cluster`, else the dataset's `fields.cluster`) clusters intervals and tests."""
    _label(runs)
    rows: list[Row] = []
    for task in dict.fromkeys(run.task for run in runs):
        group = [run for run in runs if run.task == task]
        clusters = {k: v for run in group for k, v in (run.clusters(cluster) or {}).items()}
        built = [
            (_row(run, prices if prices is not None else run.prices, clusters or None), run)
            for run in group
        ]
        built.sort(key=lambda pair: -pair[0].score if not math.isnan(pair[0].score) else math.inf)
        best_row, best = built[0]
        best_row.best = True
        tested = []
        best_means = per_sample(best.scores)
        for row, run in built[1:]:
            means = per_sample(run.scores)
            shared = sorted(means.keys() & best_means.keys())
            row.shared = len(shared)
            if shared and clusters:  # whole clusters flip together under no difference
                row.test = "cluster permutation"
                row.p_value = cluster_permutation(
                    [best_means[k] - means[k] for k in shared],
                    [clusters.get(k, f"\0{k}") for k in shared],
                )
                tested.append(row)
            elif shared:
                row.test, row.p_value = paired_test(
                    [best_means[k] for k in shared], [means[k] for k in shared]
                )
                tested.append(row)
        for row, adjusted in zip(tested, holm([r.p_value or 1.0 for r in tested]), strict=True):
            row.p_holm = adjusted
            row.significant = adjusted < ALPHA
        rows += [row for row, _ in built]
    return Comparison(rows, runs)


def _sweep_labels(paths: list[Path]) -> dict[Path, str]:
    """Job folder → label, from the manifests of the sweep folders among `paths`."""
    labels = {}
    for path in paths:
        try:
            manifest = json.loads((path / "sweep.json").read_text(encoding="utf-8"))
            for job in manifest["jobs"]:
                labels[(path / job["folder"]).resolve()] = str(job["label"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return labels


def compare_paths(
    paths: list[Path], prices: dict[str, Any] | None = None, cluster: str | None = None
) -> Comparison:
    """Every log under `paths`; runs of a sweep folder are named as the sweep named them."""
    labels = _sweep_labels(paths)
    runs = [read_run(path) for path in find_logs(paths)]
    for run in runs:
        run.label = labels.get(run.path.parent.resolve(), "")
    return compare(runs, prices, cluster)
