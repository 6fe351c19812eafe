"""A probe crash is a defect with a test: T5 on a vocabulary with no sensitive code (every
clinical-notes audit, before T5 was left out of them) raised IndexError in `_choose`; and
whatever a probe raises, the audit goes on, shows it as not assessed, and its traceback
reaches the error log only, never the terminal."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np

from audit_core.data.cohort import Role
from audit_core.models.onnx_causal_lm import Samples
from audit_core.probes.perturbation import Perturbation
from audit_core.results.verdicts import Verdict
from tests.conftest import DEMO, write_plan
from tests.printed_tokens import pdf_text_if_readable
from tests.probes.demo_slice import clinical_context, flat_loss

ROOT = Path(__file__).resolve().parents[2]


class _Quiet:
    """Samples nothing of interest: no category comes up."""

    context_length = 128

    def sample(self, prompts, steps, *, n, rng, temperature=1.0, top_p=1.0, stop_ids=(),
               watch=(), batch_size=64):
        return Samples(tokens=np.full((len(prompts), n, steps), -1, dtype=np.int64),
                       mass=np.zeros((len(prompts), n, steps, len(watch))))


# Every built-in category dropped, one added whose codes the demo vocabulary does not have.
NO_CATEGORY_IN_VOCABULARY = ("hiv_sti=;alcohol=;opioids=;sedatives=;stimulants=;other_substances=;"
                             "mental_health=;reproductive_health=;absent=Y99")


def test_perturbation_with_no_sensitive_code_in_the_vocabulary_passes_instead_of_crashing(demo_slice) -> None:
    probe = Perturbation()
    config = dataclasses.replace(probe.config_type(), samples=1, horizon=4, max_records=20,
                                 code_sets=NO_CATEGORY_IN_VOCABULARY)
    outcome = probe.run(config, clinical_context(demo_slice, _Quiet(), "perturbation", flat_loss(demo_slice)))
    assert outcome.verdict is Verdict.PASS
    assert outcome.metrics["n_members"] == 0 == outcome.metrics["n_non_members"]
    assert all(np.isnan(outcome.scores[r]).all() for r in Role)


# The zlib probe made to crash with a message that quotes a record, then the real CLI.
_CRASHING_CLI = """
import sys
from audit_core.probes.zlib import Zlib

def crash(self, config, ctx):
    raise RuntimeError("could not read 'Jane Doe MRN 0012345'")

Zlib.run = crash
from audit_core.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_probe_crash_goes_to_the_error_log_and_never_to_the_terminal_or_the_report(
        tmp_path: Path, small_cohorts) -> None:
    members, non_members = small_cohorts
    plan = write_plan(tmp_path, model=DEMO / "model", members=members, non_members=non_members,
                      probes="[probes.loss]\n[probes.zlib]\n")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", _CRASHING_CLI, "run", str(plan), "--out", str(out)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    terminal = done.stdout + done.stderr
    assert "Traceback" not in terminal and "Jane Doe" not in terminal
    assert "1 probe(s) failed" in done.stderr and "mnemoscope-error.log" in done.stderr
    assert "NOT ASSESSED" in done.stdout  # the audit went on and says what it lacks
    log = out / "mnemoscope-error.log"
    text = log.read_text()
    assert "Traceback" in text and "RuntimeError" in text and "probe zlib failed" in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600  # a traceback may quote a record
    results = json.loads((out / "results.json").read_text())
    verdicts = {p["id"]: p["verdict"] for p in results["probes"]}
    assert verdicts == {"loss": "fail", "zlib": "error"}
    assert "Jane Doe" not in json.dumps(results)
    text = pdf_text_if_readable(out / "report.pdf")
    if text is not None:  # poppler-utils; the checks above stand without it
        assert "Traceback" not in text and "Jane Doe" not in text
