"""The baseline: logs on disk, or logs committed at a git ref (read with `git archive` into a
temporary folder, never by checking anything out), and the paired comparison with it."""

from __future__ import annotations

import io
import math
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from engine.compare import (
    RunRecord,
    cluster_permutation,
    clustered_stderr,
    is_binary,
    mcnemar_exact,
    minimum_detectable_effect,
    newcombe_paired,
    normal_quantile,
    paired_permutation,
    per_sample,
    plain_stderr,
)
from engine.errors import InspectRunError


class GateError(InspectRunError, ValueError):
    """A gate that cannot be evaluated as asked (bad baseline, unknown metric): exit 2."""


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)


def _is_ref(ref: str, cwd: Path) -> bool:
    if not ref or ref.startswith("-"):
        return False
    done = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    return done.returncode == 0


def resolve_baseline(spec: str, current: list[Path], into: Path) -> list[Path]:
    """The baseline's log paths: `spec` itself if it exists; else `REF` (the `current` paths as
    committed at REF) or `REF:PATH`, extracted under `into`."""
    if Path(spec).exists():
        return [Path(spec)]
    cwd = Path.cwd()
    ref, _, inside = spec.partition(":")
    if not _is_ref(ref, cwd):
        raise GateError(
            f"baseline '{spec}' is neither a file or folder nor a git ref (REF or REF:PATH) "
            f"in {cwd}"
        )
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    root = Path(top.stdout.decode().strip()).resolve()
    wanted = [Path(inside)] if inside else current
    relative: list[str] = []
    for path in wanted:
        absolute = (cwd / path).resolve()
        try:
            relative.append(absolute.relative_to(root).as_posix() or ".")
        except ValueError:
            raise GateError(f"baseline path {path} is outside the git repository {root}") from None
    archive = _git(["archive", "--format=tar", ref, "--", *relative], root)
    if archive.returncode != 0:
        reason = archive.stderr.decode(errors="replace").strip().splitlines()
        raise GateError(
            f"no {', '.join(relative)} at {ref}: {reason[-1] if reason else 'git archive failed'}"
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return [into / part for part in relative]


@dataclass
class Flip:
    sample: str
    epoch: int
    before: float
    after: float


@dataclass
class Paired:
    """The current run against its baseline on the samples both scored (epochs averaged)."""

    shared: int
    before: float
    after: float
    difference: float
    low: float
    high: float
    stderr: float
    mde: float
    test: str
    p_value: float
    clustered: int = 0
    """Clusters the standard error was computed over (0: not clustered)."""
    worse: list[Flip] = field(default_factory=list)
    """Samples whose score dropped (C→I for right/wrong scores), worst first."""
    better: list[Flip] = field(default_factory=list)


def paired(
    current: RunRecord,
    baseline: RunRecord,
    clusters: dict[str, str] | None,
    alpha: float,
    power: float,
) -> Paired:
    now, then = per_sample(current.scores), per_sample(baseline.scores)
    shared = sorted(now.keys() & then.keys())
    after = [now[k] for k in shared]
    before = [then[k] for k in shared]
    differences = [a - b for a, b in zip(after, before, strict=True)]
    n = len(shared)
    mean = math.fsum(differences) / n if n else math.nan
    labels = [clusters.get(k, f"\0{k}") for k in shared] if clusters else None
    stderr = clustered_stderr(differences, labels) if labels else plain_stderr(differences)
    binary = is_binary(after) and is_binary(before)
    if labels:
        z = normal_quantile(1 - alpha / 2)
        low, high = mean - z * stderr, mean + z * stderr
        test, p_value = "cluster permutation", cluster_permutation(differences, labels)
    elif binary:
        both = sum(a == b == 1 for a, b in zip(after, before, strict=True))
        gained = sum(a > b for a, b in zip(after, before, strict=True))
        lost = sum(a < b for a, b in zip(after, before, strict=True))
        low, high = newcombe_paired(both, gained, lost, n - both - gained - lost, 1 - alpha)
        test, p_value = "mcnemar", mcnemar_exact(gained, lost)
        # Power from the interval's own spread: the plug-in SE is 0 when no pair disagrees, which
        # would claim any effect detectable on three samples.
        stderr = max(stderr, (high - low) / (2 * normal_quantile(1 - alpha / 2)))
    else:
        z = normal_quantile(1 - alpha / 2)
        low, high = mean - z * stderr, mean + z * stderr
        test, p_value = "permutation", paired_permutation(differences)
    first_epoch = {k: min(e for s, e in current.scores if s == k) for k in shared}
    flips = [Flip(k, first_epoch[k], then[k], now[k]) for k in shared if now[k] != then[k]]
    return Paired(
        shared=n,
        before=math.fsum(before) / n if n else math.nan,
        after=math.fsum(after) / n if n else math.nan,
        difference=mean,
        low=low,
        high=high,
        stderr=stderr,
        mde=minimum_detectable_effect(stderr, alpha, power),
        test=test,
        p_value=p_value,
        clustered=len(set(labels)) if labels else 0,
        worse=sorted((f for f in flips if f.after < f.before), key=lambda f: f.after - f.before),
        better=sorted((f for f in flips if f.after > f.before), key=lambda f: f.before - f.after),
    )


def pair_runs(
    current: list[RunRecord], baseline: list[RunRecord]
) -> list[tuple[RunRecord, RunRecord | None]]:
    """Each current run with the baseline run of the same task and label (else model); a task
    with one run on each side pairs those (the PR changed the model)."""
    pairs: list[tuple[RunRecord, RunRecord | None]] = []
    for run in current:
        same_task = [b for b in baseline if b.task == run.task]
        match = next((b for b in same_task if b.label == run.label), None)
        match = match or next((b for b in same_task if b.model == run.model), None)
        if match is None and len(same_task) == 1 and sum(r.task == run.task for r in current) == 1:
            match = same_task[0]
        pairs.append((run, match))
    return pairs
