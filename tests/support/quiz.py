"""A quiz whose right answers are known, and three OpenAI-protocol servers playing models that get
different questions wrong, so which gaps between them are real is known in advance.

    best   (fast)  wrong on q01–q04                  36/40
    close  (mid)   wrong on q01, q02, q05–q07        35/40: vs best 3 lost, 2 won → noise
    weak   (slow)  wrong on q01–q20                  20/40: vs best 16 lost, 0 won → real
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.support.openai_server import OpenAIServer, Request

QUESTIONS = 40
WRONG = {
    "best": {1, 2, 3, 4},
    "close": {1, 2, 5, 6, 7},
    "weak": set(range(1, 21)),
}
SERVICES = {"best": "fast", "close": "mid", "weak": "slow"}
MODELS = ",".join(f"openai-api/{SERVICES[name]}/{name}" for name in WRONG)
"""The sweep's model axis: one model per server, each through its own base URL."""


def write_quiz(root: Path) -> None:
    """`conf/task/quiz.yaml` and its dataset under `root` (the working directory of a run)."""
    (root / "conf" / "task").mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"id": f"q{i:02d}", "input": f"Question {i}: answer A or B.", "target": "A"})
        for i in range(1, QUESTIONS + 1)
    ]
    (root / "quiz.jsonl").write_text("\n".join(lines) + "\n")
    (root / "conf" / "task" / "quiz.yaml").write_text(
        "name: quiz\ndataset:\n  path: quiz.jsonl\nsolvers: [generate]\n"
        "scorers: [{match: {location: exact}}]\n"
    )


def answer(request: Request) -> str:
    number = int(request.messages[-1]["content"].split(":")[0].removeprefix("Question "))
    return "B" if number in WRONG[str(request.model)] else "A"


@contextmanager
def quiz_servers(latency: dict[str, float] | None = None) -> Iterator[dict[str, OpenAIServer]]:
    """One server per model; `latency` per model name (seconds before each answer)."""
    delays = {"best": 0.0, "close": 0.01, "weak": 0.02, **(latency or {})}
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(OpenAIServer(answer, latency=delays[name])) for name in WRONG
        }


def quiz_env(servers: dict[str, OpenAIServer]) -> dict[str, str]:
    env = {}
    for name, server in servers.items():
        prefix = SERVICES[name].upper()
        env[f"{prefix}_BASE_URL"] = server.base_url
        env[f"{prefix}_API_KEY"] = "k"
    return env
