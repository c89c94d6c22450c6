"""Every problem of every job of a sweep at once: the first job's composition problems (which stop
`expand_sweep`) and what they hid, in that job and the others.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.config import ConfigError, Problem, expand_sweep
from engine.runner import all_problems, repairable


def sweep_problems(overrides: Sequence[str]) -> list[Problem]:
    """Every problem of every job of a sweep (`-m`, `+sweep=NAME`), as `all_problems` finds them
    for one run, labelled with the job (as `plan_sweep` labels them); the first job's composition
    problems (which stop `expand_sweep`) once, unlabelled."""
    problems: list[Problem] = []
    overrides = list(overrides)
    try:
        sweep = expand_sweep(overrides)
    except ConfigError as error:  # the first job: look past its problems to find the others
        problems += error.problems
        typed = {p.key for p in error.problems if (p.source or "").startswith("command line")}
        overrides = [o for o in overrides if o.split("=")[0].lstrip("+~") not in typed]
        try:
            sweep = expand_sweep(
                overrides, without=[p.key for p in error.problems if repairable(p)]
            )
        except ConfigError:
            return problems
    first = list(problems)
    for job in sweep.jobs:
        found = [p for p in all_problems(job) if p not in first]
        problems += sweep.job_problems(ConfigError(found), job) if found else []
    return problems


def every_sweep_problem(error: ConfigError, overrides: Sequence[str]) -> ConfigError:
    """What a sweep refused (`error`), plus what its first problems hid (the other jobs'
    problems, a misspelt solver behind a misspelt key): compose-time and plan-time at once."""
    problems = sweep_problems(overrides)
    problems += [p for p in error.problems if p not in problems]
    return ConfigError(problems)
