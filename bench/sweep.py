"""Time one sweep run in process, with joblib processes and with submitit's local executor.

    python bench/sweep.py [--samples 40] [--latency 0.05] [--reps 2]

Three models (tests.support.quiz), each on its own local server with `--latency` seconds per answer,
`connection.max_connections=4`. Each sweep is `inspect-run -m …` in a subprocess with its own sweep
folder, so nothing is reused. Prints wall time per launcher (median of `--reps`); asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.quiz import MODELS, quiz_env, quiz_servers, write_quiz  # noqa: E402

LAUNCHERS = {
    "in process (default)": [],
    "joblib, 2 processes": ["hydra/launcher=processes"],
    "submitit local": ["hydra/launcher=local_submitit"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    inspect_run = str(Path(sys.executable).parent / "inspect-run")
    latency = dict.fromkeys(("best", "close", "weak"), args.latency)
    with tempfile.TemporaryDirectory() as folder, quiz_servers(latency) as servers:
        root = Path(folder)
        write_quiz(root)
        env = {**os.environ, **quiz_env(servers)}
        print(f"3 models × {args.samples} samples, {args.latency:.3f} s per answer, 4 connections")
        for name, extra in LAUNCHERS.items():
            walls = []
            for rep in range(args.reps):
                started = time.perf_counter()
                subprocess.run(
                    [inspect_run, "-m", "task=quiz", f"model={MODELS}", f"limit={args.samples}",
                     "connection.max_connections=4", "display=none",
                     f"hydra.sweep.dir=logs/{len(walls)}-{rep}-{name[:6]}", *extra],
                    cwd=root, env=env, check=True, capture_output=True,
                )  # fmt: skip
                walls.append(time.perf_counter() - started)
            print(f"  {name:<22} {statistics.median(walls):6.1f} s wall (median of {args.reps})")


if __name__ == "__main__":
    main()
