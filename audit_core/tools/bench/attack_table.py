"""Every membership attack on the committed controls, in one table (docs/attacks.md).

A PASS is only as strong as the strongest attack tried, so the attacks are compared where
the answer is known: each control pairs a model that memorized the members on purpose with
a counterpart that never saw them (the same cohorts, or outsiders audited as members).
Every membership probe in the registry that applies to the control's records (and has the
reference model it needs) runs on both sides through `mnemoscope run`, as a user would run
it; the table prints, from each run's results.json, AUC, TPR at 1% and 0.1% FPR with their
95% intervals and the verdict, and the probe's seconds from run.json. Figures are formatted
by results/figures.py, the functions the report uses.

Run: `.venv/bin/python benchmarks/attacks.py [--write docs/attacks.md]`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit_core.families import Family
from audit_core.plan.parsing import AuditPlan, load_plan
from audit_core.plan.writing import write_plan
from audit_core.probes import PROBES
from audit_core.probes.applicability import records_reason
from audit_core.results.figures import format_auc, format_rate, format_seconds

ROOT = Path(__file__).resolve().parents[3]
START, END = "<!-- attack-table:start -->", "<!-- attack-table:end -->"


@dataclass(frozen=True)
class ControlPair:
    """A model that memorized the members (`memorizing`) and a counterpart that did not."""

    name: str
    memorizing: Path  # plan files; their [probes] tables are replaced
    counterpart: Path
    note: str


CONTROLS = (
    ControlPair("Demo EHR codes (GPT-2, 1,000 members and 1,000 non-members)",
                ROOT / "resources/demo/plan.toml", ROOT / "resources/controls/negative/plan.toml",
                "memorizing: the demo model (trained on the members, 10 of them planted 40 "
                "times); counterpart: the negative control, trained on 1,000 other patients"),
    ControlPair("Clinical notes (GPT-2 on notes, 60 patients a side)",
                ROOT / "resources/controls/notes/plan.toml",
                ROOT / "resources/controls/notes/validation_negative.toml",
                "memorizing: the notes model with the patients it was trained on; counterpart: "
                "the same model with outsiders it never saw audited as the members"),
    ControlPair("EHRMamba on MEDS data (Mamba2 with side inputs)",
                ROOT / "resources/examples/meds/plan.toml",
                ROOT / "resources/examples/meds/validation_negative.toml",
                "memorizing: trained on the train split (6 subjects planted); counterpart: the "
                "same recipe trained on the tuning split only"),
)


def finetuned_control(folder: Path) -> ControlPair:
    """The fine-tuned pair of tools/controls/finetuned.py, built into `folder` (needs the
    controls extra: torch trains it, about two minutes): the only control with a reference
    model, so the only table with the attacks that need one (LiRA, EZ-MIA, WBC)."""
    from audit_core.tools.controls.finetuned import build_finetuned_pair

    memorizing, counterpart = build_finetuned_pair(folder)
    return ControlPair("Fine-tuned from a base model (GPT-2, 300 members and 300 non-members)",
                       memorizing, counterpart,
                       "memorizing: a small base model (trained on 300 other patients) fine-tuned "
                       "on the members; counterpart: the same base fine-tuned the same way on 300 "
                       "other patients; both audited with the base model as the reference")


def membership_probes(plan: AuditPlan, only: Sequence[str] = ()) -> list[str]:
    """The registry's membership probes that apply to this plan's language model and records
    and have the reference model they need (all of them, or those named in `only`)."""
    records = plan.data.columns.kind
    has_reference = plan.model.reference is not None
    return [p.id for p in PROBES
            if p.family is Family.MEMBERSHIP and p.needs.applies_to("causal_lm")
            and records_reason(p, records) is None and (has_reference or not p.needs.reference)
            and (not only or p.id in only)]


def attack_plan(source: Path, folder: Path, only: Sequence[str] = ()) -> tuple[Path, list[str]]:
    """`source` with its [probes] table replaced by every applicable membership probe at its
    default settings, written into `folder` (paths made absolute where they must be)."""
    plan = load_plan(source)
    probes = membership_probes(plan, only)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "plan.toml"
    write_plan(dataclasses.replace(plan, probes={probe: {} for probe in probes}), path)
    return path, probes


def run_plan(plan: Path, out: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """`mnemoscope run PLAN --out OUT` in a process of its own; (results.json, run.json)."""
    done = subprocess.run([sys.executable, "-m", "audit_core", "run", str(plan), "--out", str(out),
                           "--quiet"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode not in (0, 1):  # 1: the audit found memorization (a FAIL verdict)
        raise RuntimeError(f"the audit of {plan} stopped with exit code {done.returncode}: "
                           f"{done.stderr[-2000:]}")
    return (json.loads((out / "results.json").read_text()),
            json.loads((out / "run.json").read_text()))


@dataclass(frozen=True)
class AttackRow:
    probe: str
    title: str
    strength: str
    memorizing: dict[str, Any]  # the probe's results.json entry on each side
    counterpart: dict[str, Any]
    seconds: float | None  # the probe's own seconds on the memorizing side (run.json)


def rows_of(probes: Sequence[str], memorizing: tuple[dict, dict],
            counterpart: tuple[dict, dict]) -> list[AttackRow]:
    """One row per probe that both runs assessed, in registry order."""
    by_side = [{p["id"]: p for p in results["probes"]} for results, _ in (memorizing, counterpart)]
    seconds = memorizing[1].get("probe_seconds", {})
    return [AttackRow(probe, by_side[0][probe]["title"], by_side[0][probe].get("attack_strength") or "",
                      by_side[0][probe], by_side[1][probe], seconds.get(probe))
            for probe in probes if probe in by_side[0] and probe in by_side[1]]


def _auc(entry: dict[str, Any]) -> str:
    metrics = entry.get("metrics") or {}
    return format_auc(metrics.get("auc"), metrics.get("auc_ci"))


def _tpr(entry: dict[str, Any], fpr: str) -> str:
    metrics = entry.get("metrics") or {}
    return format_rate(metrics.get(f"tpr_at_{fpr}_fpr"), metrics.get(f"tpr_at_{fpr}_fpr_ci"))


def _verdict(entry: dict[str, Any]) -> str:
    return str(entry.get("verdict", "")).upper()


def markdown_table(pair: ControlPair, rows: Sequence[AttackRow]) -> str:
    """One control's table: the memorizing side's AUC, TPR at 10%, 1% and 0.1% FPR and
    verdict, the counterpart's AUC, TPR at 10% FPR and verdict, and the probe's seconds. A
    rate shows "—" where the cohort is too small to resolve that FPR (60 non-members cannot
    show 1%)."""
    lines = [f"### {pair.name}", "", pair.note + ".", "",
             "| Attack | Reference | AUC | TPR at 10% FPR | TPR at 1% FPR | TPR at 0.1% FPR | Verdict "
             "| Counterpart AUC | Counterpart TPR at 10% FPR | Counterpart verdict | Seconds |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(" | ".join([
            f"| {row.title} (`{row.probe}`)", row.strength or "n/a", _auc(row.memorizing),
            _tpr(row.memorizing, "10pct"), _tpr(row.memorizing, "1pct"),
            _tpr(row.memorizing, "0.1pct"), _verdict(row.memorizing),
            _auc(row.counterpart), _tpr(row.counterpart, "10pct"), _verdict(row.counterpart),
            format_seconds(row.seconds)]) + " |")
    return "\n".join(lines) + "\n"


def compare(folder: Path, controls: Sequence[ControlPair] = CONTROLS,
            only: Sequence[str] = ()) -> str:
    """Run every control pair into `folder` and return the tables, one per control."""
    parts = []
    for i, pair in enumerate(controls):
        sides = []
        for side, plan in (("memorizing", pair.memorizing), ("counterpart", pair.counterpart)):
            written, probes = attack_plan(plan, folder / f"{i}-{side}", only)
            print(f"{pair.name}, {side}: {len(probes)} attacks", file=sys.stderr, flush=True)
            sides.append(run_plan(written, folder / f"{i}-{side}" / "out"))
        parts.append(markdown_table(pair, rows_of(probes, sides[0], sides[1])))
    return "\n".join(parts)


def write_between_markers(document: Path, tables: str) -> None:
    """Replace what lies between the table markers of `document` with `tables`."""
    text = document.read_text()
    head, _, rest = text.partition(START)
    _, found, tail = rest.partition(END)
    if not found:
        raise ValueError(f"{document} has no {START} ... {END} markers")
    document.write_text(f"{head}{START}\n{tables}{END}{tail}")
