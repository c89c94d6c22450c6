"""`inspect-run report` writes one self-contained page; a real headless Chromium renders it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from engine.compare._html import PALETTE, _scatter
from engine.compare._table import Row
from tests.support.quiz import MODELS, quiz_env, quiz_servers, write_quiz
from tests.test_cli import run_cli

# One worker runs this module: renders the report in Chromium once (module fixtures); slow, so
# it starts early instead of making a tail.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("test_report")]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed (Debian: apt-get install chromium)")
    return found


def render(chromium: str, page: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={profile}", *mode, page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A priced sweep over the quiz's three models, and its report."""
    root = tmp_path_factory.mktemp("report")
    write_quiz(root)
    (root / "conf" / "prices").mkdir()
    (root / "conf" / "prices" / "default.yaml").write_text(
        "openai-api/fast/best: {input: 3.0, output: 9.0}\n"
        "openai-api/mid/close: {input: 1.0, output: 2.0}\n"
        "openai-api/slow/weak: {input: 0.2, output: 0.4}\n"
    )
    with quiz_servers() as servers:
        done = run_cli(
            "-m", "task=quiz", f"model={MODELS}", "display=none", "hydra.sweep.dir=logs/s",
            cwd=root, env=quiz_env(servers),
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    made = run_cli("report", "logs/s", cwd=root)
    assert made.returncode == 0, made.stderr
    assert "report: logs/s/report.html" in made.stdout
    yield root / "logs" / "s" / "report.html"


def test_the_page_is_self_contained(report: Path) -> None:
    page = report.read_text()
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page and "<link" not in page


def test_chromium_renders_the_table_and_the_disagreements(chromium: str, report: Path) -> None:
    dom = render(chromium, report, "--dump-dom").stdout
    for model in MODELS.split(","):
        assert model in dom
    assert "worse (p=6.1e-05, n=40)" in dom and "not sig. (p=1, n=40)" in dom
    assert "18 samples scored differently" in dom  # q03–q20 differ between some models
    assert "Question 3: answer A or B." in dom
    assert dom.count('class="dot"') == 6  # score against cost, score against latency
    assert "No cost" not in dom


def test_chromium_draws_the_charts(chromium: str, report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    render(chromium, report, f"--screenshot={shot}", "--window-size=1200,1100")
    image = Image.open(shot).convert("RGB")
    counts: dict[tuple[int, int, int], int] = {}
    for count, colour in image.getcolors(maxcolors=1 << 20) or []:
        counts[colour] = count
    for hex_colour in PALETTE[:3]:  # one bar and two dots per model, in the model's colour
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        assert counts.get(rgb, 0) > 1500, f"{hex_colour} barely drawn: {counts.get(rgb, 0)} px"


def test_report_needs_logs(tmp_path: Path) -> None:
    missing = run_cli("report", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2 and "no such file or folder: nowhere" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = run_cli("report", "empty", cwd=tmp_path)
    assert empty.returncode == 2 and "no eval logs under empty" in empty.stderr
    assert not (tmp_path / "empty" / "report.html").exists()


def test_a_broken_log_is_named_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    broken = tmp_path / "logs" / "2026-01-01T00-00-00_quiz.json"
    for text in ('{"version": 2, "samp', "[1]"):  # cut short; not an object
        broken.write_text(text)
        done = run_cli("report", "logs", cwd=tmp_path)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert f"{Path('logs') / broken.name}: not an eval log inspect-run can read" in done.stderr


def scatter_rows() -> list[Row]:
    """Two models at score 1.0 with the same latency (the case that hid one under the legend)."""

    def row(label: str, score: float, latency: float) -> Row:
        return Row("t", label, label, "s", score, score, score, 10, 0, latency, latency, 0, 1.0,
                   None, "")  # fmt: skip

    return [
        row("openai/gpt-4o", 1.0, 0.8),
        row("anthropic/claude-sonnet-4-5", 1.0, 0.8),
        row("google/gemini-2.5-flash", 0.4, 2.5),
    ]


def test_chart_legends_never_cover_data_and_axes_have_ticks(chromium: str, tmp_path: Path) -> None:
    """Each series' dot shows outside the legend box, in Chromium's rendering of the chart."""
    import re

    rows = scatter_rows()
    colours = {r.label: PALETTE[i] for i, r in enumerate(rows)}
    svg = _scatter(rows, colours, lambda r: r.latency_p50, "latency p50 (s)")
    page = tmp_path / "chart.html"
    page.write_text(f"<!doctype html><body style='margin:0;background:#fff'>{svg}</body>")
    x_ticks = re.findall(r"<text class='tick x'[^>]*>([^<]+)</text>", svg)
    y_ticks = re.findall(r"<text class='tick y'[^>]*>([^<]+)</text>", svg)
    assert len(x_ticks) >= 3 and len(y_ticks) >= 3 and len(set(x_ticks)) == len(x_ticks)
    (legend,) = re.findall(
        r"<rect class='legend' x='([\d.]+)' y='([\d.]+)' width='([\d.]+)' height='([\d.]+)'", svg
    )
    left, top, width, height = (float(v) for v in legend)

    shot = tmp_path / "chart.png"
    render(chromium, page, f"--screenshot={shot}", "--window-size=700,400")
    image = Image.open(shot).convert("RGB")
    pixels = image.load()
    assert pixels is not None
    for label, hex_colour in colours.items():
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        outside = sum(
            1
            for px in range(image.width)
            for py in range(image.height)
            if pixels[px, py] == rgb
            and not (left <= px <= left + width and top <= py <= top + height)
        )
        assert outside > 40, f"{label}'s dot is hidden: {outside} px outside the legend"
