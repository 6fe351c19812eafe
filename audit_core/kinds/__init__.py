"""One module per model kind (causal language model, tabular classifier, encoder): how each
reads its model and cohorts, checks them and prepares its shared pass for the runner
(base.Prepared), and how long its audit will take (estimates.py).

The runner and the estimate pick a kind from `KINDS` by the kind string
models.inspection.model_kind reads from the ONNX signature; a model whose kind cannot be
read is taken for a causal language model, whose loading then says what is wrong.
"""

from audit_core.kinds import causal_lm, encoder, tabular
from audit_core.kinds.base import Kind
from audit_core.kinds.estimates import estimate_causal_lm, estimate_encoder, estimate_tabular
from audit_core.models.inspection import CAUSAL_LM, ENCODER, MASKED_LM, TABULAR_CLASSIFIER, UNKNOWN

KINDS: tuple[Kind, ...] = (
    Kind(serves=(CAUSAL_LM, UNKNOWN), prepare=causal_lm.prepare, estimate=estimate_causal_lm),
    Kind(serves=(TABULAR_CLASSIFIER,), prepare=tabular.prepare, estimate=estimate_tabular),
    Kind(serves=(ENCODER, MASKED_LM), prepare=encoder.prepare, estimate=estimate_encoder),
)


def kind_for(kind: str) -> Kind:
    """The entry of KINDS that serves `kind` (an inspection kind string)."""
    for entry in KINDS:
        if kind in entry.serves:
            return entry
    return KINDS[0]  # as UNKNOWN: the causal-LM path's inspection names what is wrong
