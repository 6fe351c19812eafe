"""`mnemoscope inspect MODEL --data PLAN`: the plan's first records as the model's
tokenizer sees them, word beside tokens, words it does not know marked, so a mismatch
between the data's words and the vocabulary shows before the run (a MEDS plan's
[data.tokens] most of all).

The words are patient data: they go to this terminal only (the hospital's workstation,
for the engineer preparing the audit, as the desktop's preview), never to a log or an
output file. `--counts-only` prints numbers only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit_core.data.cohort import Role
from audit_core.errors import ModelError
from audit_core.results.figures import format_count

UNKNOWN_MARK = "  <- unknown to the tokenizer"


def data_details(model_path: Path, plan_path: Path, counts_only: bool) -> dict[str, Any]:
    """The tokenizer's view of the plan's members and non-members (first records)."""
    from audit_core.data.loading import load_cohorts
    from audit_core.models.inspection import inspect_model
    from audit_core.models.tokenizer_loading import load_tokenizer
    from audit_core.models.word_view import cohort_view
    from audit_core.plan.parsing import load_plan

    info = inspect_model(model_path)
    if info.kind == "tabular_classifier":
        raise ModelError(f"{info.name} reads feature columns, not words: --data shows a "
                         "language model's tokenizer view of the records")
    tokenizer = load_tokenizer(info.folder)
    plan = load_plan(plan_path)
    cohorts = load_cohorts(plan.data)
    first = next(iter(cohorts.values())).info
    source = (f"MEDS dataset {plan.data.root.name if plan.data.root else ''}" if plan.data.format != "files"
              else "two files")
    return {"source": source, "format": first.format,
            **{role.value: {"from": cohorts[role].info.file,
                            **cohort_view(tokenizer, cohorts[role]).as_dict(counts_only)} for role in Role}}


def format_data(details: dict[str, Any]) -> str:
    lines = [f"Data:        {details['source']}"]
    for role, label in ((Role.MEMBERS.value, "Members"), (Role.NON_MEMBERS.value, "Non-members")):
        view = details[role]
        lines.append(f"{label + ':':<12} {view['from']}: {format_count(view['records'])} records, "
                     f"{format_count(view['words'])} words, {format_count(view['unknown_words'])} "
                     "unknown to the tokenizer")
        for record in view["first_records"]:
            lines.append(f"  {label.lower()} record {record['number']}: {record['words']} words -> "
                         f"{record['tokens']} tokens, {record['unknown_words']} unknown")
            shown = record.get("view")
            if shown is None:
                continue
            width = min(40, max((len(w["word"]) for w in shown), default=0))
            for word in shown:
                lines.append(f"    {word['word']:<{width}}  {' '.join(word['tokens']) or '(no token)'}"
                             f"{UNKNOWN_MARK if word['unknown'] else ''}")
            if record["words"] > len(shown):
                lines.append(f"    ... {record['words'] - len(shown)} more words")
    return "\n".join(lines)
