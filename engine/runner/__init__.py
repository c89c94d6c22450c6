"""Plan and run evals. Knows nothing of Hydra: it takes a validated, composed config."""

from engine.runner._budget import Budget
from engine.runner._display import (
    Display,
    PlainDisplay,
    RichDisplay,
    make_display,
    new_progress,
    results_table,
)
from engine.runner._estimate import JobEstimate
from engine.runner._execute import PreparedRun, default_run_dir, execute, prepare_run, run_composed
from engine.runner._interrupt import run_interruptible
from engine.runner._plan import (
    EvalPlan,
    SelectedSamples,
    SharedSelections,
    build_plan,
    identity_of,
    sharing_digests,
)
from engine.runner._plan_report import estimate_plans, render_json, render_text
from engine.runner._problems import all_problems, repairable
from engine.runner._rescore import score_command
from engine.runner._run import (
    EvalResult,
    errors_exceed,
    log_file_name,
    reductions_record,
    results_record,
    run_plan,
    safe_name,
)

__all__ = [
    "Budget",
    "Display",
    "EvalPlan",
    "EvalResult",
    "JobEstimate",
    "PlainDisplay",
    "PreparedRun",
    "RichDisplay",
    "SelectedSamples",
    "SharedSelections",
    "all_problems",
    "build_plan",
    "default_run_dir",
    "errors_exceed",
    "estimate_plans",
    "execute",
    "identity_of",
    "log_file_name",
    "make_display",
    "new_progress",
    "prepare_run",
    "reductions_record",
    "render_json",
    "render_text",
    "repairable",
    "results_record",
    "results_table",
    "run_composed",
    "run_interruptible",
    "run_plan",
    "safe_name",
    "score_command",
    "sharing_digests",
]
