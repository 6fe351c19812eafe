"""The registered probes, in the order they run and appear in the report.

One explicit tuple: no entry points, no package scanning (a frozen app loses both).
"""

from audit_core.probes.base import Probe
from audit_core.probes.calibrated_confidence import CalibratedConfidence
from audit_core.probes.calibrated_entropy import CalibratedEntropy
from audit_core.probes.calibrated_modified_entropy import CalibratedModifiedEntropy
from audit_core.probes.camia import Camia
from audit_core.probes.canary_exposure import CanaryExposure
from audit_core.probes.con_recall import ConRecall
from audit_core.probes.confidence import Confidence
from audit_core.probes.dc_pdd import DcPdd
from audit_core.probes.elicitation import Elicitation
from audit_core.probes.embedding_distance import EmbeddingDistance
from audit_core.probes.embedding_probe import EmbeddingProbe
from audit_core.probes.entropy import Entropy
from audit_core.probes.extraction import Extraction
from audit_core.probes.ez_mia import EzMia
from audit_core.probes.identifier_leakage import IdentifierLeakage
from audit_core.probes.informia import Informia
from audit_core.probes.lira import Lira
from audit_core.probes.loss import Loss
from audit_core.probes.min_k import MinK
from audit_core.probes.min_k_plus_plus import MinKPlusPlus
from audit_core.probes.modified_entropy import ModifiedEntropy
from audit_core.probes.perturbation import Perturbation
from audit_core.probes.pseudo_likelihood import PseudoLikelihood
from audit_core.probes.recall import Recall
from audit_core.probes.reidentification import Reidentification
from audit_core.probes.rmia import Rmia
from audit_core.probes.sensitive_attributes import SensitiveAttributes
from audit_core.probes.trajectory import Trajectory
from audit_core.probes.vulnerable_subgroups import VulnerableSubgroups
from audit_core.probes.wbc import Wbc
from audit_core.probes.zlib import Zlib

# Probes that need a reference model (needs.reference) run only when the plan names one.
PROBES: tuple[Probe, ...] = (Loss(), Zlib(), MinK(), MinKPlusPlus(), Rmia(), Lira(),
          EzMia(),  # base model as reference: error-zone shifts (arXiv 2601.12104)
          Wbc(),  # base model as reference: window-based loss comparison (arXiv 2601.02751)
          Camia(),  # the loss trace along a record (Chang et al., EMNLP 2025)
          DcPdd(),  # token frequencies calibrate the probabilities (Zhang et al., EMNLP 2024)
          Recall(),  # ReCaLL: a non-member prefix (Xie et al. 2024); one more pass per record
          ConRecall(),  # Con-ReCall: member against non-member prefix (Wang et al. 2025)
          Informia(),  # InfoRMIA: RMIA's ratio in bits, per token (Tao and Shokri 2026)
          Extraction(),
          Elicitation(),  # notes: a patient's other identifiers asked for from known ones (ProPILE)
          # Code records (EHR foundation models): Tonekaboni et al. 2025, T1 and T2.
          Trajectory(), SensitiveAttributes(),
          # Identifiers and canaries: notes-only (needs.text_records) and plan-only (needs.canaries).
          IdentifierLeakage(), Reidentification(), CanaryExposure(),
          # Built on T2's signal (Tonekaboni et al. 2025): hidden states (T3, only where the
          # export has them), perturbation (T5) and vulnerable subgroups (T6).
          EmbeddingProbe(), Perturbation(), VulnerableSubgroups(),
          # Tabular classifiers (needs.model_kinds): the audit offers what the model can do.
          Confidence(), Entropy(), ModifiedEntropy(), CalibratedConfidence(), CalibratedEntropy(),
          CalibratedModifiedEntropy(),
          # Encoders: embeddings (distance) and a masked-LM head (pseudo-likelihood).
          EmbeddingDistance(), PseudoLikelihood())
PROBES_BY_ID: dict[str, Probe] = {probe.id: probe for probe in PROBES}
