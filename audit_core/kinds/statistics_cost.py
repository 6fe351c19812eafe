"""The seconds of a language-model audit that are not the model's calls, for the time
estimate (kinds/estimates.py): each probe's statistics, the split check, listing the
generation step's requests, localising memorized spans and writing the outputs.

Each is `fixed + per_record x records` (both cohorts' records). They used to be fixed
seconds measured on the demo alone, which priced a cohort of any size as the demo's 2,000
records: on the demo's cohorts four times over (8,000 records, each under four ids) T6's
disparities took 5.7 s for 2.5 s estimated and T2's statistics 5.3 s for 2.1 s; on 50,000
records these parts come to about 100 s, where the estimate said 10. Fitted on those two
sizes, alternating (the estimate bench, tools/bench/estimate.py, phase by phase; 2-core
VM, load 1.2-1.6, 8 December 2026):

| part | 2,000 records (s) | 8,000 records (s) |
|---|---|---|
| a membership probe's statistics (bootstrap intervals, ROC, subgroups), each | 0.2 | 0.5-0.8 |
| listing the generation step's requests (before it starts) | 0.5-0.7 | 1.3 |
| T1's distances (a sample of patients: does not grow) | 0.9-1.3 | 1.2 |
| T2's carrier disclosure and intervals | 1.8-2.3 | 5.3 |
| T6's disparities per stratum | 1.0-1.1 | 5.7 |
| localising memorized spans | 0.6 | 1.0 |
| writing results.json, records.csv and the PDF | 1.0-2.1 | 2.4-3.2 |

They stay seconds of this VM: a faster workstation is priced as this one for these parts
(the model's calls, most of a large model's audit, are timed on the audited model or read
from its calibration).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cost:
    fixed: float
    per_record: float = 0.0

    def at(self, records: int) -> float:
        return self.fixed + self.per_record * records


# The split check (exact and near duplicates across the cohorts), in the setup phase.
SPLIT = Cost(0.0, 1.0e-4)
MEMBERSHIP_PROBE = Cost(0.06, 0.75e-4)
# Each declaring probe's `generation` (sensitive inputs, templates, prompts) before decoding.
DECLARING = Cost(0.25, 1.3e-4)
LOCALISING = Cost(0.4, 0.6e-4)  # beyond scoring its records again (estimates.py)
WRITING = Cost(0.9, 1.9e-4)
# A generating probe's own work after the generation step, beyond any decoding (its run.json
# seconds less its share of the step); a probe not listed has next to none.
STATISTICS = {
    "trajectory": Cost(1.1),  # code distances per sample and tier, on a bounded sample
    "sensitive_attributes": Cost(0.95, 5.4e-4),  # carrier disclosure's scoring, AUROC/AUPRC intervals
    "perturbation": Cost(0.4),  # its second stage's decoding is counted apart (ON_THE_SPOT_SHARE)
    "vulnerable_subgroups": Cost(0.0, 7.0e-4),  # disparities per stratum (bootstrap)
    "reidentification": Cost(0.05, 0.3e-4),
    "extraction": Cost(0.05, 0.2e-4),
}
