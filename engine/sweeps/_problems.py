"""Every problem of every job of a sweep at once: the first job's composition problems (which stop
`expand_sweep`) and what they hid, in that job and the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.config import ConfigError, Problem, expand_sweep
from engine.runner import all_problems, repairable


@dataclass(frozen=True)
class SweepProblems:
    """What checking a sweep found, in the two parts `validate` labels apart."""

    composing: list[Problem]
    """The first job's composition problems: they stop the sweep's expansion."""
    jobs: list[list[Problem]]
    """Each job's other problems, labelled with the job (as `plan_sweep` labels them); one list
    per job checked, empty when it has none."""

    def all(self) -> list[Problem]:
        return self.composing + [problem for job in self.jobs for problem in job]


def check_sweep(overrides: Sequence[str]) -> SweepProblems:
    """Every problem of every job of a sweep (`-m`, `+sweep=NAME`), as `all_problems` finds them
    for one run. A sweep whose first job does not compose is expanded again without the keys at
    fault, so the other jobs are still checked."""
    composing: list[Problem] = []
    overrides = list(overrides)
    try:
        sweep = expand_sweep(overrides)
    except ConfigError as error:  # the first job: look past its problems to find the others
        composing = list(error.problems)
        typed = {p.key for p in composing if (p.source or "").startswith("command line")}
        overrides = [o for o in overrides if o.split("=")[0].lstrip("+~") not in typed]
        try:
            sweep = expand_sweep(overrides, without=[p.key for p in composing if repairable(p)])
        except ConfigError:
            return SweepProblems(composing, [])
    jobs = []
    for index, job in enumerate(sweep.jobs):
        first = sweep.first if index == 0 and not composing else None  # composed already
        found = [p for p in all_problems(job, composed=first) if p not in composing]
        jobs.append(sweep.job_problems(ConfigError(found), job) if found else [])
    return SweepProblems(composing, jobs)


def sweep_problems(overrides: Sequence[str]) -> list[Problem]:
    """Every problem of every job of a sweep; the first job's composition problems once,
    unlabelled."""
    return check_sweep(overrides).all()


def every_sweep_problem(error: ConfigError, overrides: Sequence[str]) -> ConfigError:
    """What a sweep refused (`error`), plus what its first problems hid (the other jobs'
    problems, a misspelt solver behind a misspelt key): compose-time and plan-time at once."""
    problems = sweep_problems(overrides)
    problems += [p for p in error.problems if p not in problems]
    return ConfigError(problems)
