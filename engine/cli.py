"""The `inspect-run` command. Only this module and `engine.config` know that Hydra exists.

A single run composes with Hydra's compose API and runs in process; `-m` (or `+sweep=NAME`) validates
every job of the sweep first (exit 2 before any request), then runs the jobs not already logged, in
process or through the Hydra launcher selected, and prints the comparison table.
Help is answered without importing Hydra, pydantic or any SDK, so it is instant.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_BAD_CONFIG = 0, 1, 2
EXIT_BUSY = 75
"""Another live process owns the run or sweep folder (`EX_TEMPFAIL`); this one sent nothing."""
EXIT_INTERRUPTED = 130
"""Ctrl-C or SIGTERM: the log is `cancelled` and the same command resumes it."""

_USAGE = """\
usage: inspect-run [-m] [KEY=VALUE | GROUP=OPTION | +roles.NAME=MODEL …]
       inspect-run +sweep=NAME [KEY=VALUE …]
       inspect-run report PATH… [-o report.html]
       inspect-run score LOG… [SCORER…] [roles.grader=MODEL] [KEY=VALUE…]
       inspect-run gate LOGS… [gate=NAME] [baseline=LOGS|REF|REF:PATH]
       inspect-run merge SHARD_LOGS… [-o OUT]
       inspect-run list
       inspect-run validate [CONFIG_DIR …]
       inspect-run cache list|clear|prune
       inspect-run schemas [--check]

Run an eval composed from YAML config groups. With no arguments: theory_of_mind on the embedded
local model (SmolLM2 through llama.cpp), graded by the same model.

examples:
  inspect-run task=theory_of_mind model=openai/gpt-4o-mini roles.grader=openai/gpt-4o
  inspect-run -m task=theory_of_mind model=openai/gpt-4o,groq/llama-3.3-70b-versatile
  inspect-run model=vllm/Qwen/Qwen3-8B model_base_url=http://gpu:8000/v1 limit=50
  inspect-run model=openai/gpt-4o generation.temperature=0 connection.max_connections=50
  inspect-run preset=smollm2 model_args.n_ctx=4096

keys: model, model_args.KEY, model_base_url, roles.NAME, generation.*, connection.*, batch.*,
      limit (N or [start,end]), sample_id, epochs, epochs_reducer, shuffle, seed, fail_on_error,
      log_dir, log_format (eval|json), tags, shard (I/N, from 0), shards, workers,
      metadata.KEY, display (auto|rich|plain|none)
model strings: PROVIDER/NAME; model=none for tasks that only use roles; unset → INSPECT_EVAL_MODEL
API keys come from the environment or a .env file, never from config.
exit status: 0 success, 1 samples failed beyond fail_on_error (or gate FAIL), 2 bad config,
             3 gate INCONCLUSIVE (gate=NAME on a run or sweep, or `inspect-run gate`),
             75 another process is running the same eval (nothing sent), 130 interrupted
             (Ctrl-C or SIGTERM; the same command resumes)
