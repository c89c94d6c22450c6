"""What CI systems read from a gate: JUnit XML (one test case per check), a Markdown summary for
a pull-request comment, a section of the HTML report, and plain text for the terminal."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from html import escape

from engine.gate._baseline import Flip
from engine.gate._evaluate import FAIL, INCONCLUSIVE, PASS, SKIP, GateResult, Outcome
from engine.gate._reliability import Estimate, Reliability

MAX_FLIPS = 50
"""Per run in the Markdown: a comment has to stay readable (the logs hold them all)."""
MARKS = {PASS: "✅", FAIL: "❌", INCONCLUSIVE: "⚠️", SKIP: "⏭️"}


def _value(outcome: Outcome) -> str:
    if outcome.value is None:
        return "-"
    if outcome.low is None or outcome.high is None or math.isnan(outcome.low):
        return f"{outcome.value:.4g}"
    return f"{outcome.value:.4g} [{outcome.low:.4g}, {outcome.high:.4g}]"


def to_text(result: GateResult) -> str:
    lines = [f"gate: {result.verdict}"]
    for outcome in result.outcomes:
        lines.append(f"  {outcome.verdict:<12} {outcome.check}  [{outcome.run}]  {outcome.message}")
    for name, found in result.reliability.items():
        lines.append(f"  grader reliability [{name}]: " + "; ".join(_reliability_items(found)))
    return "\n".join(lines)


def to_junit(result: GateResult) -> str:
    """JUnit XML as Jenkins, GitHub and GitLab read it: a suite per kind of check; FAIL is a
    failure, INCONCLUSIVE an error (the evidence is missing), SKIP skipped."""
    suites = ET.Element("testsuites", name="inspect-run gate")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for kind in dict.fromkeys(o.kind for o in result.outcomes):
        outcomes = [o for o in result.outcomes if o.kind == kind]
        counts = {
            "tests": len(outcomes),
            "failures": sum(o.verdict == FAIL for o in outcomes),
            "errors": sum(o.verdict == INCONCLUSIVE for o in outcomes),
            "skipped": sum(o.verdict == SKIP for o in outcomes),
        }
        attributes = {"name": f"gate.{kind}", "time": "0", **{k: str(v) for k, v in counts.items()}}
        suite = ET.SubElement(suites, "testsuite", attributes)
        for key, value in counts.items():
            totals[key] += value
        for outcome in outcomes:
            case = ET.SubElement(
                suite, "testcase", name=f"{outcome.check} [{outcome.run}]",
                classname=f"gate.{kind}", time="0",
            )  # fmt: skip
            if outcome.verdict == FAIL:
                failure = ET.SubElement(case, "failure", message=outcome.message, type=FAIL)
                failure.text = _details(outcome)
            elif outcome.verdict == INCONCLUSIVE:
                error = ET.SubElement(case, "error", message=outcome.message, type=INCONCLUSIVE)
                error.text = _details(outcome)
            elif outcome.verdict == SKIP:
                ET.SubElement(case, "skipped", message=outcome.message)
            else:
                ET.SubElement(case, "system-out").text = outcome.message
    suites.attrib.update({k: str(v) for k, v in totals.items()})
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _details(outcome: Outcome) -> str:
    lines = [outcome.message, f"log: {outcome.log}"] if outcome.log else [outcome.message]
    if outcome.paired is not None and outcome.paired.worse:
        lines.append("samples that got worse: " + ", ".join(f.sample for f in outcome.paired.worse))
    return "\n".join(lines)


def _flip_text(flip: Flip) -> str:
    def grade(value: float) -> str:
        return "C" if value == 1 else "I" if value == 0 else f"{value:.2f}"

    return f"{grade(flip.before)}→{grade(flip.after)}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(result: GateResult) -> str:
    lines = [f"## {MARKS[result.verdict]} inspect-run gate: **{result.verdict}**", ""]
    if result.baseline:
        lines += [f"Baseline: `{result.baseline}`", ""]
    lines += ["| verdict | check | run | value [95% CI] | detail |", "|---|---|---|---|---|"]
    for o in result.outcomes:
        lines.append(
            f"| {MARKS[o.verdict]} {o.verdict} | {_cell(o.check)} | {_cell(o.run)} | "
            f"{_value(o)} | {_cell(o.message)} |"
        )
    for o in result.outcomes:
        if o.paired is None or not o.paired.worse:
            continue
        flips = o.paired.worse
        lines += [
            "",
            f"<details><summary>{_cell(o.run)}: {len(flips)} samples got worse "
            f"({len(o.paired.better)} got better)</summary>",
            "",
            "| sample | change | log |",
            "|---|---|---|",
        ]
        for flip in flips[:MAX_FLIPS]:
            link = result.config.link.format(log=o.log, id=flip.sample, epoch=flip.epoch)
            lines.append(f"| {_cell(flip.sample)} | {_flip_text(flip)} | [log]({link}) |")
        if len(flips) > MAX_FLIPS:
            lines.append(f"| … | {len(flips) - MAX_FLIPS} more | |")
        lines += ["", "</details>"]
    if result.reliability:
        lines += ["", "### Grader reliability", "", "| run | measure | estimate [95% CI] (n) |",
                  "|---|---|---|"]  # fmt: skip
        for name, found in result.reliability.items():
            for item in _reliability_items(found):
                measure, _, estimate = item.partition(": ")
                lines.append(f"| {_cell(name)} | {_cell(measure)} | {_cell(estimate)} |")
    return "\n".join(lines) + "\n"


def _reliability_items(found: Reliability) -> list[str]:
    items: list[str] = []
    named: list[tuple[str, Estimate | None]] = [
        ("Fleiss' κ (panel: " + ", ".join(found.graders) + ")", found.panel),
        *((f"Cohen's κ {a} vs {b}", e) for (a, b), e in found.pairs.items()),
        ("agreement with people", found.human_agreement),
        ("Cohen's κ with people", found.human_kappa),
        ("TPR (C where people said C)", found.tpr),
        ("TNR (not C where people did not)", found.tnr),
        ("self-agreement across epochs", found.self_agreement),
    ]
    for label, estimate in named:
        if estimate is not None:
            items.append(f"{label}: {estimate.text()}")
    return items


def to_html(result: GateResult) -> str:
    """The gate's section of the HTML report."""
    rows = "".join(
        f"<tr class='{o.verdict.lower()}'><td>{MARKS[o.verdict]} {o.verdict}</td>"
        f"<td>{escape(o.check)}</td><td>{escape(o.run)}</td><td class='num'>{escape(_value(o))}"
        f"</td><td>{escape(o.message)}</td></tr>"
        for o in result.outcomes
    )
    parts = [
        f"<section class='gate'><h2>Gate: {MARKS[result.verdict]} {result.verdict}</h2>",
        f"<p>Baseline: <code>{escape(result.baseline)}</code></p>" if result.baseline else "",
        "<table class='gate'><tr><th>verdict</th><th>check</th><th>run</th>"
        f"<th>value [95% CI]</th><th>detail</th></tr>{rows}</table>",
    ]
    for o in result.outcomes:
        if o.paired is None or not o.paired.worse:
            continue
        items = "".join(
            f"<tr><td>{escape(f.sample)}</td><td class='wrong'>{_flip_text(f)}</td><td><a href='"
            f"{escape(result.config.link.format(log=o.log, id=f.sample, epoch=f.epoch))}'>log</a>"
            "</td></tr>"
            for f in o.paired.worse
        )
        parts.append(
            f"<h3>{escape(o.run)}: samples that got worse</h3><table class='flips'><tr>"
            f"<th>sample</th><th>change</th><th>log</th></tr>{items}</table>"
        )
    parts.append(reliability_html(result.reliability))
    return "".join([*parts, "</section>"])


def reliability_html(reliabilities: dict[str, Reliability]) -> str:
    if not reliabilities:
        return ""
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(measure)}</td><td class='num'>{escape(value)}</td>"
        "</tr>"
        for name, found in reliabilities.items()
        for measure, _, value in (item.partition(": ") for item in _reliability_items(found))
    )
    return (
        "<section class='reliability'><h2>Grader reliability</h2><p>Cohen's κ per pair and "
        "Fleiss' κ for a panel of graders; agreement, κ, TPR and TNR against people's grades; "
        "self-agreement across epochs that gave the same answer. 95% intervals.</p>"
        "<table class='reliability'><tr><th>run</th><th>measure</th><th>estimate [95% CI] (n)"
        f"</th></tr>{rows}</table></section>"
    )
