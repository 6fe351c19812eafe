"""Which records of a cohort hold a given identifier value.

Built by running the detector over every record, so a generated value is matched with
the same rules and the same normalization as the training text. Phone and fax numbers
share one namespace (a fax number written out as a phone number is still that patient's),
and so do medical record numbers and the other cued numbers: a note's "patient ID" is
most often the MRN, and a generated "patient ID" holding a training patient's MRN is that
MRN leaking.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from audit_core.identifiers.detector import Detection, detect

_SAME_NAMESPACE = {"fax": "phone", "other_id": "mrn"}
# A value two patients happen to share (a common date) is not a template.
_MIN_RECORDS_SHARING = 3


def _namespace(category: str) -> str:
    return _SAME_NAMESPACE.get(category, category)


class IdentifierIndex:
    def __init__(self, texts: Sequence[str]) -> None:
        self._owners: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.per_record: list[set[tuple[str, str]]] = []
        for index, text in enumerate(texts):
            keys = {(_namespace(d.category), d.key) for d in detect(text)}
            self.per_record.append(keys)
            for key in keys:
                self._owners[key].add(index)

    def owners(self, detection: Detection) -> frozenset[int]:
        return frozenset(self._owners.get((_namespace(detection.category), detection.key), ()))

    def frequent_keys(self, share: float) -> set[tuple[str, str]]:
        """Values held by at least `share` of the records (and by three at least)."""
        needed = max(_MIN_RECORDS_SHARING, math.ceil(share * len(self.per_record)))
        return {key for key, owners in self._owners.items() if len(owners) >= needed}

    def values(self) -> int:
        return len(self._owners)


def keys_of(text: str) -> set[tuple[str, str]]:
    return {(_namespace(d.category), d.key) for d in detect(text)}


def namespaced(detection: Detection) -> tuple[str, str]:
    return _namespace(detection.category), detection.key


def template_keys(members: IdentifierIndex, non_members: IdentifierIndex, share: float) -> frozenset[tuple[str, str]]:
    """Identifier values written in at least `share` of the members' records AND of the
    non-members' (and in three records of each at least): template text, such as the clinic's
    phone number in every note's header. The rule of clinical/templates.py for token runs,
    applied to whole values, so that a number split over several tokens is judged whole. A
    model that writes one leaks no patient; one common among members only is not template."""
    return frozenset(members.frequent_keys(share) & non_members.frequent_keys(share))
