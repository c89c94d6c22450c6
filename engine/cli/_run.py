"""`inspect-run [-m] [--cfg job] KEY=VALUE …`: run one eval, or a sweep (`-m`, `+sweep=NAME`).

The default command: a first word that is no command name starts a run (`run` may be written too).
A single run composes with Hydra's compose API and runs in process; a sweep validates every job
first (exit 2 before any request), then runs the jobs not already logged, in process or through the
Hydra launcher selected, and prints the comparison table. `--cfg job` prints the validated, resolved
config (credentials masked) and sends nothing.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from engine.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    Parser,
    Subparsers,
    fail,
)
from engine.cli._help import DESCRIPTION, USAGE, run_help

if TYPE_CHECKING:
    from engine.config import Composed


def register(subparsers: Subparsers) -> Parser:
    parser = subparsers.add_parser(
        "run",
        help="run an eval (the default: `inspect-run KEY=VALUE …`)",
        usage=USAGE.removeprefix("usage: "),
        description=DESCRIPTION,
    )
    parser.help_tail = run_help
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="Hydra overrides: KEY=VALUE, GROUP=OPTION, +roles.NAME=MODEL, ~KEY",
    )
    parser.add_argument(
        "-m",
        "--multirun",
        action="store_true",
        help="sweep: every combination of the comma-separated values",
    )
    parser.add_argument(
        "--json", action="store_true", help="with plan=true: print the plan as JSON"
    )
    parser.add_argument(
        "--cfg",
        choices=["job"],
        help="print the validated, resolved config (credentials masked) and send nothing",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from engine.config import load_dotenv

    overrides: list[str] = args.overrides
    # A sweep config (`+sweep=NAME`) means a sweep, with or without -m.
    multirun = args.multirun or any(o.lstrip("+").startswith("sweep=") for o in overrides)
    load_dotenv()
    if args.cfg:
        if multirun:
            return fail("--cfg job prints one run's config: drop -m and +sweep=, name one job")
        return _print_config(overrides)
    as_json: bool = args.json
    return _multirun(overrides, as_json) if multirun else _single(overrides, as_json)


def _compose(overrides: list[str]) -> Composed | int:
    """The validated config, or the exit status after printing every problem at once."""
    from engine.config import ConfigError, compose_config
    from engine.runner import all_problems

    try:
        return compose_config(overrides)
    except ConfigError:
        # Also what the first problems hide (a misspelt solver behind a misspelt key).
        return fail(ConfigError(all_problems(overrides)))


def _print_config(overrides: list[str]) -> int:
    """Hydra's `--cfg job`, checked as far as a run is before its first request, minus what needs
    an API key (models are checked by name, no client is made)."""
    import yaml

    from engine._secrets import Redactor, redact_tree
    from engine.config import ConfigError
    from engine.runner import build_plan

    composed = _compose(overrides)
    if isinstance(composed, int):
        return composed
    try:
        build_plan(composed, fetch=False, connect=False)
    except ConfigError as error:
        return fail(error)
    tree = redact_tree(composed.resolved)
    print(Redactor()(yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)), end="")
    return EXIT_OK


def _print_plan(estimates: Any, reused: list[str], as_json: bool) -> int:
    from engine.runner import render_json, render_text

    print(render_json(estimates, reused) if as_json else render_text(estimates, reused))
    return EXIT_OK


def _plan_single(composed: Composed, as_json: bool) -> int:
    from engine.config import ConfigError
    from engine.runner import build_plan, estimate_plans

    try:
        plan = build_plan(composed)
    except ConfigError as error:
        return fail(error)
    return _print_plan(estimate_plans([("", plan)]), [], as_json)


def _single(overrides: list[str], as_json: bool = False) -> int:
    from engine._gc import startup

    with startup():  # imports and composition, the collector paused (see engine._gc)
        from engine.config import ConfigError
        from engine.logs import FolderBusy, RemoteLogError
        from engine.runner import results_table, run_composed

        composed = _compose(overrides)
    if isinstance(composed, int):
        return composed
    if composed.config.plan:
        return _plan_single(composed, as_json)
    try:
        composed, split = _split(composed, overrides)
        if split is not None:
            return split
        result = run_composed(composed)
    # A RemoteLogError (exit 1) leaves the run complete in its local staging folder.
    except (ConfigError, FolderBusy, RemoteLogError) as error:
        return fail(error)
    print(results_table([result]))
    for reason in result.error_reasons[:5]:  # already redacted
        print(f"  failed sample: {reason}", file=sys.stderr)
    code = EXIT_FAILED if result.failed else EXIT_OK
    return _gated(code, composed.config, [result.log_path])


def _split(composed: Composed, overrides: list[str]) -> tuple[Composed, int | None]:
    """A Slurm array task or Kubernetes Indexed Job pod runs its shard (`shard=I/N` added);
    `workers=K` runs K shard processes and merges them (then its exit status is returned)."""
    from engine.config import ConfigError, Problem, compose_config
    from engine.shards import describe, env_shard, run_workers

    try:
        shard = env_shard(composed.config)
    except ValueError as error:
        raise ConfigError([Problem("shard", str(error), "environment")]) from None
    if shard is not None:
        overrides = [*overrides, f"shard={shard}"]
        composed = compose_config(overrides)
    if not composed.config.runs_workers:
        return composed, None  # one process (perhaps one of the workers)
    from engine.cli._main import main

    code, merged = run_workers(composed, overrides, main)
    if merged is None:
        return composed, code
    print(describe(merged))
    return composed, _gated(code, composed.config, [merged.path])


def _multirun(overrides: list[str], as_json: bool = False) -> int:
    from engine.config import ConfigError
    from engine.logs import FolderBusy
    from engine.sweeps import every_sweep_problem, run_sweep

    try:
        outcome = run_sweep(overrides)
    except ConfigError as error:
        return fail(every_sweep_problem(error, overrides))
    except FolderBusy as error:
        return fail(error)
    if outcome.estimates is not None:  # plan: true
        return _print_plan(outcome.estimates, outcome.reused, as_json)
    print(outcome.comparison.to_text())
    print(f"\ncomparison.md, .csv, .json and every log: {outcome.folder}")
    for job in outcome.failed:
        print(f"  job did not succeed: {' '.join(job.overrides)} ({job.folder})", file=sys.stderr)
    code = EXIT_FAILED if outcome.failed else EXIT_OK
    return _gated(code, outcome.jobs[0].composed.config, [outcome.folder]) if outcome.jobs else code


def _gated(code: int, config: Any, logs: list[Any]) -> int:
    """With `gate=NAME`, the gate's verdict decides the exit status of a run that succeeded."""
    if config.gate is None:
        return code
    from engine.gate import apply_gate

    prices = {k: v.model_dump() for k, v in config.prices.items()} or None
    verdict = apply_gate(config.gate, logs, prices)
    return code if code != EXIT_OK else verdict
