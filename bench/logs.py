"""Log size and the cost of opening a big log. Prints figures; always exits 0.

    .venv/bin/python bench/logs.py                  # 300-sample runs, then a 100,000-sample .eval
    .venv/bin/python bench/logs.py --samples 100 --big 20000

1. Bytes per sample, both formats: the same graded eval (theory_of_mind, a model and a grader, so
   every sample carries two model events) runs in process against the local OpenAI-protocol test
   server once with `log_format=eval` and once with `log_format=json`.
2. A `.eval` log of `--big` samples, written by the real writer (copies of a real sample with
   fresh ids), then opened the way `inspect view` opens a log's first page: the zip's central
   directory, `header.json` and `summaries.json` only. Printed: how many of the file's bytes that
   page reads, and how long inspect_ai takes to read the header and the sample summaries.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _respond(request: object) -> str:
    prompt = request.messages[-1]["content"]  # type: ignore[attr-defined]
    return "Same container.\nGRADE: C" if "[Expert answer]" in prompt else "the basket"


def bytes_per_sample(workdir: Path, samples: int) -> dict[str, Path]:
    import engine
    from tests.support.openai_server import OpenAIServer

    os.chdir(workdir)
    os.environ["OPENAI_API_KEY"] = "bench"
    os.environ["INSPECT_RUN_CACHE_DIR"] = str(workdir / "cache")
    logs = {}
    with OpenAIServer(_respond) as server:
        os.environ["OPENAI_BASE_URL"] = server.base_url
        for log_format in ("eval", "json"):
            result = engine.run(
                [
                    "task=theory_of_mind",
                    "model=openai/m",
                    "roles.grader=openai/judge",
                    f"limit={samples}",
                    f"log_format={log_format}",
                    "display=none",
                    "resume=false",
                ]
            )
            logs[log_format] = result.log_path
            count = result.samples
            size = result.log_path.stat().st_size
            print(
                f"  {log_format:>4}: {size:>11,} bytes for {count} samples = "
                f"{size / count:>8,.0f} bytes per sample"
            )
    return logs


def big_eval(workdir: Path, source: Path, samples: int) -> None:
    from inspect_ai.log import read_eval_log, read_eval_log_sample_summaries

    from engine.logs import EvalLogWriter, iter_log_samples, read_log_header

    header = read_log_header(source)
    template = next(iter_log_samples(source))
    header["eval"]["dataset"].update(samples=samples, sample_ids=list(range(samples)))
    header["eval"]["config"]["epochs"] = 1
    path = workdir / "2026-01-01T00-00-00_big_bench.eval"
    writer = EvalLogWriter(path, {"eval": header["eval"], "plan": header["plan"]})
    started = time.perf_counter()
    writer.start()
    for index in range(samples):
        writer.write_sample({**template, "id": index, "epoch": 1})
    writer.finish("success", header.get("results"), header.get("stats") or {})
    wrote = time.perf_counter() - started
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        directory = size - archive.start_dir  # the central directory and its end records
    first_page = directory + sum(
        infos[name].compress_size + 30 + len(name) for name in ("header.json", "summaries.json")
    )
    print(f"  wrote {samples:,} samples in {wrote:.1f}s ({samples / wrote:,.0f} samples/s)")
    print(f"  file {size:,} bytes ({size / samples:,.0f} per sample)")
    print(
        f"  first page reads {first_page:,} bytes ({first_page / size:.1%} of the file): central "
        f"directory {directory:,}, header.json {infos['header.json'].compress_size:,}, "
        f"summaries.json {infos['summaries.json'].compress_size:,} (compressed)"
    )
    started = time.perf_counter()
    read_eval_log(str(path), header_only=True)
    header_seconds = time.perf_counter() - started
    started = time.perf_counter()
    summaries = read_eval_log_sample_summaries(str(path))
    summary_seconds = time.perf_counter() - started
    print(
        f"  inspect_ai: header {header_seconds:.2f}s, {len(summaries):,} summaries "
        f"{summary_seconds:.2f}s (no sample entry read)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--big", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        print(f"bytes per sample (theory_of_mind, model + grader, limit={args.samples}):")
        logs = bytes_per_sample(workdir, args.samples)
        if args.big:
            print(f".eval of {args.big:,} samples, opened as inspect view opens its first page:")
            big_eval(workdir, logs["eval"], args.big)
    return 0


if __name__ == "__main__":
    sys.exit(main())
