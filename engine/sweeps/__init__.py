"""Sweeps: many task × model (× role, × setting) jobs, reused when done, then compared.

Only the config layer, the CLI and this package know that Hydra exists.
"""

from engine.sweeps._jobs import MANIFEST, Job, classify, job_folder, sweep_folder
from engine.sweeps._problems import SweepProblems, check_sweep, every_sweep_problem, sweep_problems
from engine.sweeps._ray import RayTasks, run_parts_on_ray
from engine.sweeps._sweep import SweepOutcome, estimate_sweep, plan_sweep, run_sweep

__all__ = [
    "MANIFEST",
    "Job",
    "RayTasks",
    "SweepOutcome",
    "SweepProblems",
    "check_sweep",
    "classify",
    "estimate_sweep",
    "every_sweep_problem",
    "job_folder",
    "plan_sweep",
    "run_parts_on_ray",
    "run_sweep",
    "sweep_folder",
    "sweep_problems",
]