"""


def _help() -> str:
    from engine.config._searchpath import group_options

    groups = ["task", "generation", "connection", "batch", "cache", "roles", "prices", "preset"]
    groups += ["sweep", "gate", "hydra/launcher"]
    lines = [_USAGE, "config groups (user dirs: ./conf and INSPECT_RUN_CONFIG_PATH first):"]
    lines += [f"  {group}: {', '.join(group_options(group)) or '-'}" for group in groups]
    return "\n".join(lines)


def _fail_config(error: Exception) -> int:
    from engine.logs import redact

    print(redact(f"inspect-run: {error}"), file=sys.stderr)
    return EXIT_BAD_CONFIG


def _fail_busy(error: Exception) -> int:
    from engine.logs import redact

    print(redact(f"inspect-run: {error}"), file=sys.stderr)
    return EXIT_BUSY


def _single(overrides: list[str]) -> int:
    from engine.config._compose import compose_config
    from engine.config._errors import ConfigError
    from engine.logs import FolderBusy, RemoteLogError
    from engine.runner import results_table, run_composed

    try:
        composed = compose_config(overrides)
    except ConfigError:
        from engine.config._validate import all_problems

        # Also what the first problems hide (a misspelt solver behind a misspelt key).
        return _fail_config(ConfigError(all_problems(overrides)))
    try:
        composed, split = _split(composed, overrides)
        if split is not None:
            return split
        result = run_composed(composed)
    except ConfigError as error:
        return _fail_config(error)
    except FolderBusy as error:
        return _fail_busy(error)
    except RemoteLogError as error:  # the run is complete in its local staging folder
        print(f"inspect-run: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(results_table([result]))
    for reason in result.error_reasons[:5]:  # already redacted
        print(f"  failed sample: {reason}", file=sys.stderr)
    code = EXIT_FAILED if result.failed else EXIT_OK
    return _gated(code, composed.config, [result.log_path])


def _split(composed: Any, overrides: list[str]) -> tuple[Any, int | None]:
    """A Slurm array task or Kubernetes Indexed Job pod runs its shard (`shard=I/N` added);
    `workers=K` runs K shard processes and merges them (then its exit status is returned)."""
    from engine.config._compose import compose_config
    from engine.config._errors import ConfigError, Problem
    from engine.shards import env_shard, run_workers

    try:
        shard = env_shard(composed.config)
    except ValueError as error:
        raise ConfigError([Problem("shard", str(error), "environment")]) from None
    if shard is not None:
        overrides = [*overrides, f"shard={shard}"]
        composed = compose_config(overrides)
    if composed.config.workers == 1 or composed.config.shard is not None:
        return composed, None  # one process (with `shard`: one of the workers)
    from engine.shards._command import describe

    code, merged = run_workers(composed, overrides)
    if merged is None:
        return composed, code
    print(describe(merged))
    return composed, _gated(code, composed.config, [merged.path])


def _multirun(overrides: list[str]) -> int:
    from engine.config._errors import ConfigError
    from engine.logs import FolderBusy
    from engine.sweeps import run_sweep

    try:
        outcome = run_sweep(overrides)
    except ConfigError as error:
        return _fail_config(error)
    except FolderBusy as error:
        return _fail_busy(error)
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


_COMMANDS = ("help", "list", "validate", "cache", "schemas", "report", "score", "gate", "merge")


def _unknown_command(args: list[str]) -> str | None:
    """A first word that is neither a command nor an override (`valdate`): say so, with a
    did-you-mean, rather than let Hydra fail to parse it."""
    if not args or args[0].startswith(("-", "+", "~")) or "=" in args[0]:
        return None
    from engine.registry import did_you_mean

    word = args[0]
    return (
        f"inspect-run: unknown command '{word}'{did_you_mean(word, _COMMANDS)} "
        "(commands: " + ", ".join(_COMMANDS) + "; a run takes KEY=VALUE overrides)"
    )


def cli(args: Sequence[str]) -> int:
    args = list(args)
    if args and args[0] in ("-h", "--help", "help"):
        print(_help())
        return EXIT_OK
    if args and args[0] == "--version":
        from engine import __version__

        print(f"inspect-run {__version__}")
        return EXIT_OK
    if args and args[0] == "list":
        from engine.config._catalog import list_command

        status = list_command(args[1:])
        if status == EXIT_OK:  # then solvers, scorers, metrics, reducers: built-in and yours
            from engine._listing import print_components

            print()
            print_components()
        return status
    if args and args[0] == "validate":
        from engine.config._validate import validate_command

        return validate_command(args[1:])
    if args and args[0] == "cache":
        from engine.cache import cache_command

        return cache_command(args[1:])
    if args and args[0] == "schemas":
        from engine.config._jsonschema import schemas_command

        return schemas_command(args[1:])
    if args and args[0] == "score":
        from engine.config._compose import load_dotenv
        from engine.runner._rescore import score_command

        load_dotenv()
        return score_command(args[1:])
    if args and args[0] == "gate":
        from engine.gate import gate_command

        return gate_command(args[1:])
    if args and args[0] == "merge":
        from engine.shards import merge_command

        return merge_command(args[1:])
    if args and args[0] == "report":
        from engine.compare._command import report_command

        return report_command(args[1:])
    unknown = _unknown_command(args)
    if unknown is not None:
        print(unknown, file=sys.stderr)
        return EXIT_BAD_CONFIG
    # A sweep config (`+sweep=NAME`) means a sweep, with or without -m.
    multirun = any(a in ("-m", "--multirun") or a.lstrip("+").startswith("sweep=") for a in args)
    overrides = [a for a in args if a not in ("-m", "--multirun")]
    flags = [a for a in overrides if a.startswith("-")]
    if flags:
        print(f"inspect-run: unknown option {flags[0]} (see inspect-run --help)", file=sys.stderr)
        return EXIT_BAD_CONFIG

    from engine.config._compose import load_dotenv

    load_dotenv()
    return _multirun(overrides) if multirun else _single(overrides)


def _as_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM does whatever Ctrl-C does at that moment: while an eval runs, the event loop's own
    SIGINT handler cancels it cleanly (the log is written `cancelled`); elsewhere it raises
    KeyboardInterrupt. Either way the command ends with EXIT_INTERRUPTED and no traceback."""
    import signal

    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)  # type: ignore[arg-type]
    else:
        raise KeyboardInterrupt


def main() -> None:
    import signal

    # A CI job killed at its time limit gets SIGTERM: stop exactly as on Ctrl-C.
    signal.signal(signal.SIGTERM, _as_ctrl_c)
    try:
        sys.exit(cli(sys.argv[1:]))
    except KeyboardInterrupt:
        print("inspect-run: interrupted; scored samples are in the log", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (`inspect-run list | head -3`): stop quietly, as other tools do,
        # and keep Python from complaining again when it flushes stdout at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)


if __name__ == "__main__":  # `python -m engine.cli`: how `workers=K` starts its workers
    main()
