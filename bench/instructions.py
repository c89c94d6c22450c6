"""The engine's own work per sample as a count of machine instructions: an A/B that machine noise
cannot swamp. Prints figures; always exits 0.

    .venv/bin/python bench/instructions.py                     # N=1 and N=401, ~2 minutes
    .venv/bin/python bench/instructions.py --model openai      # the same through the openai SDK
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/instructions.py   # that code's

On a shared 2-core machine the same run's CPU time drifts by 10–25 % from one minute to the
next, more than most changes to a sample's path save. Valgrind's callgrind counts the
instructions a process executes, which do not drift: the `engine` figure of `bench/run.py`
(`mockllm/model` answers in process: no SDK, no HTTP) runs under it at N=1 and N=1+`--samples`,
and the difference over `--samples` is the instructions per sample. The two runs go side by side
(one per core). Each run is ~50× slower than without valgrind. `--model openai` counts the cpu
figure's eval instead (the openai SDK against the local server at 0 ms, 100 connections; only
the `inspect-run` process is counted): the SDK's request path beside the engine's work.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (  # a sibling script
    BENCH_MODEL,
    CPU_CONNECTIONS,
    ENGINE_MODEL,
    FULL,
    Bench,
    find_inspect_run,
)

MODELS = {"mockllm": ENGINE_MODEL, "openai": BENCH_MODEL}


def instructions(
    bench: Bench, executable: str, samples: int, config: Path, model: str
) -> int | None:
    """Instructions the `inspect-run` process executed for an N-sample eval (None: no count)."""
    env = bench.child_env() | {"INSPECT_RUN_CONFIG_PATH": str(config), "PYTHONHASHSEED": "0"}
    if model == BENCH_MODEL:
        env |= {"BENCH_BASE_URL": bench.server(0.0).base_url, "BENCH_API_KEY": "dummy"}
    with tempfile.TemporaryDirectory() as log_dir:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                executable,
                "task=bench",
                f"model={model}",
                f"limit={samples}",
                f"connection.max_connections={CPU_CONNECTIONS}",
                "display=none",
                f"log_dir={log_dir}",
            ],
            env=env,
            cwd=bench.workdir,
            capture_output=True,
            text=True,
            check=False,
        )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        print(f"  N={samples}: exit {done.returncode}: {done.stderr[-400:]}", flush=True)
        return None
    return int(found.group(1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=400, help="samples beyond the first")
    parser.add_argument(
        "--model", choices=sorted(MODELS), default="mockllm", help="mockllm/model or the openai SDK"
    )
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: nothing to count")
        return 0
    executable = shutil.which("inspect-run", path=str(Path(sys.executable).parent))
    executable = executable or find_inspect_run()
    workdir = Path(tempfile.mkdtemp(prefix="inspect-run-instructions-"))
    bench = Bench(executable, workdir, FULL, timeout=3600, keep_logs=False)
    model = MODELS[args.model]
    try:
        total = 1 + args.samples
        config = bench.config_dir(total)  # one dataset: N=1 runs its first sample
        subprocess.run(  # compile the bytecode cache outside the count
            [executable, "task=bench", f"model={ENGINE_MODEL}", "limit=1", "display=none"],
            env=bench.child_env() | {"INSPECT_RUN_CONFIG_PATH": str(config)},
            cwd=workdir,
            capture_output=True,
            check=False,
        )
        if model == BENCH_MODEL:
            bench.server(0.0)  # started once, before the two runs share it
        with ThreadPoolExecutor(max_workers=2) as pool:
            one, many = pool.map(
                lambda n: instructions(bench, executable, n, config, model), (1, total)
            )
    finally:
        bench.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
    engine = os.environ.get("PYTHONPATH") or "the installed engine"
    print(f"# instructions, {model}, {engine}")
    if one is None or many is None:
        return 0
    print(f"N=1        {one / 1e9:8.3f} G (start-up and one sample)")
    print(f"N={total:<8} {many / 1e9:8.3f} G")
    print(f"per sample {(many - one) / args.samples / 1e6:8.3f} M instructions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
