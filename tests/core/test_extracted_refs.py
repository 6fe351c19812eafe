"""Extracted records keep their record index between the probe and the pseudonym key.

run_probe records (role, index) of each reproduced record; the checkpoint keeps the
probe's result in that form, and `with_refs` names the records (id and keyed pseudonym)
once the audit's key exists. The index travels as text (ProbeResult's entries are str to
str); a checkpoint written before that holds it as a number and names the same records.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import SimpleNamespace

import numpy as np

from audit_core.data.cohort import Cohort, DatasetInfo, Role
from audit_core.probes.base import Headline, ProbeOutcome
from audit_core.results.verdicts import Verdict
from audit_core.run.assembly import run_probe, with_refs
from audit_core.run.checkpoint_units import decode_probe, encode_probe
from audit_core.run.pseudonyms import pseudonym


@dataclass(frozen=True)
class _Settings:
    k: int = 3


def _cohort(role: Role, ids: tuple[str, ...]) -> Cohort:
    info = DatasetInfo(role=role.value, file=f"{role.value}.csv", sha256="0" * 64,
                       records=len(ids), format="csv", columns={})
    return Cohort(role=role, ids=ids, sequences=tuple("x" for _ in ids), subgroups={}, info=info)


class _Extracting:
    id, title, family, question, citation = "toy", "Toy", "extraction", "Q?", "none"
    config_type = _Settings

    def run(self, config: _Settings, ctx: object) -> ProbeOutcome:
        return ProbeOutcome(verdict=Verdict.FAIL, headline=Headline(label="l", value=1.0, text="t"),
                            metrics={}, findings=(), scores={Role.MEMBERS: np.zeros(3)},
                            extracted=((Role.MEMBERS, 2), (Role.NON_MEMBERS, 0)))


def test_extracted_records_are_named_the_same_fresh_resumed_and_from_an_older_checkpoint() -> None:
    cohorts = {Role.MEMBERS: _cohort(Role.MEMBERS, ("m0", "m1", "m2")),
               Role.NON_MEMBERS: _cohort(Role.NON_MEMBERS, ("n0",))}
    key = b"k" * 32
    ctx = SimpleNamespace(progress=SimpleNamespace(advance=lambda *_: None))
    fresh = run_probe(_Extracting(), _Settings(), ctx, _Settings())
    assert fresh.verdict is Verdict.FAIL and fresh.error is None
    resumed = decode_probe(encode_probe(fresh))
    older = replace(resumed, extracted=tuple({"role": e["role"], "index": int(e["index"])}
                                             for e in resumed.extracted))
    expected = ({"role": "members", "id": "m2", "ref": pseudonym(key, "members", "m2")},
                {"role": "non_members", "id": "n0", "ref": pseudonym(key, "non_members", "n0")})
    for result in (fresh, resumed, older):
        assert with_refs(result, cohorts, key).extracted == expected
