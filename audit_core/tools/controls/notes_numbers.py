"""Synthetic notes that also carry the cue-bound and network identifiers (Safe Harbor items
I-O and R): a health-plan member id, an account number, an implant's serial number, a
patient-portal URL and the IP address of the patient's remote monitor.

`with_numbers` extends `controls.notes` patients without touching their draws (its own
generator, seeded separately), so the committed notes control and its model stay what
`make notes-control` built; the identifier known-answer tests pair these notes with a
stand-in memorizing model instead of retraining one (about 20 minutes on a laptop).

Every value is synthetic on its face: member, account, serial, licence and claim numbers
start with `SYN`, the VIN with `SYNTH`, URLs use the reserved example.org domain
(RFC 2606) and IP addresses the documentation ranges 192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24 (RFC 5737) and 2001:db8::/32 (RFC 3849).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from audit_core.tools.controls.notes import NotesPatient

# The extra identifier kinds, as NotesPatient.identifiers keys.
NUMBER_KINDS = ("member_id", "account", "licence", "vin", "serial", "portal", "ip", "ipv6", "claim")
_TEST_NETS = ("192.0.2", "198.51.100", "203.0.113")


def _digits(rng: np.random.Generator, count: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, size=count))


def _numbers(rng: np.random.Generator) -> dict[str, str]:
    return {
        "member_id": f"SYNH{_digits(rng, 7)}",
        "account": f"SYNA-{_digits(rng, 7)}",
        "licence": f"SYNL{_digits(rng, 6)}",
        "vin": f"SYNTH{_digits(rng, 12)}",
        "serial": f"SYN{_digits(rng, 6)}",
        "portal": f"https://portal.example.org/p/SYNP{_digits(rng, 6)}",
        "ip": f"{_TEST_NETS[rng.integers(len(_TEST_NETS))]}.{int(rng.integers(1, 255))}",
        "ipv6": f"2001:db8::{int(rng.integers(1, 0xffff)):x}:{int(rng.integers(1, 0xffff)):x}",
        "claim": f"SYNC{_digits(rng, 6)}",
    }


def with_numbers(patients: Sequence[NotesPatient], *, seed: int) -> list[NotesPatient]:
    """`patients` with the extra identifiers in their identifiers and in every note's
    banner (after the SSN, before the visit), one space between tokens like the rest."""
    rng = np.random.default_rng([seed, 0x5A4E])  # apart from the notes' own draws
    out = []
    taken: set[str] = set()
    for patient in patients:
        # Distinct values, so that a leaked one points at one patient only (the test nets
        # hold 762 IPv4 addresses: enough for a control, not for thousands of patients).
        for _ in range(100):
            ids = _numbers(rng)
            if taken.isdisjoint(ids.values()):
                break
        else:
            raise ValueError(f"cannot draw distinct synthetic identifiers for {len(patients)} patients")
        taken.update(ids.values())
        banner = (f"Member ID {ids['member_id']} Acct # {ids['account']} . "
                  f"Driver's license {ids['licence']} VIN {ids['vin']} . "
                  f"Pacemaker S/N {ids['serial']} . Portal {ids['portal']} . "
                  f"Monitor IP {ids['ip']} IPv6 {ids['ipv6']} . Claim # {ids['claim']} . ")
        notes = tuple(note.replace(" Seen on ", f" {banner}Seen on ", 1) for note in patient.notes)
        out.append(dataclasses.replace(patient, identifiers={**patient.identifiers, **ids}, notes=notes))
    return out
