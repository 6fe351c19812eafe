"""What the CLI shows on a terminal: the progress bar and the one-screen summaries."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TextIO

from audit_core.cli.side_input_listing import side_input_lines
from audit_core.results.figures import format_count, format_seconds

_BAR_WIDTH = 28
_VERDICT_LABELS = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "inconclusive": "INCONCLUSIVE",
                   "error": "NOT ASSESSED"}


class ProgressBar:
    """A one-line bar on a terminal; occasional plain lines when output is a file or pipe."""

    def __init__(self, stream: TextIO, enabled: bool = True) -> None:
        self._stream = stream
        self._enabled = enabled
        self._tty = stream.isatty()
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._last_logged = -1.0
        self._drawn = False

    def update(self, fraction: float, message: str) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        elapsed = now - self._start
        if self._tty:
            # Only redraw when it shows: a per-batch redraw would cost more than the batch.
            if now - self._last_draw < 0.1 and fraction < 1.0:
                return
            self._last_draw = now
            filled = int(round(fraction * _BAR_WIDTH))
            eta = elapsed / fraction * (1 - fraction) if fraction > 0.02 else None
            line = (f"\r[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {fraction:4.0%}  "
                    f"{_clock(elapsed)} elapsed, {_clock(eta) if eta is not None else '--:--'} left  "
                    f"{message[:40]:<40}")
            self._stream.write(line)
            self._stream.flush()
            self._drawn = True
        elif fraction - self._last_logged >= 0.1 or (fraction >= 1.0 and self._last_logged < 1.0):
            self._last_logged = fraction
            self._stream.write(f"{fraction:4.0%}  {_clock(elapsed)}  {message}\n")
            self._stream.flush()

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60:02d}:{seconds % 60:02d}"


def format_summary(results: dict[str, Any], paths: dict[str, Path]) -> str:
    audit = results["audit"]
    lines = ["", f"  {audit['title']}  (report {audit.get('report_id') or audit['id']})",
             f"  Overall verdict: {_VERDICT_LABELS[results['overall_verdict']]}",
             f"  {results['overall_rationale']}", ""]
    if audit["outcome"] == "cancelled":
        lines.insert(2, "  INCOMPLETE: the audit was cancelled before every probe finished.")
    width = max((len(p["id"]) for p in results["probes"]), default=10)
    for probe in results["probes"]:
        lines.append(f"  {_VERDICT_LABELS[probe['verdict']]:<13} {probe['id']:<{width}}  "
                     f"{probe['headline']['text']}")
    seconds = (results.get("run") or {}).get("seconds", audit.get("seconds", 0.0))
    lines += ["", f"  {format_seconds(seconds)}. Report: {paths['report']}",
              f"  Results: {paths['results']}",
              f"  Per-record scores (patient ids; keep local): {paths['records']}"]
    return "\n".join(lines)


def format_model(details: dict[str, Any]) -> str:
    matches = details.get("tokenizer_matches")
    rows = [
        ("Model", details["name"]),
        ("Kind", details["kind"].replace("_", " ")),
        ("SHA-256", details["sha256"]),
        ("Parameters", format_count(details["parameters"]) if details["parameters"]
         else "none in weight tensors (e.g. a tree ensemble)"),
        ("ONNX", f"IR version {details['ir_version']}, opset {details['opset']}, "
                 f"produced by {details['producer'] or 'unknown'}"),
        ("Vocabulary", f"model {details.get('vocab_size') or 'unknown'}, tokenizer "
                       f"{details.get('tokenizer_vocab_size') or 'none'}"
                       f" ({'matches' if matches else 'DOES NOT MATCH' if matches is False else 'unchecked'})"),
        ("Context", f"{details['context_length']} tokens (from {details['context_source']})"
         if details.get("context_length") else "unknown: set model.context_length in the plan"),
        ("KV cache", "yes (fast generation)" if details["kv_cache"]
         else f"no: {details['kv_note']}" if details.get("kv_note") else "no (generation recomputes)"),
    ]
    # Tokens, context and the cache describe language models; a classifier reads feature
    # columns, and only a causal LM generates.
    kind = details["kind"]
    if kind == "tabular_classifier":
        rows = [r for r in rows if r[0] not in ("Vocabulary", "Context", "KV cache")]
    elif kind != "causal_lm":
        rows = [r for r in rows if r[0] != "KV cache"]
    if details.get("execution_provider"):
        rows.append(("Runtime", details["execution_provider"]))
    rows.append(("Checked", format_conversion(details.get("conversion"))))
    if "probes_offered" in details:
        rows.append(("Probes", ", ".join(details["probes_offered"]) or "none: this kind of model "
                     "cannot be audited"))
    lines = [f"{k + ':':<12} {v}" for k, v in rows]
    lines.append("Inputs:")
    lines += [f"  {t['name']:<18} {t['type']:<8} {_shape(t['shape'])}" for t in details["inputs"]]
    lines += side_input_lines(details.get("side_inputs", []))
    lines.append("Outputs:")
    lines += [f"  {t['name']:<18} {t['type']:<8} {_shape(t['shape'])}" for t in details["outputs"]]
    lines.append("Files:")
    lines += [f"  {f['name']:<18} {f['bytes']:>12,} bytes  {f['sha256']}" for f in details["files"]]
    return "\n".join(lines)


def format_conversion(conversion: dict[str, Any] | None) -> str:
    """One line on how the export was checked against the original (torch) model."""
    if conversion is None:
        return "no manifest.json: the export was not checked by Mnemoscope against its source"
    if not conversion.get("readable"):
        return "manifest.json is unreadable: the export's check cannot be shown"
    if not conversion.get("matches_model"):
        return "manifest.json describes a different model.onnx: its check does not apply"
    shapes = ", ".join(f"{b}x{t}" for b, t in conversion.get("shapes_checked") or [])
    diff = conversion.get("max_abs_logit_diff")
    text = (f"onnxruntime vs torch, max |logit difference| "
            f"{diff:.3g}" if isinstance(diff, (int, float)) else "max |logit difference| unknown")
    text += f" (tolerance {conversion.get('tolerance')}) on batches {shapes}"
    greedy = conversion.get("greedy_identical_to_torch")
    if greedy is not None:
        text += (f"; greedy continuations of {conversion.get('greedy_prompts')} prompts "
                 f"{'identical' if greedy else 'DIFFERENT'}")
    if conversion.get("source"):
        text += f"; converted from {conversion['source']}"
    return text


def format_validation(certificate: dict[str, Any], json_path: Path, pdf_path: Path,
                      digest: str) -> str:
    """The one-screen summary of `mnemoscope validate`."""
    outcome = certificate["outcome"].upper()
    lines = ["", f"  Validation {outcome}: {certificate['passed_checks']} of "
                 f"{len(certificate['checks'])} checks passed in {certificate['seconds']:.1f} s", ""]
    for check in certificate["checks"]:
        lines.append(f"  {'PASS' if check['passed'] else 'FAIL'}  {check['title']}")
        if not check["passed"]:
            lines.append(f"        expected: {check['expected']}")
            lines.append(f"        observed: {check['observed']}")
    lines += ["", f"  Certificate: {pdf_path}", f"  Record:      {json_path}",
              f"  SHA-256:     {digest}"]
    return "\n".join(lines)


def _shape(shape: list[Any]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def format_probes(listing: list[dict[str, Any]], thresholds: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for probe in listing:
        lines += [f"{probe['id']}  {probe['title']}  ({probe['citation']})",
                  f"  Question: {probe['question']}",
                  f"  Needs:    {probe['needs']}",
                  f"  Verdict thresholds: [thresholds.{probe['family']}]"]
        if not probe["settings"]:
            lines.append("  Settings: none")
        for field in probe["settings"]:
            lines.append(f"  {_setting(field)}")
        lines.append("")
    for family, fields in thresholds.items():
        lines.append(f"[thresholds.{family}]")
        for field in fields:
            lines.append(f"  {_setting(field)}")
            if field["anchor"]:
                lines.append(f"      source: {field['anchor']}")
        lines.append("")
    return "\n".join(lines).rstrip()


def _setting(field: dict[str, Any]) -> str:
    bounds = ""
    if field["min"] is not None or field["max"] is not None:
        bounds = f", range {field['min']:g}..{field['max']:g}" if field["max"] is not None \
            else f", at least {field['min']:g}"
    text = f"{field['name']} = {field['default']!r}  ({field['type']}{bounds}): {field['label']}"
    return text + (f". {field['help']}" if field["help"] else "")
