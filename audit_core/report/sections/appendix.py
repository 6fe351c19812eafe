"""Appendix: what a second auditor needs to check and rerun the audit (compliance.md
6.14): every probe's settings, the thresholds (once), the metrics the body does not show,
the model's signature and every file's hash, the run, the software, and the plan.

The plan is printed in full because it is the audit's whole input (DESIGN.md, "One plan
in, one result out"): saved back as a file, it reruns this audit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .attachments import plan_bytes
from .elements import HASH_WIDTH, Block, Code, Heading, Paragraph, Preformatted, Section, Table, TextStyle
from .probe_appendix import metrics_blocks, settings_blocks, threshold_blocks
from .reference_text import reference_hash_rows
from .values import (
    MISSING,
    as_list,
    as_mapping,
    as_text,
    format_seconds,
    format_utc,
    humanize,
    is_number,
    report_label,
    role_label,
)

DIGEST_METHOD = (
    "Results SHA-256: of the shareable results (record ids and the pseudonym key removed, "
    "probe free text masked) as JSON with keys sorted, no whitespace between tokens and "
    "non-ASCII characters kept (UTF-8). They are embedded in this PDF as results.json; "
    "`mnemoscope verify` recomputes the hash."
)


# A property of the tool, not of one run: tests run whole audits with sockets blocked.
AIR_GAP = ("None. The tool makes no network connection: models and tokenizers load from "
           "local files only, the offline switches of the Hugging Face libraries are set at "
           "start, and the model, the patient files and these results stayed on the workstation.")


def appendix_section(results: Mapping[str, Any], results_digest: str) -> Section:
    audit = as_mapping(results.get("audit"))
    probes = [as_mapping(p) for p in as_list(results.get("probes"))]
    model = as_mapping(results.get("model"))
    blocks: list[Block] = [
        Heading("A.1 Probe settings", 2), *settings_blocks(probes),
        Heading("A.2 Thresholds", 2), *threshold_blocks(probes),
        Heading("A.3 Metrics not shown in the body", 2), *metrics_blocks(probes),
        Heading("A.4 Model signature and files", 2),
    ]
    signature = signature_rows(model)
    if signature:
        blocks.append(Table(header=("Direction", "Name", "Type", "Shape"), rows=tuple(signature),
                            widths=(0.14, 0.3, 0.16, 0.4), dense=True))
    blocks += [
        _hash_table(results),
        Heading("A.5 Run", 2),
        Table(
            header=(),
            rows=(
                ("Report id", Code(report_label(results))),
                ("Audit id", Code(as_text(audit.get("id")))),
                ("Results schema", Code(as_text(results.get("schema")))),
                ("Outcome", as_text(audit.get("outcome"))),
                ("Started", format_utc(audit.get("started_utc"))),
                ("Finished", format_utc(audit.get("finished_utc"))),
                ("Duration", format_seconds(audit.get("seconds"))),
                ("Seed", as_text(audit.get("seed"))),
                ("Results SHA-256", Code(results_digest)),
                ("Record pseudonyms", _pseudonyms(results)),
                ("Tool validation", as_text(as_mapping(results.get("validation")).get("text"),
                                            "not recorded in these results")),
                ("Network", AIR_GAP),
            ),
            widths=(0.26, 0.74),
            key_value=True,
        ),
        Paragraph(DIGEST_METHOD, TextStyle.NOTE),
        Table(header=("Embedded file", "Content", "SHA-256"), rows=embedded_rows(results, results_digest),
              widths=(0.14, 0.30, HASH_WIDTH)),
        Heading("A.6 Software and hardware", 2),
        _software_table(results),
        Heading("A.7 Rerun this audit", 2),
        Paragraph(
            "Save the embedded plan.json (the PDF's attachments, or `mnemoscope verify "
            "REPORT.pdf --extract DIR`) into the folder its paths are relative to, check the "
            "model and data hashes above, and run:", TextStyle.SMALL),
        Preformatted("mnemoscope run plan.json --out rerun\nmnemoscope verify rerun/report.pdf"),
        Paragraph(
            "The same plan, seed and input files give a byte-identical results.json on the same "
            "software, with the same report id; the results SHA-256 differs only by the run's "
            "own facts (times, durations, machine, latest validation), embedded under \"run\". "
            "The plan as run, the audit's complete input:",
            TextStyle.NOTE),
    ]
    plan = results.get("plan")
    blocks.append(Preformatted(compact_json(plan)) if plan else
                  Paragraph("The results do not include the plan.", TextStyle.ALERT))
    return Section(key="appendix", title="Appendix A. Reproducibility", blocks=tuple(blocks))


def signature_rows(model: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The model's inputs and outputs: direction, name, element type, shape. A numbered
    series of alike tensors (a KV cache's past_key_0 ... past_key_11) is one row."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for direction, key in (("Input", "inputs"), ("Output", "outputs")):
        for tensor in map(as_mapping, as_list(model.get(key))):
            name = as_text(tensor.get("name"))
            dims = as_list(tensor.get("shape"))
            shape_text = "[" + ", ".join(str(d) for d in dims) + "]" if dims else MISSING
            pattern = re.sub(r"\d+", "#", name)
            groups.setdefault((direction, pattern, as_text(tensor.get("type")), shape_text), []).append(name)
    rows: list[tuple[str, ...]] = []
    for (direction, _, kind, shape), names in groups.items():
        label = names[0] if len(names) == 1 else f"{names[0]} … {names[-1]} ({len(names)} tensors)"
        rows.append((direction, label, kind, shape))
    return rows


def _hash_table(results: Mapping[str, Any]) -> Table:
    rows = [(f"Model: {as_text(f.get('name'))}", Code(as_text(f.get("sha256"))))
            for f in map(as_mapping, as_list(as_mapping(results.get("model")).get("files")))]
    rows += reference_hash_rows(results)
    rows += [(f"{role_label(d.get('role'))}: {as_text(d.get('file'))}", Code(as_text(d.get("sha256"))))
             for d in map(as_mapping, as_list(results.get("datasets")))]
    return Table(header=("File", "SHA-256"), rows=tuple(rows) or (("none recorded", ""),),
                 widths=(1 - HASH_WIDTH, HASH_WIDTH))


def embedded_rows(results: Mapping[str, Any], results_digest: str) -> tuple[tuple[str, str, Code], ...]:
    import hashlib

    rows = [("results.json", "The audit results this report was built from (the SHA-256 "
             "is of their canonical form, as on the cover)", Code(results_digest))]
    plan = plan_bytes(results)
    if plan is not None:
        rows.append(("plan.json", "The plan as run: rerun it to reproduce the audit",
                     Code(hashlib.sha256(plan).hexdigest())))
    return tuple(rows)


def _pseudonyms(results: Mapping[str, Any]) -> str:
    method = as_text(as_mapping(results.get("pseudonymization")).get("method"), "keyed hash")
    # The key itself stays in results.json on the workstation (redaction.py withholds it).
    return (f"{method}: records are named by keyed pseudonym (R-...) only; the key is kept with the "
            "results and never printed. Identifiers and record text never appear in this report; "
            "per-record detail stays in records.csv on the audit workstation.")


def _software_table(results: Mapping[str, Any]) -> Table | Paragraph:
    tool = as_mapping(results.get("tool"))
    rows = []
    if tool:
        rows.append((as_text(tool.get("name"), "mnemoscope"), as_text(tool.get("version"))))
        # The build hash names the exact source (git commit) of a packaged copy; older
        # results.json files have none, and a development checkout says "unknown".
        if "build" in tool:
            rows.append(("Build (git commit)", as_text(tool.get("build"))))
    for name, version in as_mapping(results.get("environment")).items():
        if isinstance(version, Mapping):
            version = ", ".join(f"{k} {v}" for k, v in version.items())
        rows.append((humanize(str(name)) if name in ("python", "platform") else str(name), _version(version)))
    if not rows:
        return Paragraph("No software versions were recorded.", TextStyle.NOTE)
    # Two pairs a row: the versions are short, and one pair a row spends half a page.
    half = (len(rows) + 1) // 2
    left, right = rows[:half], rows[half:] + [("", "")] * (2 * half - len(rows))
    return Table(header=("Component", "Version", "Component", "Version"),
                 rows=tuple((*a, *b) for a, b in zip(left, right)), widths=(0.17, 0.33, 0.17, 0.33), dense=True)


def _version(value: Any) -> str:
    return str(value) if is_number(value) else as_text(value)


def compact_json(value: Any, indent: int = 0, width: int = 108, prefix: int = 0) -> str:
    """Indented JSON that keeps a container on one line when it fits, and packs a long
    list of numbers into lines: plain `indent=2` spends a line on every list item and
    turns a plan into pages."""
    flat = json.dumps(value, ensure_ascii=False, default=str)
    if not isinstance(value, (dict, list)) or not value or indent + prefix + len(flat) <= width:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            name = json.dumps(str(key), ensure_ascii=False) + ": "
            items.append(pad + name + compact_json(item, indent + 2, width, len(name)))
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if any(isinstance(item, (dict, list)) for item in value):
        items = [pad + compact_json(item, indent + 2, width) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    lines, line = [], ""
    for item in (json.dumps(v, ensure_ascii=False, default=str) for v in value):
        if line and len(pad) + len(line) + len(item) + 2 > width:
            lines.append(line + ",")
            line = ""
        line = f"{line}, {item}" if line else item
    lines.append(line)
    return "[\n" + "\n".join(pad + text for text in lines) + "\n" + " " * indent + "]"
