"""Where a 1-sample run's start-up goes: CPU ms per phase, best of N fresh interpreters.

    .venv/bin/python bench/startup_phases.py          # 7 runs
    .venv/bin/python bench/startup_phases.py 11

The same eval as `bench/run.py`'s 1-sample figure (its dataset, task config and local server),
run N times in a fresh interpreter as the console script runs it (`engine.cli.cli`, the collector
paused as `main` pauses it), with a timer around each phase: importing the CLI, importing the
engine's run path, composing the config, planning, the SDK's import and client, the eval itself.
Then the whole process N times more without timers (`inspect-run …`: wall and CPU, as `run.py`
measures them) and `python -c pass`. CPU, not wall, per phase: on a shared machine it moves
least. Needs the venv's Python (the child imports `engine`).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import FULL, Bench, find_inspect_run, spawn  # a sibling script (bench/ is not a package)

CHILD = r"""
import time
started = time.process_time()
import contextlib, io, json, sys
rows = {}

def mark(label, since):
    rows[label] = rows.get(label, 0.0) + (time.process_time() - since) * 1000

since = time.process_time()
import engine.cli
mark("import engine.cli (argparse, the subcommands' modules)", since)
since = time.process_time()
from engine._gc import freeze_after_startup, startup
freeze_after_startup()  # as the console script does
with startup():
    import engine.cli._run as cli_run
    import engine.runner
    import engine.runner._execute as execute
    import engine.runner._run as run
    import engine.providers._api as api
mark("import the run path (runner, logs, providers; pydantic)", since)

def timed(module, name, label):
    function = getattr(module, name)
    def wrapper(*args, **kwargs):
        since = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            mark(label, since)
    setattr(module, name, wrapper)

timed(cli_run, "_compose", "compose: Hydra's import and composition, the schema, validation")
timed(execute, "build_plan", "plan: dataset, solvers, scorers, models (no SDK yet)")
connect = api.ModelAPI.connect
def timed_connect(self):
    since = time.process_time()
    connect(self)
    mark("SDK: import openai (aiohttp, httpx2, its types) and make the client", since)
api.ModelAPI.connect = timed_connect
timed(execute, "_save_config", "save config.yaml and overrides.yaml")
timed(execute, "run_interruptible", "the eval: event loop, log header, 1 request, log written")
timed(run, "git_revision", "  of which the git revision (subprocess)")
timed(run, "package_versions", "  of which package versions (importlib.metadata)")
since = time.process_time()
with contextlib.redirect_stdout(io.StringIO()):
    code = engine.cli.cli(sys.argv[1:])
whole = (time.process_time() - since) * 1000
counted = [v for k, v in rows.items() if not k.startswith(("import", " "))]
rows["the rest of cli(): claiming the folder, results table, …"] = whole - sum(counted)
rows["in process, all of the above"] = (time.process_time() - started) * 1000
print(json.dumps({"code": code, "rows": rows}))
"""


def main() -> int:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    workdir = Path(tempfile.mkdtemp(prefix="inspect-run-startup-"))
    bench = Bench(find_inspect_run(), workdir, FULL, timeout=300, keep_logs=False)
    try:
        server = bench.server(0.0)
        env = bench.child_env()
        env.pop("INSPECT_EVAL_MODEL", None)
        env |= {
            "INSPECT_RUN_CONFIG_PATH": str(bench.config_dir(1)),
            "BENCH_BASE_URL": server.base_url,
            "BENCH_API_KEY": "dummy",
        }
        words = ["task=bench", "model=openai-api/bench/bench", "limit=1"]
        words += ["connection.max_connections=10", "display=none"]
        runs: list[dict[str, float]] = []
        for index in range(repeat + 1):  # the first one writes the bytecode cache
            log_dir = workdir / "logs" / str(index)
            done = subprocess.run(
                [sys.executable, "-c", CHILD, *words, f"log_dir={log_dir}"],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                print(f"bench: the run failed: {done.stderr[-2000:]}")
                return 0
            result = json.loads(done.stdout.splitlines()[-1])
            if result["code"] != 0:
                print(f"bench: the run exited {result['code']}: {done.stderr[-2000:]}")
                return 0
            if index:
                runs.append(result["rows"])
        whole = [
            spawn([bench.executable, *words, f"log_dir={workdir / 'logs' / f'w{i}'}"], env,
                  workdir, 300)
            for i in range(repeat)
        ]  # fmt: skip
        empty = [spawn([sys.executable, "-c", "pass"], env, workdir, 60) for _ in range(repeat)]
    finally:
        bench.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"# a 1-sample run's start-up, CPU ms (best and median of {repeat}; load {load:.1f})")
    print(f"{'phase':<72} {'best':>6} {'median':>7}")
    for label in runs[0]:
        values = [run[label] for run in runs]
        print(f"{label:<72} {min(values):6.0f} {statistics.median(values):7.0f}")
    print(
        f"{'python -c pass (the interpreter and site)':<72} "
        f"{min(e.cpu for e in empty) * 1000:6.0f} {statistics.median(e.cpu for e in empty) * 1000:7.0f}"
    )
    print(
        f"\nwhole process `inspect-run … limit=1` ({repeat} runs): wall best "
        f"{min(w.wall for w in whole):.3f} s, median {statistics.median(w.wall for w in whole):.3f} s;"
        f" CPU best {min(w.cpu for w in whole):.3f} s (with the git calls it waits for)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
