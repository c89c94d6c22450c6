"""The openai SDK's own ceiling on this machine: the `workers` figure's requests with no engine.

    python bench/sdk_ceiling.py                  # both settings, 1 and 2 processes, ~1 minute
    python bench/sdk_ceiling.py --api create     # the SDK's typed `chat.completions.create`

`bench/run.py --only workers` times `inspect-run` at N=2000 / 100 ms / 100 connections and
N=10000 / 50 ms / 500 connections, one process and `workers=2`. This script sends the same
requests to the same local server (`tests.support.openai_server`, on the same cores) from K bare
processes that do nothing else: each is an `openai.AsyncOpenAI` on the SDK's aiohttp transport
with N/K requests and C/K connections, the cheapest way through the SDK, the one inspect-run's
provider takes (`client.post(..., cast_to=httpx2.Response)`: no per-call transform, no pydantic
reply). The processes import and connect first, then start together; the figure is N over the
span from the first request to the last reply, as the `workers` figure counts over the eval's
span. No eval that sends its requests through the SDK can beat it here. Prints figures; always
exits 0. Runs the children with the Python next to `inspect-run` (the venv's: it has openai).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (  # a sibling script
    MEMORY_CONNECTIONS,
    MEMORY_LATENCY,
    THROUGHPUT_CONNECTIONS,
    THROUGHPUT_LATENCY,
    Server,
    find_inspect_run,
)

SETTINGS = (  # the `workers` figure's: (N, latency s, connections in total, target with 2)
    (2000, THROUGHPUT_LATENCY, THROUGHPUT_CONNECTIONS, 900),
    (10000, MEMORY_LATENCY, MEMORY_CONNECTIONS, 1800),
)


async def _send(base_url: str, requests: int, connections: int, api: str) -> dict[str, float]:
    import httpx2
    import openai

    client = openai.AsyncOpenAI(
        api_key="dummy",
        base_url=base_url,
        max_retries=0,
        http_client=openai.DefaultAioHttpClient(),
    )

    async def one(index: int) -> None:
        messages = [{"role": "user", "content": f"Question {index}: A or B?"}]
        if api == "create":
            reply = await client.chat.completions.create(model="bench", messages=messages)  # type: ignore[arg-type]
            assert reply.choices[0].message.content == "A"
            return
        body = {"model": "bench", "messages": messages}
        response = await client.post("/chat/completions", body=body, cast_to=httpx2.Response)
        assert json.loads(response.content)["choices"][0]["message"]["content"] == "A"

    indices = iter(range(requests))

    async def connection() -> None:
        for index in indices:  # the connections share one iterator, as inspect-run's workers do
            await one(index)

    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    cpu, start = time.process_time(), time.time()
    await asyncio.gather(*(connection() for _ in range(connections)))
    end = time.time()
    await client.close()
    return {"start": start, "end": end, "cpu": time.process_time() - cpu}


def child(argv: Sequence[str]) -> int:
    base_url, requests, connections, api = argv[0], int(argv[1]), int(argv[2]), argv[3]
    print(json.dumps(asyncio.run(_send(base_url, requests, connections, api))), flush=True)
    return 0


def ceiling(
    python: str, server: Server, requests: int, connections: int, processes: int, api: str
) -> tuple[float, float]:
    """(requests/s over the span from the first request to the last reply, CPU ms per request)."""
    share = [str(requests // processes), str(connections // processes), api]
    children = [
        subprocess.Popen(
            [python, __file__, "--child", server.base_url, *share],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for process in children:  # imported, client made: only the requests are left
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("a child did not start")
    for process in children:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in children:
        out, _ = process.communicate(timeout=600)
        if process.returncode != 0:
            raise RuntimeError(f"a child exited {process.returncode}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    span = max(r["end"] for r in results) - min(r["start"] for r in results)
    return requests / span, sum(r["cpu"] for r in results) / requests * 1000


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", choices=("post", "create"), default="post")
    parser.add_argument("--reps", type=int, default=2, help="runs of each (the best is printed)")
    args = parser.parse_args(argv)
    python = str(Path(find_inspect_run()).parent / "python")
    print(f"# the openai SDK alone ({args.api}), {python}")
    print(f"{'setting':34}  {'processes':>9}  {'requests/s':>10}  {'cpu ms/req':>10}  target")
    with tempfile.TemporaryFile() as log:
        for requests, latency, connections, target in SETTINGS:
            server = Server(latency, log)
            try:
                for processes in (1, 2):
                    runs = [
                        ceiling(python, server, requests, connections, processes, args.api)
                        for _ in range(args.reps)
                    ]
                    rate, cpu = max(runs)
                    setting = f"N={requests}, {latency * 1000:.0f} ms, {connections} conn"
                    wanted = f"≥ {target}/s (inspect-run, workers=2)" if processes == 2 else ""
                    print(f"{setting:34}  {processes:>9}  {rate:>10.0f}  {cpu:>10.2f}  {wanted}")
            finally:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
